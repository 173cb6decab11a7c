"""Month close artifacts (at close) and their reproduction from raw (`brightcart reproduce`).

At close, `record_close_artifacts` exports each finance mart's month (review policy: schema or
owner) from prod as a CSV artifact and records its sha256, the model's fingerprint and version.

`reproduce_month` then, at any later time:

1. reads the close: its recorded snapshots and artifacts, and checks every stored artifact still
   has its recorded sha256 (a changed artifact is reported, never silently used);
2. loads the model versions recorded at close from SQLMesh state (every finance mart and every
   model it reads, down to raw) into a scratch environment and builds the month from raw;
3. exports the same artifacts from the scratch environment and compares them byte for byte; when
   they differ it lists the differing rows (paired by the mart's grain) and counts the raw rows
   that landed after the close in the raw tables those models read;
4. records the result (ops.month_close_reproductions and an audit-trail event) and removes the
   scratch environment.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from brightcart_ops.closing import artifact, scratch
from brightcart_ops.closing.marts import ancestors, finance_marts
from brightcart_ops.opslog import SCHEMA, ensure, new_id, utcnow
from brightcart_ops.review.planinfo import short
from brightcart_ops.review.policy import Policy
from brightcart_ops.review.policy import load as load_policy
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_ops.sqlmesh_context import close_context, open_context
from brightcart_ops.warehouse import Warehouse

REPRODUCTIONS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.month_close_reproductions (
    reproduction_id VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    close_id VARCHAR NOT NULL,
    reproduced_at TIMESTAMPTZ NOT NULL,
    actor VARCHAR NOT NULL,
    identical BOOLEAN NOT NULL,             -- every artifact byte-identical
    checksums VARCHAR(65535) NOT NULL,      -- JSON: model -> recorded, reproduced sha256, rows
    differing_rows BIGINT NOT NULL,
    late_raw_rows VARCHAR(65535) NOT NULL   -- JSON: raw table -> rows landed after the close
)
"""
MAX_LISTED = 200


class ReproduceError(RuntimeError):
    """The month cannot be reproduced as asked (the message says what to do)."""


@dataclass
class ModelReproduction:
    model: str
    recorded_sha256: str
    reproduced_sha256: str
    recorded_rows: int
    reproduced_rows: int
    stored_sha256: str  # of the stored artifact as read now
    differences: list[str] = field(default_factory=list)

    @property
    def identical(self) -> bool:
        return self.recorded_sha256 == self.reproduced_sha256 == self.stored_sha256


@dataclass
class MonthReproduction:
    month: str
    close_id: str
    closed_at: datetime
    models: list[ModelReproduction]
    late_raw_rows: dict[str, int]
    folder: Path
    reproduction_id: str = field(default_factory=lambda: new_id()[:12])

    @property
    def identical(self) -> bool:
        return bool(self.models) and all(m.identical for m in self.models)


def record_close_artifacts(
    close_id: str,
    month: str,
    warehouse: Warehouse,
    project: Path = PROJECT_ROOT,
    gateway: str = "local",
    policy: Policy | None = None,
) -> list[artifact.RecordedArtifact]:
    """Export and record every finance mart's month from prod (called by close_month)."""
    policy = policy or load_policy()
    context = open_context(project, gateway)
    try:
        state = context.state_reader
        prod = state.get_environment("prod")
        if prod is None:
            return []
        snapshots = state.get_snapshots([s.snapshot_id for s in prod.snapshots]).values()
        marts = finance_marts(snapshots, policy)
    finally:
        close_context(context)
    out = []
    for mart in marts:
        if mart.time_column is None:
            continue  # no month to cut: not a monthly artifact
        exported = artifact.export(
            warehouse, f"{mart.schema}.{mart.table}", mart.time_column, month, mart.name
        )
        item = artifact.RecordedArtifact(
            close_id=close_id,
            month=month,
            model=mart.name,
            fingerprint=mart.fingerprint,
            version=mart.version,
            time_column=mart.time_column,
            grain=mart.grain,
            row_count=exported.row_count,
            sha256=exported.sha256,
            location=artifact.store(exported, month, close_id, warehouse.settings.home),
        )
        artifact.record(warehouse, item)
        out.append(item)
    return out


def _close_row(warehouse: Warehouse, month: str) -> tuple[str, datetime, list[dict[str, str]]]:
    from brightcart_ops.month_close import CLOSE_DDL, FIGURES_DDL

    ensure(warehouse, [CLOSE_DDL, FIGURES_DDL])
    rows = warehouse.query(
        f"SELECT close_id, closed_at, snapshots FROM {SCHEMA}.month_close WHERE month = ?",
        (month,),
    )
    if not rows:
        raise ReproduceError(f"{month} has not been closed: run `brightcart close-month {month}`")
    closed_at = rows[0][1]
    if isinstance(closed_at, datetime) and closed_at.tzinfo is None:
        closed_at = closed_at.replace(tzinfo=UTC)
    return str(rows[0][0]), closed_at, json.loads(str(rows[0][2]))


def _recorded_snapshots(state: Any, recorded: list[dict[str, str]]) -> dict[str, Any]:
    from sqlmesh.core.snapshot import SnapshotId

    ids = [SnapshotId(name=r["name"], identifier=r["fingerprint"]) for r in recorded]
    found = {str(s.name): s for s in state.get_snapshots(ids).values()}
    return found


