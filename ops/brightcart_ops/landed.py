"""How far a lane has landed: the one definition of a lane's high-water mark.

A lane has landed up to `max(high_water_mark)` over its succeeded rows of `raw_meta.load_log`
(written by target-redshift at the end of every stream of every run), and is known complete up
to that mark plus its heartbeat interval (the registry's `heartbeat_seconds`: every source writes
a heartbeat at least that often, so a quiet hour still moves the mark). The SQLMesh signal
(signals/sources_landed.py) runs HIGH_WATER_MARKS_SQL through its engine adapter and adds the
heartbeat itself (SQLMesh stores a signal's code with the models, so it keeps its few lines);
operations (the runner, status, reconciliation, dashboards) call `high_water_mark` here.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from datetime import datetime
from typing import Any

from brightcart_ops.warehouse import Warehouse

LOAD_LOG_SCHEMA, LOAD_LOG_TABLE = "raw_meta", "load_log"
LOAD_LOG = f"{LOAD_LOG_SCHEMA}.{LOAD_LOG_TABLE}"
# {lanes}: a comma-separated list of quoted lane names (see `lanes_sql`).
HIGH_WATER_MARKS_SQL = (
    f"SELECT lane, MAX(high_water_mark) FROM {LOAD_LOG} "
    "WHERE status = 'succeeded' AND lane IN ({lanes}) GROUP BY lane"
)


def lanes_sql(lanes: Iterable[str]) -> str:
    return ", ".join("'" + lane.replace("'", "''") + "'" for lane in lanes)


def as_utc(value: Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if not isinstance(value, datetime):
        return None
    if value.tzinfo is None:
        return value.replace(tzinfo=dt.UTC)
    return value.astimezone(dt.UTC)


def marks_from_rows(rows: Sequence[Sequence[Any]]) -> dict[str, datetime]:
    marks: dict[str, datetime] = {}
    for lane, mark in rows:
        landed = as_utc(mark)
        if landed is not None:
            marks[str(lane)] = landed
    return marks


def high_water_marks(warehouse: Warehouse, lanes: Iterable[str]) -> dict[str, datetime]:
    """max(high_water_mark) over succeeded load log rows, per lane (lanes never landed: absent)."""
    names = list(lanes)
    if not names or not warehouse.table_exists(LOAD_LOG_SCHEMA, LOAD_LOG_TABLE):
        return {}
    return marks_from_rows(warehouse.query(HIGH_WATER_MARKS_SQL.format(lanes=lanes_sql(names))))


def high_water_mark(warehouse: Warehouse, lane: str) -> datetime | None:
    return high_water_marks(warehouse, [lane]).get(lane)


def rows_loaded_since(warehouse: Warehouse, lane: str, since: datetime) -> int:
    """Rows the loader inserted for the lane by runs that started at or after `since`."""
    if not warehouse.table_exists(LOAD_LOG_SCHEMA, LOAD_LOG_TABLE):
        return 0
    rows = warehouse.query(
        f"SELECT coalesce(sum(rows_inserted), 0) FROM {LOAD_LOG} "
        "WHERE lane = ? AND started_at >= ?",
        (lane, since),
    )
    return int(rows[0][0]) if rows else 0
