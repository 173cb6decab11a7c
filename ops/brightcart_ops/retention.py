"""Retention of the raw landing (90 days) and of curated history (3 years).

Raw tables are append-only version logs, so retention depends on the table:

Which rule a raw table follows comes from the lane registry (meltano.yml): a stream declared with
`versions` is a version log, any other ages out by its window column.

* append-only (raw_events.events by `received_at`, the landing time of the event, so late events
  are kept by their arrival; raw_events.events_quarantine by its window column): rows older than
  the horizon.
* version logs (raw_shop.*, raw_crm.*, raw_marketing.ad_spend): only versions that are
  SUPERSEDED by a newer version of the same record and were loaded (`_loaded_at`) before the
  horizon. The latest version of every record (a tombstone included) is never removed, so
  staging, which reads the latest version, is unchanged by retention.
* curated marts (3 years): rows of the INCREMENTAL_BY_TIME_RANGE facts whose time column is
  older than the horizon, deleted from the table behind the prod view (see docs/operations.md).

Every deletion is counted in ops.retention_runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime, timedelta

from brightcart_ops.opslog import SCHEMA, ensure, new_id, utcnow
from brightcart_ops.registry import registry
from brightcart_ops.warehouse import Warehouse

RAW_DAYS = 90
CURATED_DAYS = 3 * 365 + 1

RETENTION_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.retention_runs (
    run_id VARCHAR NOT NULL,
    ran_at TIMESTAMPTZ NOT NULL,
    table_name VARCHAR NOT NULL,     -- schema.table
    rule VARCHAR NOT NULL,           -- age, superseded, curated
    horizon TIMESTAMPTZ NOT NULL,    -- rows older than this were eligible
    rows_before BIGINT NOT NULL,
    rows_deleted BIGINT NOT NULL
)
"""


def version_logs() -> dict[str, tuple[tuple[str, ...], tuple[str, ...]]]:
    """raw table -> (key columns, version order columns, most significant first), for every
    stream the lane registry declares with `versions`."""
    return {
        f"{lane.raw_schema}.{stream.table}": (stream.key, stream.versions)
        for lane in registry().lanes.values()
        for stream in lane.streams
        if stream.versions
    }


def aged() -> dict[str, str]:
    """raw table -> the column it ages out by: every append-only stream's window column."""
    return {
        f"{lane.raw_schema}.{stream.table}": stream.window.lower()
        for lane in registry().lanes.values()
        for stream in lane.streams
        if not stream.versions and stream.window
    }


@dataclass
class Removal:
    table: str
    rule: str
    rows_before: int
    rows_deleted: int


def newer(order: tuple[str, ...]) -> str:
    """SQL: version n is strictly newer than version r in the lexicographic version order."""
    terms = []
    for i, column in enumerate(order):
        equal = [f"n.{c} = r.{c}" for c in order[:i]]
        terms.append("(" + " AND ".join([*equal, f"n.{column} > r.{column}"]) + ")")
    return "(" + " OR ".join(terms) + ")"


def superseded_delete(table: str, keys: tuple[str, ...], order: tuple[str, ...]) -> str:
    """Delete versions loaded before the horizon that have a strictly newer version (param:
    horizon). The newest version of a key has none, so it can never be deleted."""
    match = " AND ".join(f"n.{k} = r.{k}" for k in keys)
    return (
        f"DELETE FROM {table} AS r WHERE r._loaded_at < ? AND EXISTS ("
        f"SELECT 1 FROM {table} AS n WHERE {match} AND {newer(order)})"
    )


def _split(table: str) -> tuple[str, str]:
    schema, name = table.split(".")
    return schema, name


def _count(warehouse: Warehouse, table: str) -> int:
    return int(warehouse.query(f"SELECT count(*) FROM {table}")[0][0])


def apply_retention(
    warehouse: Warehouse,
    as_of: datetime | None = None,
    raw_days: int = RAW_DAYS,
    curated: dict[str, str] | None = None,
    curated_days: int = CURATED_DAYS,
) -> list[Removal]:
    """Remove what is past retention; `curated` maps physical table -> time column."""
    as_of = as_of or utcnow()
    raw_horizon = as_of - timedelta(days=raw_days)
    curated_horizon = as_of - timedelta(days=curated_days)
    removals: list[Removal] = []
    plan: list[tuple[str, str, str, datetime]] = []
    for table, (keys, order) in version_logs().items():
        plan.append((table, "superseded", superseded_delete(table, keys, order), raw_horizon))
    for table, column in aged().items():
        plan.append((table, "age", f"DELETE FROM {table} WHERE {column} < ?", raw_horizon))
    for table, column in (curated or {}).items():
        plan.append((table, "curated", f"DELETE FROM {table} WHERE {column} < ?", curated_horizon))
    for table, rule, sql, horizon in plan:
        if not warehouse.table_exists(*_split(table)):
            continue
        before = _count(warehouse, table)
        warehouse.execute(sql, (horizon,))
        removals.append(Removal(table, rule, before, before - _count(warehouse, table)))
    _record(warehouse, removals, raw_horizon, curated_horizon)
    return removals


def _record(
    warehouse: Warehouse, removals: list[Removal], raw: datetime, curated: datetime
) -> None:
    ensure(warehouse, [RETENTION_DDL])
    run_id, ran_at = new_id(), utcnow()
    for r in removals:
        warehouse.execute(
            f"INSERT INTO {SCHEMA}.retention_runs VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                run_id,
                ran_at,
                r.table,
                r.rule,
                curated if r.rule == "curated" else raw,
                r.rows_before,
                r.rows_deleted,
            ),
        )
