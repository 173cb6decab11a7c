"""Daily finance reconciliation: source PostgreSQL against the raw landing and against the marts
finance reads, per entity and UTC day.

For orders, payments and refunds each day gets a count, a sum and a checksum on both sides
(queries in reconcile_sql). For each finance mart (marts_finance.revenue_daily summed over its
slices, bi.executive_daily, marts_refunds.refunds) each UTC business day that ended by the cutoff
gets its figures (orders, GMV, discounts, net sales, refunds incl. chargebacks, net revenue; for
the refunds mart rows, amount and a row checksum) from the source and from the mart: the count,
the sum (net revenue, refunded amount) and a checksum of all the day's figures are recorded.

The source is read as of the landed high-water mark of the shop lane (`cutoff`): for the raw
landing, rows changed at the source after the last load are left out on both sides; for the marts,
only days that ended by the cutoff, and source rows created by then. Every figure goes to
ops.reconciliation_results; a mismatch raises one `reconciliation_mismatch` alert and is repaired
(repair.py: re-extract and restate for the raw landing, a restatement of the finance marts for
their business days, whatever their age), then re-checked and recorded `repaired`, or alerted
again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal

import psycopg

from brightcart_ops import reconcile_sql as q
from brightcart_ops.landed import high_water_mark as lane_high_water_mark
from brightcart_ops.opslog import SCHEMA, ensure, utcnow
from brightcart_ops.settings import Settings
from brightcart_ops.warehouse import Warehouse

RESULTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.reconciliation_results (
    run_id VARCHAR NOT NULL,            -- one per reconciliation run
    phase VARCHAR NOT NULL,             -- check, recheck (after a repair)
    checked_at TIMESTAMPTZ NOT NULL,    -- wall clock of the comparison
    entity VARCHAR NOT NULL,            -- orders, payments, refunds (raw landing) or a finance
                                        -- mart: marts_finance.revenue_daily, bi.executive_daily,
                                        -- marts_refunds.refunds
    day DATE NOT NULL,                  -- UTC business day
    cutoff TIMESTAMPTZ NOT NULL,        -- source rows changed after this were left out
    source_count BIGINT NOT NULL,
    warehouse_count BIGINT NOT NULL,
    source_sum DECIMAL(18, 2) NOT NULL,
    warehouse_sum DECIMAL(18, 2) NOT NULL,
    source_checksum DECIMAL(38, 0) NOT NULL,
    warehouse_checksum DECIMAL(38, 0) NOT NULL,
    status VARCHAR NOT NULL,            -- match, mismatch, repaired
    detail VARCHAR(65535)               -- keys missing / extra / changed, repair actions
)
"""


class ReconcileError(RuntimeError):
    """Reconciliation could not run (nothing landed yet, source unreachable, ...)."""


@dataclass(frozen=True)
class Figures:
    count: int = 0
    total: Decimal = Decimal("0.00")
    checksum: int = 0


@dataclass
class DayResult:
    entity: str
    day: date
    source: Figures
    warehouse: Figures
    status: str = "match"
    detail: str = ""

    @property
    def matches(self) -> bool:
        return self.source == self.warehouse


@dataclass
class KeyDiff:
    missing: list[int]  # at the source, not in the warehouse
    extra: list[int]  # in the warehouse, not at the source for that day
    changed: list[int]  # both, different amount or status

    def describe(self) -> str:
        def few(keys: list[int]) -> str:
            return ",".join(str(k) for k in keys[:20]) + ("..." if len(keys) > 20 else "")

        return (
            f"missing={len(self.missing)}[{few(self.missing)}] "
            f"extra={len(self.extra)}[{few(self.extra)}] "
            f"changed={len(self.changed)}[{few(self.changed)}]"
        )


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=n) for n in range((last - first).days + 1)]


def _source(settings: Settings) -> psycopg.Connection[tuple[object, ...]]:
    try:
        return psycopg.connect(settings.pg_dsn, autocommit=True, connect_timeout=10)
    except psycopg.OperationalError as exc:
        raise ReconcileError(
            f"cannot reach the source database ({settings.pg_host}:{settings.pg_port}/"
            f"{settings.pg_db}): {exc}; check BRIGHTCART_PG_* or `brightcart sources status`"
        ) from exc


def _figures(row: tuple[object, ...]) -> Figures:
    return Figures(
        int(str(row[1])), Decimal(str(row[2])).quantize(Decimal("0.01")), int(str(row[3]))
    )