def _late_raw(
    warehouse: Warehouse, needed: set[str], by_name: dict[str, Any], closed_at: datetime
) -> dict[str, int]:
    """Rows landed after the close in the raw tables the rebuilt models read."""
    raw = sorted(n for n in needed if by_name[n].model.kind.is_symbolic)
    counts = {}
    for fqn in raw:
        schema, table = short(fqn).split(".")
        if not warehouse.table_exists(schema, table):
            continue
        columns = {
            str(r[0]).lower()
            for r in warehouse.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
                "AND table_name = ?",
                (schema, table),
            )
        }
        if "_loaded_at" not in columns:
            continue
        landed = warehouse.query(
            f"SELECT COUNT(*) FROM {schema}.{table} WHERE _loaded_at > ?", (closed_at,)
        )[0][0]
        if landed:
            counts[f"{schema}.{table}"] = int(landed)
    return counts


def reproduce_month(
    month: str,
    warehouse: Warehouse,
    project: Path = PROJECT_ROOT,
    gateway: str = "local",
) -> MonthReproduction:
    """Rebuild the closed month's finance marts from raw and compare the artifacts."""
    try:
        first, after = artifact.month_window(month)
    except ValueError as exc:
        raise ReproduceError(f"month {month!r} is not of the form YYYY-MM (e.g. 2026-11)") from exc
    close_id, closed_at, recorded_snapshots = _close_row(warehouse, month)
    recorded = artifact.recorded(warehouse, close_id)
    if not recorded:
        raise ReproduceError(
            f"the close {close_id} of {month} recorded no finance mart artifact, so there is "
            "nothing to compare byte for byte (closes made before artifacts were recorded)"
        )
    stored = {a.model: artifact.load(a.location) for a in recorded}
    context = open_context(project, gateway)
    try:
        by_name = _recorded_snapshots(context.state_reader, recorded_snapshots)
        gateway_config = context.config.get_gateway(gateway)
    finally:
        close_context(context)
    marts = {short(n): n for n in by_name}
    missing = sorted(a.model for a in recorded if a.model not in marts)
    if missing:
        raise ReproduceError(
            "the model versions recorded at close are no longer in SQLMesh state "
            f"({', '.join(missing)}); the janitor must keep closed versions (snapshot_ttl): "
            "restore the state from backup"
        )
    needed = ancestors([marts[a.model] for a in recorded], by_name)
    folder = warehouse.settings.home / "reproduce" / month / new_id()[:12]
    folder.mkdir(parents=True, exist_ok=True)
    box = scratch.create(
        [by_name[n] for n in sorted(needed)],
        gateway_config,
        folder,
        month.replace("-", ""),
    )
    results = []
    try:
        scratch.build(box, first, after)
        scratch.close(box)
        for item in recorded:
            schema, table = item.model.split(".")
            rebuilt = artifact.export(
                warehouse, box.view(schema, table), item.time_column, month, item.model
            )
            (folder / f"{item.model}.csv").write_bytes(rebuilt.data)
            data = stored[item.model]
            result = ModelReproduction(
                model=item.model,
                recorded_sha256=item.sha256,
                reproduced_sha256=rebuilt.sha256,
                recorded_rows=item.row_count,
                reproduced_rows=rebuilt.row_count,
                stored_sha256=artifact.Artifact(item.model, data, 0).sha256,
            )
            if result.stored_sha256 != item.sha256:
                result.differences.append(
                    f"the stored artifact {item.location} no longer has its recorded sha256"
                )
            if rebuilt.data != data:
                result.differences += artifact.differing_rows(data, rebuilt.data, item.grain)
            results.append(result)
    finally:
        scratch.remove(box)
    outcome = MonthReproduction(
        month=month,
        close_id=close_id,
        closed_at=closed_at,
        models=results,
        late_raw_rows=_late_raw(warehouse, needed, by_name, closed_at)
        if any(not m.identical for m in results)
        else {},
        folder=folder,
    )
    _write_differences(outcome)
    _record(warehouse, outcome)
    return outcome


def _write_differences(outcome: MonthReproduction) -> None:
    lines = [f"{m.model}: {d}" for m in outcome.models for d in m.differences]
    (outcome.folder / "differences.txt").write_text("".join(f"{x}\n" for x in lines))


def _record(warehouse: Warehouse, outcome: MonthReproduction) -> None:
    from brightcart_ops.audit_trail import identity, record_prod_event

    ensure(warehouse, [REPRODUCTIONS_DDL])
    actor, _ = identity("prod")
    checksums = {
        m.model: {
            "recorded": m.recorded_sha256,
            "reproduced": m.reproduced_sha256,
            "rows": [m.recorded_rows, m.reproduced_rows],
        }
        for m in outcome.models
    }
    warehouse.execute(
        f"INSERT INTO {SCHEMA}.month_close_reproductions VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            outcome.reproduction_id,
            outcome.month,
            outcome.close_id,
            utcnow(),
            actor,
            outcome.identical,
            json.dumps(checksums, sort_keys=True),
            sum(len(m.differences) for m in outcome.models),
            json.dumps(outcome.late_raw_rows, sort_keys=True),
        ),
    )
    record_prod_event(
        "reproduce",
        outcome.close_id,
        "prod",
        snapshots=[],
        audits=[
            {
                "control": "reproduce",
                "outcome": "identical" if outcome.identical else "different",
                "month": outcome.month,
                "reproduction_id": outcome.reproduction_id,
            }
        ],
        warehouse=warehouse,
        settings=warehouse.settings,
    )
