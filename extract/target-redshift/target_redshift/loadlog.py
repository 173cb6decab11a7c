"""raw_meta.load_log: one row per stream per run (docs/architecture.md)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

from target_redshift.columns import LogicalType
from target_redshift.dialect import (
    LOAD_LOG_COLUMNS,
    LOAD_LOG_SCHEMA,
    LOAD_LOG_TABLE,
)
from target_redshift.warehouse import Warehouse


@dataclass
class StreamTally:
    """What one stream did in this run."""

    schema: str
    table: str
    started_at: dt.datetime
    high_water_column: str | None = None
    received: int = 0
    inserted: int = 0
    duplicate: int = 0
    rejected: int = 0
    errors: list[str] = field(default_factory=list)


def high_water_mark(wh: Warehouse, tally: StreamTally) -> dt.datetime | None:
    """Max replication value landed so far, read from the warehouse table itself."""
    if not tally.high_water_column:
        return None
    types = {
        str(name): wh.dialect.logical_from_catalog(str(kind))
        for name, kind in wh.query(wh.dialect.columns_query(tally.schema, tally.table))
    }
    kind = types.get(tally.high_water_column)
    if kind not in (LogicalType.TIMESTAMPTZ, LogicalType.DATE, LogicalType.VARCHAR):
        return None
    rows = wh.query(wh.dialect.high_water_mark(tally.schema, tally.table, tally.high_water_column))
    value = rows[0][0] if rows else None
    if isinstance(value, str):
        # ISO-8601 text (e.g. a CSV's date column) orders like the time it names.
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.UTC)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.UTC)
    return None


def write_load_log(
    wh: Warehouse,
    load_id: str,
    lane: str,
    tallies: dict[str, StreamTally],
    status: str,
) -> None:
    """Append this run's rows (one per stream) to raw_meta.load_log."""
    dialect = wh.dialect
    wh.execute(dialect.create_schema(LOAD_LOG_SCHEMA))
    wh.execute(dialect.create_table(LOAD_LOG_SCHEMA, LOAD_LOG_TABLE, LOAD_LOG_COLUMNS))
    finished = dt.datetime.now(tz=dt.UTC)
    rows = []
    for tally in tallies.values():
        mark = high_water_mark(wh, tally)
        rows.append(
            (
                load_id,
                lane,
                tally.table,
                tally.started_at,
                finished,
                tally.received,
                tally.inserted,
                tally.duplicate,
                tally.rejected,
                mark,
                status,
            )
        )
    if rows:
        wh.insert_rows(
            LOAD_LOG_SCHEMA, LOAD_LOG_TABLE, [name for name, _ in LOAD_LOG_COLUMNS], rows
        )