def source_in_flight(
    settings: Settings, entity: q.Entity, start: datetime, end: datetime, cutoff: datetime
) -> list[int]:
    with _source(settings) as con:
        rows = con.execute(q.source_in_flight(entity), (start, end, cutoff)).fetchall()
    return sorted(int(str(r[0])) for r in rows)


def source_figures(
    settings: Settings, entity: q.Entity, start: datetime, end: datetime, cutoff: datetime
) -> dict[date, Figures]:
    with _source(settings) as con:
        rows = con.execute(q.source_daily(entity), (start, end, cutoff)).fetchall()
    return {r[0]: _figures(r) for r in rows if isinstance(r[0], date)}


def warehouse_figures(
    warehouse: Warehouse, entity: q.Entity, start: datetime, end: datetime, in_flight: list[int]
) -> dict[date, Figures]:
    if not warehouse.table_exists("raw_shop", entity.name):
        return {}
    sql, params = q.warehouse_daily(entity, _dialect(warehouse), start, end, in_flight)
    return {r[0]: _figures(r) for r in warehouse.query(sql, params) if isinstance(r[0], date)}


def _dialect(warehouse: Warehouse) -> str:
    return {"local": "duckdb", "postgres": "postgres", "redshift": "redshift"}[warehouse.gateway]


def compare(
    settings: Settings,
    warehouse: Warehouse,
    entities: Iterable[str],
    first_day: date,
    last_day: date,
    cutoff: datetime,
) -> list[DayResult]:
    """Figures of both sides for every entity and day of the window (days without rows match)."""
    start, _ = q.day_bounds(first_day)
    _, end = q.day_bounds(last_day)
    results = []
    for name in entities:
        entity = q.ENTITIES[name]
        in_flight = source_in_flight(settings, entity, start, end, cutoff)
        src = source_figures(settings, entity, start, end, cutoff)
        wh = warehouse_figures(warehouse, entity, start, end, in_flight)
        for day in days_between(first_day, last_day):
            result = DayResult(name, day, src.get(day, Figures()), wh.get(day, Figures()))
            result.status = "match" if result.matches else "mismatch"
            results.append(result)
    return results


# --- The marts finance reads, against the source ---------------------------------------------

CENT = Decimal("0.01")


def last_complete_day(cutoff: datetime) -> date:
    """The last UTC day that ended at or before the cutoff: later days are not final in a mart."""
    return (cutoff - timedelta(days=1)).date()


def _figure_text(name: str, value: object) -> str:
    number = Decimal(str(value))
    if name in q.WHOLE_FIGURES:
        return str(int(number))
    return f"{number.quantize(CENT) + 0:f}"  # + 0: no negative zero


def figures_checksum(mart: q.Mart, values: dict[str, str]) -> int:
    """60 bits of md5('<figure>|<figure>|...') over the mart's figures as text."""
    text = "|".join(values[name] for name in mart.figures)
    return int(hashlib.md5(text.encode(), usedforsecurity=False).hexdigest()[:15], 16)


def _mart_day(mart: q.Mart, values: dict[str, str]) -> Figures:
    return Figures(
        int(values[mart.count]), Decimal(values[mart.total]), figures_checksum(mart, values)
    )


def _zero(names: Iterable[str]) -> dict[str, str]:
    return {name: _figure_text(name, 0) for name in names}


def source_finance(
    settings: Settings, first_day: date, last_day: date, cutoff: datetime
) -> dict[date, dict[str, str]]:
    """Every finance figure per day from the source (one query, one range per table)."""
    start, _ = q.day_bounds(first_day)
    _, end = q.day_bounds(last_day)
    with _source(settings) as con:
        rows = con.execute(
            q.source_finance_daily(), {"start": start, "end": end, "cutoff": cutoff}
        ).fetchall()
    return {
        r[0]: {n: _figure_text(n, v) for n, v in zip(q.SOURCE_FIGURES, r[1:], strict=True)}
        for r in rows
        if isinstance(r[0], date)
    }


def built_marts(warehouse: Warehouse, marts: Iterable[str]) -> list[str]:
    """The marts present in the warehouse (prod planned at least once)."""
    return [m for m in marts if warehouse.table_exists(q.MARTS[m].schema, q.MARTS[m].table)]


