"""The queries of the finance reconciliation: one per side, per entity, per day window.

Every row contributes `(key, amount, status)` to three figures per UTC day: a count, a sum of the
amount and an order-independent checksum, the sum over rows of a 60-bit integer taken from the
first 15 hex digits of md5('<key>|<amount with 2 decimals>|<status>'). The text hashed is
identical on PostgreSQL, DuckDB and Redshift, so equal data gives equal checksums on both sides;
a sum is insensitive to row order and scales (no sort, no string aggregation).

The source queries stay light: a range on an indexed timestamp (`placed_at`, `created_at`,
`refunded_at`), grouped by day, and only rows at or below the landed high-water mark (`cutoff`),
so rows changed after the last load are not reported as drift.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime


@dataclass(frozen=True)
class Entity:
    name: str  # reconciliation entity and raw_shop / shop table name
    key: str  # primary key column
    day_column: str  # business time that assigns a row to its UTC day
    amount: str  # amount expression over the table's columns (numeric(12,2) each)
    status: str  # status-like column hashed with the key and amount
    stream: str  # tap-postgres stream id
    staging_model: str  # the SQLMesh model reading the raw table


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in (
        Entity(
            "orders",
            "order_id",
            "placed_at",
            "shipping_amount + tax_amount",
            "status",
            "shop-orders",
            "staging.stg_shop__orders",
        ),
        Entity(
            "payments",
            "payment_id",
            "created_at",
            "amount",
            "status",
            "shop-payments",
            "staging.stg_shop__payments",
        ),
        Entity(
            "refunds",
            "refund_id",
            "refunded_at",
            "amount",
            "refund_type",
            "shop-refunds",
            "staging.stg_shop__refunds",
        ),
    )
}


def _row_text(entity: Entity, amount_2dp: str) -> str:
    return f"CAST({entity.key} AS VARCHAR) || '|' || {amount_2dp} || '|' || {entity.status}"


def hash60(entity: Entity, dialect: str) -> str:
    """The per-row 60-bit integer, in the given SQL dialect (postgres, duckdb, redshift)."""
    if dialect == "postgres":
        amount = f"({entity.amount})::numeric(12,2)::text"
        text = f"{entity.key}::text || '|' || {amount} || '|' || {entity.status}"
        return f"('x' || substr(md5({text}), 1, 15))::bit(60)::bigint"
    amount = " + ".join(
        f"CAST({part.strip()} AS DECIMAL(12,2))" for part in entity.amount.split("+")
    )
    text = _row_text(entity, f"CAST(CAST({amount} AS DECIMAL(12,2)) AS VARCHAR)")
    if dialect == "redshift":
        # Redshift: STRTOL parses hex into BIGINT; 15 hex digits fit in 60 bits.
        return f"STRTOL(SUBSTRING(MD5({text}), 1, 15), 16)"
    return f"CAST(('0x' || substr(md5({text}), 1, 15)) AS BIGINT)"


def _amount(entity: Entity, dialect: str) -> str:
    if dialect == "postgres":
        return f"({entity.amount})"
    parts = [f"CAST({part.strip()} AS DECIMAL(12,2))" for part in entity.amount.split("+")]
    return "(" + " + ".join(parts) + ")"


def _day(column: str) -> str:
    return f"CAST(({column} AT TIME ZONE 'UTC') AS DATE)"


def source_daily(entity: Entity) -> str:
    """Per-day figures from the source: params (start, end, cutoff)."""
    return (
        f"SELECT {_day(entity.day_column)} AS day, count(*), "
        f"coalesce(sum({_amount(entity, 'postgres')}), 0), "
        f"coalesce(sum({hash60(entity, 'postgres')}::numeric), 0) "
        f"FROM shop.{entity.name} "
        f"WHERE {entity.day_column} >= %s AND {entity.day_column} < %s AND updated_at <= %s "
        "GROUP BY 1 ORDER BY 1"
    )


def source_in_flight(entity: Entity) -> str:
    """Keys changed at the source after the cutoff: params (start, end, cutoff)."""
    return (
        f"SELECT {entity.key} FROM shop.{entity.name} "
        f"WHERE {entity.day_column} >= %s AND {entity.day_column} < %s AND updated_at > %s"
    )


def source_keys(entity: Entity) -> str:
    """Per-key hashes of one window at the source: params (start, end, cutoff)."""
    return (
        f"SELECT {entity.key}, {hash60(entity, 'postgres')} FROM shop.{entity.name} "
        f"WHERE {entity.day_column} >= %s AND {entity.day_column} < %s AND updated_at <= %s"
    )


def source_existing(entity: Entity) -> str:
    """Which of the given keys still exist at the source: params (list of keys)."""
    return f"SELECT {entity.key} FROM shop.{entity.name} WHERE {entity.key} = ANY(%s)"


def _excluded(entity: Entity, keys: list[int]) -> str:
    if not keys:
        return "TRUE"
    listed = ", ".join(str(int(k)) for k in keys)  # integers only: safe to inline
    return f"{entity.key} NOT IN ({listed})"


def latest_versions(entity: Entity) -> str:
    """Latest landed version per key (what staging reads), tombstones still visible."""
    return (
        f"SELECT *, ROW_NUMBER() OVER (PARTITION BY {entity.key} "
        "ORDER BY updated_at DESC, _sdc_sequence DESC, _sdc_deleted_at DESC NULLS LAST) "
        "AS version_rank "
        f"FROM raw_shop.{entity.name}"
    )


def warehouse_daily(
    entity: Entity, dialect: str, start: datetime, end: datetime, in_flight: list[int]
) -> tuple[str, list[object]]:
    """Per-day figures of the raw landing: latest version per key, tombstones excluded."""
    sql = (
        f"WITH v AS ({latest_versions(entity)}) "
        f"SELECT {_day(entity.day_column)} AS day, count(*), "
        f"coalesce(sum({_amount(entity, dialect)}), 0), "
        f"coalesce(sum(CAST({hash60(entity, dialect)} AS DECIMAL(38,0))), 0) "
        "FROM v WHERE version_rank = 1 AND _sdc_deleted_at IS NULL "
        f"AND {entity.day_column} >= ? AND {entity.day_column} < ? "
        f"AND {_excluded(entity, in_flight)} GROUP BY 1 ORDER BY 1"
    )
    return sql, [start, end]


def warehouse_keys(
    entity: Entity, dialect: str, start: datetime, end: datetime, in_flight: list[int]
) -> tuple[str, list[object]]:
    sql = (
        f"WITH v AS ({latest_versions(entity)}) "
        f"SELECT {entity.key}, {hash60(entity, dialect)} FROM v "
        "WHERE version_rank = 1 AND _sdc_deleted_at IS NULL "
        f"AND {entity.day_column} >= ? AND {entity.day_column} < ? "
        f"AND {_excluded(entity, in_flight)}"
    )
    return sql, [start, end]


def tombstones(entity: Entity, keys: list[int], columns: list[str]) -> str:
    """Append a deleted version of each key: a copy of its latest version, `_sdc_deleted_at` set.

    The copy keeps the latest `updated_at` (so the lane's high-water mark does not move) and takes
    a higher `_sdc_sequence`, which ranks it first in staging's latest-version order. Plain SQL
    with an explicit column list, so it runs on DuckDB, PostgreSQL and Redshift alike.
    Params: (deleted_at, sequence, load_id, loaded_at).
    """
    replaced = {
        "_sdc_deleted_at": "CAST(? AS TIMESTAMPTZ)",
        "_sdc_sequence": "CAST(? AS BIGINT)",
        "_load_id": "CAST(? AS VARCHAR)",
        "_loaded_at": "CAST(? AS TIMESTAMPTZ)",
    }
    order = [c for c in replaced if c in columns] + [c for c in columns if c not in replaced]
    names = ", ".join(f'"{c}"' for c in order)
    values = ", ".join(replaced.get(c, f'"{c}"') for c in order)
    listed = ", ".join(str(int(k)) for k in keys)
    return (
        f"INSERT INTO raw_shop.{entity.name} ({names}) SELECT {values} "
        f"FROM ({latest_versions(entity)}) AS v "
        f"WHERE version_rank = 1 AND _sdc_deleted_at IS NULL AND {entity.key} IN ({listed})"
    )


def day_bounds(day: date) -> tuple[datetime, datetime]:
    from datetime import UTC, timedelta

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)
