"""What promoting an environment to prod would do, read from SQLMesh (no apply).

`promotion_summary(context, environment)` builds the prod plan from the project files (exactly what
`sqlmesh plan prod` would build), checks that those files are what the reviewed environment holds,
and lists the models added, removed and changed (breaking or not, directly or through a parent),
the intervals prod would still backfill, and the window the environment computed.
`restatement_summary` does the same for `sqlmesh plan prod --restate-model ...`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from brightcart_ops.review.policy import Policy, schema_of
from brightcart_ops.review.store import fingerprint_digest

PROD = "prod"


class ReviewError(RuntimeError):
    """A review cannot be made as asked (the message says what to do)."""


def short(fqn: str) -> str:
    """'"warehouse"."marts_finance"."revenue_daily"' -> 'marts_finance.revenue_daily'."""
    parts = [p.strip('"') for p in fqn.split(".")]
    return ".".join(parts[-2:])


def fingerprints(snapshots: Iterable[Any]) -> dict[str, str]:
    """name -> fingerprint identifier of SQLMesh snapshots (SnapshotTableInfo or Snapshot)."""
    return {str(s.name): str(s.fingerprint.to_identifier()) for s in snapshots}


def versions(snapshots: Iterable[Any]) -> dict[str, str]:
    return {str(s.name): str(s.version) for s in snapshots}


def ms_to_dt(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def tidy_diff(text: str) -> str:
    """SQLMesh's unified diff without the empty lines its header lines leave behind."""
    return "\n".join(line for line in text.splitlines() if line.strip())


CATEGORY = {
    1: "breaking",
    2: "non-breaking",
    3: "forward-only",
    4: "indirect breaking",
    5: "indirect non-breaking",
    6: "metadata only",
}


@dataclass
class ModelChange:
    fqn: str
    change: str  # added, removed, changed
    category: str  # see CATEGORY; empty for added and removed models
    direct: bool
    finance: bool
    new_data: bool  # a new physical version: its rows may differ from prod's
    kind: str
    base_fingerprint: str = ""
    target_fingerprint: str = ""
    text_diff: str = ""

    @property
    def name(self) -> str:
        return short(self.fqn)


@dataclass
class Backfill:
    model: str
    intervals: int
    start: datetime
    end: datetime


@dataclass
class PromotionSummary:
    kind: str  # change or restatement
    environment: str
    plan_id: str
    base: dict[str, str]
    target: dict[str, str]
    changes: list[ModelChange]
    backfills: list[Backfill]
    restatements: dict[str, list[int]] = field(default_factory=dict)
    restated_finance: set[str] = field(default_factory=set)
    window: tuple[datetime, datetime] | None = None

    @property
    def base_digest(self) -> str:
        return fingerprint_digest(self.base)

    @property
    def target_digest(self) -> str:
        return fingerprint_digest(self.target)

    @property
    def finance(self) -> bool:
        return any(c.finance for c in self.changes) or bool(self.restated_finance)

    def restated(self) -> list[dict[str, Any]]:
        return [
            {
                "model": short(n),
                "fqn": n,
                "start": ms_to_dt(i[0]),
                "end": ms_to_dt(i[1]),
                "finance": n in self.restated_finance,
            }
            for n, i in sorted(self.restatements.items())
        ]


def _model_kind(snapshot: Any) -> str:
    model = getattr(snapshot, "model", None)
    kind = getattr(model, "kind", None)
    return str(getattr(kind, "name", "") or "").lower()


def _owner(snapshot: Any) -> str | None:
    model = getattr(snapshot, "model", None)
    owner = getattr(model, "owner", None)
    return str(owner) if owner else None


def _is_finance(policy: Policy, fqn: str, snapshot: Any) -> bool:
    return policy.is_finance(schema_of(fqn), _owner(snapshot))


def _window(snapshots: Sequence[Any]) -> tuple[datetime, datetime] | None:
    starts = [i[0] for s in snapshots for i in (getattr(s, "intervals", None) or [])]
    ends = [i[1] for s in snapshots for i in (getattr(s, "intervals", None) or [])]
    if not starts:
        return None
    return ms_to_dt(min(starts)), ms_to_dt(max(ends))


def _backfills(plan: Any) -> list[Backfill]:
    out = []
    for item in plan.missing_intervals:
        intervals = list(item.intervals)
        if intervals:
            out.append(
                Backfill(
                    short(item.snapshot_id.name),
                    len(intervals),
                    ms_to_dt(min(i[0] for i in intervals)),
                    ms_to_dt(max(i[1] for i in intervals)),
                )
            )
    return sorted(out, key=lambda b: b.model)