def mart_figures(
    warehouse: Warehouse, mart: q.Mart, first_day: date, last_day: date
) -> dict[date, dict[str, str]]:
    sql, params = q.mart_daily(mart, _dialect(warehouse), first_day, last_day)
    return {
        r[0]: {n: _figure_text(n, v) for n, v in zip(mart.figures, r[1:], strict=True)}
        for r in warehouse.query(sql, params)
        if isinstance(r[0], date)
    }


def _differences(mart: q.Mart, source: dict[str, str], warehouse: dict[str, str]) -> str:
    return "; ".join(
        f"{name} source {source[name]} warehouse {warehouse[name]}"
        for name in mart.figures
        if source[name] != warehouse[name]
    )


def compare_marts(
    settings: Settings,
    warehouse: Warehouse,
    marts: Iterable[str],
    first_day: date,
    last_day: date,
    cutoff: datetime,
) -> list[DayResult]:
    """Source figures against each mart for every day of the window that ended by the cutoff.

    Days without money on either side match; a mart not built yet is left out (see
    built_marts). The detail of a mismatch names each differing figure with both values.
    """
    last_day = min(last_day, last_complete_day(cutoff))
    chosen = [q.MARTS[m] for m in marts]
    if first_day > last_day or not chosen:
        return []
    src = source_finance(settings, first_day, last_day, cutoff)
    results = []
    for mart in chosen:
        wh = mart_figures(warehouse, mart, first_day, last_day)
        for day in days_between(first_day, last_day):
            source_values = {n: src[day][n] for n in mart.figures} if day in src else {}
            source_values = source_values or _zero(mart.figures)
            warehouse_values = wh.get(day) or _zero(mart.figures)
            result = DayResult(
                mart.name, day, _mart_day(mart, source_values), _mart_day(mart, warehouse_values)
            )
            if not result.matches:
                result.status = "mismatch"
                result.detail = _differences(mart, source_values, warehouse_values)
            results.append(result)
    return results


def key_diff(
    settings: Settings, warehouse: Warehouse, entity_name: str, day: date, cutoff: datetime
) -> KeyDiff:
    """Which keys of one entity-day differ (only run for a mismatched day: light)."""
    entity = q.ENTITIES[entity_name]
    start, end = q.day_bounds(day)
    in_flight = source_in_flight(settings, entity, start, end, cutoff)
    with _source(settings) as con:
        src = {
            int(str(k)): int(str(h))
            for k, h in con.execute(q.source_keys(entity), (start, end, cutoff)).fetchall()
        }
    sql, params = q.warehouse_keys(entity, _dialect(warehouse), start, end, in_flight)
    wh = {int(str(k)): int(str(h)) for k, h in warehouse.query(sql, params)}
    return KeyDiff(
        missing=sorted(set(src) - set(wh)),
        extra=sorted(set(wh) - set(src)),
        changed=sorted(k for k in set(src) & set(wh) if src[k] != wh[k]),
    )


def record(
    warehouse: Warehouse, run_id: str, phase: str, cutoff: datetime, results: list[DayResult]
) -> None:
    ensure(warehouse, [RESULTS_DDL])
    checked_at = utcnow()
    with warehouse.connect() as con:
        cur = con.cursor()
        for r in results:
            cur.execute(
                warehouse._sql(
                    f"INSERT INTO {SCHEMA}.reconciliation_results VALUES "
                    "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                ),
                (
                    run_id,
                    phase,
                    checked_at,
                    r.entity,
                    r.day,
                    cutoff,
                    r.source.count,
                    r.warehouse.count,
                    r.source.total,
                    r.warehouse.total,
                    Decimal(r.source.checksum),
                    Decimal(r.warehouse.checksum),
                    r.status,
                    r.detail or None,
                ),
            )


def default_cutoff(warehouse: Warehouse) -> datetime:
    cutoff = lane_high_water_mark(warehouse, "shop")
    if cutoff is None:
        raise ReconcileError(
            "the shop lane has landed nothing yet (raw_meta.load_log has no succeeded shop "
            "rows): run `brightcart lane run shop` first"
        )
    return cutoff


def default_window(cutoff: datetime, days: int) -> tuple[date, date]:
    """The `days` UTC days up to the one holding the cutoff (a day ending at it included)."""
    last = (cutoff - timedelta(microseconds=1)).date()
    return last - timedelta(days=days - 1), last
