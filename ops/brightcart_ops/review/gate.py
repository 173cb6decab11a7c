"""The promotion gate: a prod plan is applied only with an approved review that matches it.

SQLMesh calls this through the project's plan evaluator (brightcart_sqlmesh.gate) before it
evaluates any plan, so the plain `sqlmesh plan prod` a data engineer types is gated as well as
every wrapper. Rules, for a plan that targets prod:

* its model fingerprints (every model, name -> fingerprint) differ from prod's: an approved review
  of exactly these fingerprints on top of exactly today's prod is required;
* it restates finance marts: an approved restatement review covering each finance model and
  window is required;
* otherwise (no model change, nothing of finance restated) it is allowed: it only fills intervals.

Approvals are judged again here (author is not the approver, finance group for finance marts,
report unchanged, not older than the policy allows). Every decision is an event in the audit trail.
`BRIGHTCART_EMERGENCY_PROMOTION="<reason>"` lets a plan through without approval: recorded as an
emergency and alerted; the alert stays open until a review of the same fingerprints is approved
(`brightcart audit check`).

The gate is enforced on the redshift gateway (production) always; elsewhere when
BRIGHTCART_PROMOTION_GATE=enforce (the local world defaults to off).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

from sqlmesh.utils.errors import SQLMeshError

from brightcart_ops.opslog import utcnow
from brightcart_ops.review.planinfo import PROD, fingerprints, ms_to_dt, short
from brightcart_ops.review.policy import Policy, schema_of
from brightcart_ops.review.policy import load as load_policy
from brightcart_ops.review.rules import approval_problems
from brightcart_ops.review.store import ReviewRecord, ReviewStore, fingerprint_digest
from brightcart_ops.warehouse import Warehouse

EMERGENCY_VARIABLE = "BRIGHTCART_EMERGENCY_PROMOTION"
MODE_VARIABLE = "BRIGHTCART_PROMOTION_GATE"
ENFORCED_GATEWAYS = frozenset({"redshift"})
log = logging.getLogger(__name__)


def gate_mode(gateway: str) -> str:
    """enforce or off. Production (redshift) is always enforced."""
    requested = os.environ.get(MODE_VARIABLE, "").strip().lower()
    if gateway in ENFORCED_GATEWAYS:
        if requested == "off":
            log.warning("%s=off is ignored on the %s gateway", MODE_VARIABLE, gateway)
        return "enforce"
    return "enforce" if requested == "enforce" else "off"


@dataclass
class PlanFacts:
    """What the gate needs to know about a plan (read from SQLMesh's EvaluatablePlan)."""

    plan_id: str
    environment: str
    target: dict[str, str]
    versions: dict[str, str]
    restatements: dict[str, tuple[int, int]]
    owners: dict[str, str | None] = field(default_factory=dict)


@dataclass
class Decision:
    allowed: bool
    outcome: str  # approved, no change, emergency, gate off, refused
    reasons: list[str] = field(default_factory=list)
    review_id: str = ""
    approval_id: str = ""
    approver: str = ""
    restatement_review_id: str = ""

    def message(self, facts: PlanFacts, base: Mapping[str, str]) -> str:
        changed = sorted(
            short(n) for n in set(facts.target) | set(base) if facts.target.get(n) != base.get(n)
        )
        lines = [
            f"promotion of plan {facts.plan_id} to prod refused by the review gate "
            f"(fingerprints {fingerprint_digest(facts.target)[:16]} on prod "
            f"{fingerprint_digest(base)[:16]})."
        ]
        if changed:
            lines.append("Models that change: " + ", ".join(changed[:20]))
        lines += [f"- {reason}" for reason in self.reasons]
        lines.append(
            "Next: `brightcart review <env>` (or `brightcart review prod --restate-model ...` for "
            "a restatement), an approval by someone else with `brightcart approve <review-id>`, "
            f"then the same `sqlmesh plan prod`. Emergency only: {EMERGENCY_VARIABLE}='<reason>' "
            "(recorded and alerted)."
        )
        return "\n".join(lines)


def facts_from_plan(plan: Any, state_reader: Any) -> PlanFacts:
    target_snapshots = list(plan.environment.snapshots)
    owners: dict[str, str | None] = {}
    new = {str(s.name): s for s in plan.new_snapshots}
    restated = set(plan.restatements)
    wanted = [s.snapshot_id for s in target_snapshots if str(s.name) in restated | set(new)]
    stored = state_reader.get_snapshots([sid for sid in wanted if str(sid.name) not in new])
    for snapshot in [*new.values(), *stored.values()]:
        model = getattr(snapshot, "model", None)
        owners[str(snapshot.name)] = getattr(model, "owner", None)
    return PlanFacts(
        plan_id=str(plan.plan_id),
        environment=str(plan.environment.name),
        target=fingerprints(target_snapshots),
        versions={str(s.name): str(s.version) for s in target_snapshots},
        restatements={str(n): (int(i[0]), int(i[1])) for n, i in plan.restatements.items()},
        owners=owners,
    )


def valid_approval(
    review: ReviewRecord, store: ReviewStore, policy: Policy, now: datetime | None
) -> tuple[Any, list[str]]:
    """The first approval of the review that stands (and why the others do not). Without `now`
    the approval's age is not judged (an emergency approved after the fact)."""
    problems: list[str] = []
    approvals = store.approvals(review.review_id)
    if not approvals:
        return None, [f"review {review.review_id} covers this plan but nobody approved it"]
    for approval in approvals:
        approved_at = approval.approved_at if now is not None else None
        issues = approval_problems(review, approval.approver, policy, approved_at, now)
        if approval.report_sha256 != review.report_sha256:
            issues.append("the approval names another report than the review's")
        if approval.target_digest != review.target_digest:
            issues.append("the approval names other fingerprints than the review's")
        if not issues:
            return approval, []
        where = f"approval {approval.approval_id} of review {review.review_id}"
        problems += [f"{where}: {issue}" for issue in issues]
    return None, problems


def _finance_restated(facts: PlanFacts, policy: Policy) -> dict[str, tuple[int, int]]:
    return {
        n: i
        for n, i in facts.restatements.items()
        if policy.is_finance(schema_of(n), facts.owners.get(n))
    }


def _window(name: str, interval: tuple[int, int]) -> str:
    start, end = interval
    return f"{short(name)} {ms_to_dt(start):%Y-%m-%d %H:%M}..{ms_to_dt(end):%Y-%m-%d %H:%M}"


def _uncovered(review: ReviewRecord, wanted: Mapping[str, tuple[int, int]]) -> list[str]:
    """The restated windows the review does not cover.

    SQLMesh restates the models below a restated one up to the present, so their windows end
    where the clock was when the plan was made: an hourly model's at the hour begun last. A
    window the review saw running to its present (ending at or after the hour before the one it
    was made in) covers the same window running on to a later present: an approval made at 16:55
    and applied at 17:05 still covers the hour added in between, and nothing earlier."""
    made = review.created_at.astimezone(UTC).replace(minute=0, second=0, microsecond=0)
    present = int((made - timedelta(hours=1)).timestamp() * 1000)
    missing = []
    for name, interval in sorted(wanted.items()):
        have = review.restatements.get(name)
        covered = (
            have is not None
            and have[0] <= interval[0]
            and (interval[1] <= have[1] or have[1] >= present)
        )
        if not covered:
            missing.append(_window(name, interval))
    return missing


def decide(
    facts: PlanFacts,
    base: Mapping[str, str],
    store: ReviewStore,
    policy: Policy,
    now: datetime,
    mode: str = "enforce",
    emergency: str = "",
) -> Decision:
    """The gate's decision for one prod plan (nothing recorded here)."""
    if facts.environment != PROD:
        return Decision(True, "not prod")
    if mode != "enforce":
        return Decision(True, "gate off")
    if emergency.strip():
        return Decision(True, "emergency", [emergency.strip()])
    decision = Decision(True, "no change")
    base_digest = fingerprint_digest(base)
    if dict(facts.target) != dict(base):
        decision.outcome = "approved"
        target_digest = fingerprint_digest(facts.target)
        reviews = store.reviews_for(target_digest, kind="change")
        if not reviews:
            decision.allowed = False
            decision.reasons.append(
                f"no review covers these fingerprints ({target_digest[:16]}); the plan promotes "
                "files that no `brightcart review` has seen"
            )
        for review in reviews:
            if review.base_digest != base_digest:
                decision.reasons.append(
                    f"review {review.review_id} was made against another prod (prod changed "
                    "since); review again"
                )
                continue
            approval, problems = valid_approval(review, store, policy, now)
            if approval is not None:
                decision.review_id, decision.approval_id = review.review_id, approval.approval_id
                decision.approver = approval.approver
                break
            decision.reasons += problems
        if not decision.approval_id:
            decision.allowed = False
    wanted = _finance_restated(facts, policy)
    if wanted:
        candidates = store.reviews_for(base_digest, kind="restatement")
        missing = [_window(n, i) for n, i in sorted(wanted.items())]
        for review in candidates:
            if _uncovered(review, wanted):
                continue
            approval, problems = valid_approval(review, store, policy, now)
            if approval is not None:
                decision.restatement_review_id = review.review_id
                decision.approver = decision.approver or approval.approver
                missing = []
                break
            decision.reasons += problems
        if missing:
            decision.allowed = False
            decision.reasons.append(
                "restating finance marts needs an approved restatement review covering: "
                + ", ".join(missing)
            )
        elif decision.outcome == "no change":
            decision.outcome = "approved"
    if not decision.allowed:
        decision.outcome = "refused"
    return decision


def _snapshot_records(facts: PlanFacts) -> list[dict[str, str]]:
    return [
        {"name": n, "fingerprint": f, "version": facts.versions.get(n, "")}
        for n, f in sorted(facts.target.items())
    ]


def record(decision: Decision, facts: PlanFacts, warehouse: Warehouse) -> None:
    """The decision as an audit-trail event; an emergency also raises an alert."""
    from brightcart_ops.audit_trail import record_prod_event

    kind = {
        "refused": "promotion_refused",
        "emergency": "emergency_promotion",
    }.get(decision.outcome, "promotion_gate")
    control = {
        "control": "promotion_gate",
        "outcome": decision.outcome,
        "review_id": decision.review_id,
        "approval_id": decision.approval_id,
        "restatement_review_id": decision.restatement_review_id,
        "approver": decision.approver,
        "target_digest": fingerprint_digest(facts.target),
        "reasons": " | ".join(decision.reasons)[:2000],
    }
    event = record_prod_event(
        kind,
        facts.plan_id,
        PROD,
        snapshots=_snapshot_records(facts),
        audits=[control],
        warehouse=warehouse,
        settings=warehouse.settings,
    )
    if decision.outcome == "emergency":
        from brightcart_ops.alerts import Alert, Alerter

        actor = event.actor if event else "unknown"
        Alerter(warehouse).raise_(
            Alert(
                kind="change_control",
                key=f"emergency:{facts.plan_id}",
                subject=f"emergency promotion to prod without approval: plan {facts.plan_id} "
                f"by {actor}",
                detail=f"reason: {decision.reasons[0] if decision.reasons else '-'}\n"
                f"fingerprints {fingerprint_digest(facts.target)}. Review and approve the "
                "same fingerprints after the fact; `brightcart audit check` then resolves this.",
            )
        )


class PromotionRefused(SQLMeshError):
    """Raised into SQLMesh to stop a plan before anything is applied (the CLI prints it)."""


def check_plan(
    plan: Any,
    state_reader: Any,
    gateway: str,
    warehouse: Warehouse | None = None,
    policy: Policy | None = None,
    now: datetime | None = None,
) -> Decision:
    """Decide, record and (for a refusal) raise PromotionRefused. Called before evaluation."""
    if plan.is_dev or str(plan.environment.name) != PROD:
        return Decision(True, "not prod")
    mode = gate_mode(gateway)
    if mode != "enforce":
        return Decision(True, "gate off")
    facts = facts_from_plan(plan, state_reader)
    prod = state_reader.get_environment(PROD)
    base = fingerprints(prod.snapshots) if prod is not None else {}
    warehouse = warehouse or Warehouse(gateway_name=gateway)
    store = ReviewStore(warehouse)
    decision = decide(
        facts,
        base,
        store,
        policy or load_policy(),
        now or utcnow(),
        mode,
        os.environ.get(EMERGENCY_VARIABLE, ""),
    )
    record(decision, facts, warehouse)
    if not decision.allowed:
        raise PromotionRefused(decision.message(facts, base))
    return decision