def _changes(
    plan: Any, base: Mapping[str, str], base_versions: Mapping[str, str], policy: Policy
) -> list[ModelChange]:
    diff = plan.context_diff
    by_name = {str(s.name): s for s in diff.snapshots.values()}
    target = fingerprints(plan.environment.snapshots)
    direct = {str(s.name) for s in plan.directly_modified}
    changes = []
    for fqn in sorted(set(target) | set(base)):
        snapshot = by_name.get(fqn)
        if fqn not in base:
            change, category, new_data = "added", "", True
        elif fqn not in target:
            change, category, new_data = "removed", "", True
        elif target[fqn] == base[fqn]:
            continue
        else:
            category_value = getattr(snapshot, "change_category", None)
            change = "changed"
            category = CATEGORY.get(int(category_value), "") if category_value else ""
            new_data = str(getattr(snapshot, "version", "")) != base_versions.get(fqn)
        text = ""
        if fqn in direct:
            try:
                text = tidy_diff(diff.text_diff(fqn))
            except Exception:  # noqa: BLE001 - a missing text diff must not stop the review
                text = ""
        changes.append(
            ModelChange(
                fqn=fqn,
                change=change,
                category=category,
                direct=fqn in direct or change != "changed",
                finance=_is_finance(policy, fqn, snapshot),
                new_data=new_data,
                kind=_model_kind(snapshot),
                base_fingerprint=base.get(fqn, ""),
                target_fingerprint=target.get(fqn, ""),
                text_diff=text,
            )
        )
    return changes


def _prod(context: Any) -> tuple[dict[str, str], dict[str, str]]:
    prod = context.state_reader.get_environment(PROD)
    if prod is None:
        return {}, {}
    return fingerprints(prod.snapshots), versions(prod.snapshots)


def promotion_summary(context: Any, environment: str, policy: Policy) -> PromotionSummary:
    """The reviewed environment against prod, as `sqlmesh plan prod` would promote it."""
    if environment == PROD:
        raise ReviewError("review a development environment (e.g. dev), not prod itself")
    env = context.state_reader.get_environment(environment)
    if env is None:
        raise ReviewError(
            f"there is no SQLMesh environment {environment!r}: run `sqlmesh plan {environment}`"
        )
    plan = context.plan_builder(PROD, skip_tests=True, skip_linter=True).build()
    target = fingerprints(plan.environment.snapshots)
    held = fingerprints(env.snapshots)
    if target != held:
        differing = sorted(short(n) for n in set(target) ^ set(held)) or sorted(
            short(n) for n in target if target[n] != held.get(n)
        )
        raise ReviewError(
            f"the project files differ from what environment {environment!r} holds "
            f"({', '.join(differing[:8])}): run `sqlmesh plan {environment}` and review again"
        )
    base, base_versions = _prod(context)
    if target == base:
        raise ReviewError(f"environment {environment!r} holds no model that differs from prod")
    changes = _changes(plan, base, base_versions, policy)
    state_snapshots = context.state_reader.get_snapshots(
        [s.snapshot_id for s in env.snapshots if str(s.name) in {c.fqn for c in changes}]
    )
    return PromotionSummary(
        kind="change",
        environment=environment,
        plan_id=str(env.plan_id),
        base=base,
        target=target,
        changes=changes,
        backfills=_backfills(plan),
        window=_window(list(state_snapshots.values())),
    )


def restatement_summary(
    context: Any, models: Sequence[str], start: str, end: str, policy: Policy
) -> PromotionSummary:
    """What `sqlmesh plan prod --restate-model ... --start --end` would recompute."""
    base, _ = _prod(context)
    if not base:
        raise ReviewError("prod does not exist yet: nothing to restate")
    plan = context.plan_builder(
        PROD,
        restate_models=list(models),
        start=start,
        end=end,
        skip_tests=True,
        skip_linter=True,
    ).build()
    target = fingerprints(plan.environment.snapshots)
    if target != base:
        raise ReviewError(
            "the project files differ from prod: review the change from a dev environment "
            "first; a restatement review covers unchanged models only"
        )
    if not plan.restatements:
        raise ReviewError(f"no model matches {', '.join(models)}: nothing to restate")
    by_name = {str(s.name): s for s in plan.context_diff.snapshots.values()}
    restatements = {str(sid.name): [int(i[0]), int(i[1])] for sid, i in plan.restatements.items()}
    return PromotionSummary(
        kind="restatement",
        environment=PROD,
        plan_id=str(plan.plan_id),
        base=base,
        target=target,
        changes=[],
        backfills=_backfills(plan),
        restatements=restatements,
        restated_finance={n for n in restatements if _is_finance(policy, n, by_name.get(n))},
        window=(
            ms_to_dt(min(i[0] for i in restatements.values())),
            ms_to_dt(max(i[1] for i in restatements.values())),
        ),
    )
