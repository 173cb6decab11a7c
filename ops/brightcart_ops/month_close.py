"""Month-end close: freeze a month's finance figures with a checksum; reproduce them later.

`close_month("2026-11")` reads revenue by UTC day and channel for the month from
marts_finance.revenue_daily (the prod view), stores every figure in ops.month_close_figures and
one row in ops.month_close with a sha256 checksum of the figures, the SQLMesh snapshots (name,
fingerprint, version, physical table) of the prod environment at that moment, the git commit and
who closed it. The close is also an audit-trail event.

`reproduce("2026-11")` (1) recomputes the checksum of the frozen figures (a changed frozen row is
detected) and (2) recomputes the figures from the recorded snapshot's physical table (SQLMesh
keeps a table per model version; the janitor must keep closed versions, see docs/operations.md)
and compares them figure by figure.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from decimal import Decimal
from pathlib import Path
from typing import Any

from brightcart_ops.audit_trail import git_commit, identity, record_prod_event
from brightcart_ops.opslog import SCHEMA, ensure, new_id, utcnow
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_ops.warehouse import Warehouse

MODEL = "marts_finance.revenue_daily"
MEASURES = ("net_sales", "refunds", "net_revenue", "commission_revenue")

CLOSE_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.month_close (
    close_id VARCHAR NOT NULL,
    month VARCHAR NOT NULL,             -- YYYY-MM
    closed_at TIMESTAMPTZ NOT NULL,
    actor VARCHAR NOT NULL,
    git_commit VARCHAR NOT NULL,
    model VARCHAR NOT NULL,             -- the model the figures come from
    physical_table VARCHAR NOT NULL,    -- its snapshot table at close time
    snapshots VARCHAR(65535) NOT NULL,  -- JSON: prod snapshots (name, fingerprint, version, table)
    row_count BIGINT NOT NULL,
    net_revenue DECIMAL(18, 2) NOT NULL,
    checksum VARCHAR NOT NULL           -- sha256 of the canonical figure lines
)
"""
FIGURES_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.month_close_figures (
    close_id VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    revenue_date DATE NOT NULL,
    channel VARCHAR NOT NULL,
    net_sales DECIMAL(18, 2) NOT NULL,
    refunds DECIMAL(18, 2) NOT NULL,
    net_revenue DECIMAL(18, 2) NOT NULL,
    commission_revenue DECIMAL(18, 2) NOT NULL
)
"""


class CloseError(RuntimeError):
    """The month cannot be closed or reproduced as asked."""


Figure = tuple[date, str, Decimal, Decimal, Decimal, Decimal]


@dataclass
class Reproduction:
    month: str
    recorded_checksum: str
    frozen_checksum: str
    recomputed_checksum: str
    diff: list[str] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.recorded_checksum == self.frozen_checksum == self.recomputed_checksum


def month_bounds(month: str) -> tuple[date, date]:
    try:
        year, mon = (int(p) for p in month.split("-"))
        first = date(year, mon, 1)
    except ValueError as exc:
        raise CloseError(f"month {month!r} is not of the form YYYY-MM (e.g. 2026-11)") from exc
    nxt = date(year + (mon == 12), 1 if mon == 12 else mon + 1, 1)
    return first, nxt


def figures_sql(table: str) -> str:
    cents = ", ".join(f"CAST(coalesce(sum({m}), 0) AS DECIMAL(18, 2))" for m in MEASURES)
    return (
        f"SELECT revenue_date, coalesce(channel, 'unknown') AS channel, {cents} FROM {table} "
        "WHERE revenue_date >= ? AND revenue_date < ? GROUP BY 1, 2 ORDER BY 1, 2"
    )


def _figures(rows: Sequence[Sequence[Any]]) -> list[Figure]:
    out: list[Figure] = []
    for r in rows:
        day = r[0] if isinstance(r[0], date) else date.fromisoformat(str(r[0]))
        amounts = [Decimal(str(v)).quantize(Decimal("0.01")) for v in r[2:6]]
        out.append((day, str(r[1]), amounts[0], amounts[1], amounts[2], amounts[3]))
    return sorted(out, key=lambda f: (f[0], f[1]))


def checksum(figures: Sequence[Figure]) -> str:
    lines = "\n".join(
        "|".join(str(v) for v in f) for f in sorted(figures, key=lambda f: (f[0], f[1]))
    )
    return hashlib.sha256(lines.encode()).hexdigest()


def prod_snapshots(project: Path, gateway: str) -> list[dict[str, str]]:
    """The prod environment's snapshots from SQLMesh state: name, fingerprint, version, table."""
    from sqlmesh import Context

    context = Context(paths=str(project), gateway=gateway)
    try:
        env = context.state_reader.get_environment("prod")
        if env is None:
            raise CloseError("SQLMesh has no prod environment yet: run `sqlmesh plan prod` first")
        return sorted(
            (
                {
                    "name": s.name,
                    "fingerprint": s.fingerprint.to_identifier(),
                    "version": s.version,
                    "table": s.table_name(),
                }
                for s in env.snapshots
            ),
            key=lambda r: r["name"],
        )
    finally:
        context.close()


def _model_snapshot(snapshots: list[dict[str, str]], model: str) -> dict[str, str]:
    wanted = [p.strip('"') for p in model.split(".")]
    for snap in snapshots:
        parts = [p.strip('"') for p in snap["name"].split(".")]
        if parts[-len(wanted) :] == wanted:
            return snap
    raise CloseError(f"{model} is not in the prod environment; apply it with `sqlmesh plan prod`")


def close_month(
    month: str,
    warehouse: Warehouse,
    project: Path = PROJECT_ROOT,
    gateway: str = "local",
    model: str = MODEL,
) -> tuple[str, str]:
    """Freeze the month; returns (close_id, checksum). A second close of a month is refused."""
    first, nxt = month_bounds(month)
    ensure(warehouse, [CLOSE_DDL, FIGURES_DDL])
    existing = warehouse.query(
        f"SELECT close_id, checksum FROM {SCHEMA}.month_close WHERE month = ?", (month,)
    )
    if existing:
        raise CloseError(
            f"{month} is already closed (close {existing[0][0]}, checksum {existing[0][1]}); "
            f"run `brightcart reproduce {month}` to verify it"
        )
    snapshots = prod_snapshots(project, gateway)
    table = _model_snapshot(snapshots, model)["table"]
    figures = _figures(warehouse.query(figures_sql(model), (first, nxt)))
    if not figures:
        raise CloseError(f"{model} has no rows for {month}: run the transform first")
    digest = checksum(figures)
    close_id = new_id()
    actor, _ = identity("prod")
    with warehouse.connect() as con:
        cur = con.cursor()
        for f in figures:
            cur.execute(
                warehouse._sql(
                    f"INSERT INTO {SCHEMA}.month_close_figures VALUES (?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                (close_id, month, *f),
            )
        cur.execute(
            warehouse._sql(
                f"INSERT INTO {SCHEMA}.month_close VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
            ),
            (
                close_id,
                month,
                utcnow(),
                actor,
                git_commit(),
                model,
                table,
                json.dumps(snapshots, sort_keys=True),
                len(figures),
                sum((f[4] for f in figures), Decimal("0.00")),
                digest,
            ),
        )
    # Each finance mart's month as a byte-exact artifact, for `brightcart reproduce`.
    from brightcart_ops.closing.reproduce import record_close_artifacts

    record_close_artifacts(close_id, month, warehouse, project, gateway)
    record_prod_event("close_month", close_id, "prod", snapshots, [], warehouse, warehouse.settings)
    return close_id, digest


def reproduce(month: str, warehouse: Warehouse) -> Reproduction:
    """Check the frozen figures and recompute them from the recorded model version."""
    first, nxt = month_bounds(month)
    ensure(warehouse, [CLOSE_DDL, FIGURES_DDL])
    rows = warehouse.query(
        f"SELECT close_id, checksum, physical_table FROM {SCHEMA}.month_close WHERE month = ?",
        (month,),
    )
    if not rows:
        raise CloseError(f"{month} has not been closed: run `brightcart close-month {month}`")
    close_id, recorded, table = str(rows[0][0]), str(rows[0][1]), str(rows[0][2])
    frozen = _figures(
        warehouse.query(
            f"SELECT revenue_date, channel, {', '.join(MEASURES)} FROM "
            f"{SCHEMA}.month_close_figures WHERE close_id = ?",
            (close_id,),
        )
    )
    try:
        recomputed = _figures(warehouse.query(figures_sql(table), (first, nxt)))
    except Exception as exc:
        raise CloseError(
            f"the recorded model version's table {table} cannot be read ({exc}); it must be kept "
            "for closed months (SQLMesh janitor / snapshot TTL): restore it from backup"
        ) from exc
    result = Reproduction(month, recorded, checksum(frozen), checksum(recomputed))
    by_key = {(f[0], f[1]): f for f in frozen}
    again = {(f[0], f[1]): f for f in recomputed}
    for key in sorted(set(by_key) | set(again)):
        if by_key.get(key) != again.get(key):
            result.diff.append(
                f"{key[0]} {key[1]}: frozen {by_key.get(key, '-')} vs "
                f"recomputed {again.get(key, '-')}"
            )
    if result.frozen_checksum != recorded:
        result.diff.insert(0, f"frozen figures no longer match the recorded checksum {recorded}")
    return result
