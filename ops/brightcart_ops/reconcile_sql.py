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


def hash60(entity: Entity, dialect: str) -> str:
    """The per-row 60-bit integer, in the given SQL dialect (postgres, duckdb, redshift)."""
    return row_hash60(entity.key, entity.amount, entity.status, dialect)


def row_hash60(key: str, amount_sql: str, status: str, dialect: str) -> str:
    """60 bits of md5('<key>|<amount, 2 decimals>|<status>') over the given columns."""
    if dialect == "postgres":
        amount = f"({amount_sql})::numeric(12,2)::text"
        text = f"{key}::text || '|' || {amount} || '|' || {status}"
        return f"('x' || substr(md5({text}), 1, 15))::bit(60)::bigint"
    amount = " + ".join(f"CAST({part.strip()} AS DECIMAL(12,2))" for part in amount_sql.split("+"))
    text = (
        f"CAST({key} AS VARCHAR) || '|' || "
        f"CAST(CAST({amount} AS DECIMAL(12,2)) AS VARCHAR) || '|' || {status}"
    )
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


# --- What finance reads: the marts, per UTC business day -------------------------------------


@dataclass(frozen=True)
class Mart:
    name: str  # reconciliation entity: the table or view finance reads, schema.name
    figures: tuple[str, ...]  # the day's figures, in the order mart_daily returns them
    count: str  # the figure recorded as the count
    total: str  # the figure recorded as the sum

    @property
    def schema(self) -> str:
        return self.name.split(".")[0]

    @property
    def table(self) -> str:
        return self.name.split(".")[1]


FINANCE = ("gmv", "discounts", "net_sales", "refunds", "net_revenue")
MARTS: dict[str, Mart] = {
    m.name: m
    for m in (
        # summed over its slices; `orders` is distinct orders per slice, so its sum counts
        # distinct (order, category, seller) of the paid lines (channel and country are per order)
        Mart(
            "marts_finance.revenue_daily", ("slice_orders", *FINANCE), "slice_orders", "net_revenue"
        ),
        Mart("bi.executive_daily", ("orders", *FINANCE), "orders", "net_revenue"),
        Mart(
            "marts_refunds.refunds",
            ("refund_rows", "refunds", "refund_checksum"),
            "refund_rows",
            "refunds",
        ),
    )
}
# Figures that are whole numbers (counts, checksums); the others are money with 2 decimals.
WHOLE_FIGURES = frozenset({"orders", "slice_orders", "refund_rows", "refund_checksum"})
# The columns source_finance_daily returns after the day, in order.
SOURCE_FIGURES = (
    "orders",
    "slice_orders",
    "gmv",
    "discounts",
    "net_sales",
    "refunds",
    "net_revenue",
    "refund_rows",
    "refund_checksum",
)
REFUND_HASH = ("refund_id", "amount", "refund_type")  # key, amount, status of a refund row


def source_finance_daily() -> str:
    """The finance figures per UTC business day, from the source; params start, end, cutoff.

    Written from the shop schema and the KPI definitions (docs/warehouse.md), not from the
    models: sales at `paid_at` (GMV = quantity * unit_price, discounts positive, orders = distinct
    paid orders with a line), refunds and chargebacks at `refunded_at` (positive), net sales =
    GMV - discounts, net revenue = net sales - refunds. Only rows that existed at the cutoff
    (`created_at`) count: a row created after the last load cannot be in the marts yet.
    """
    refund_hash = row_hash60(*REFUND_HASH, "postgres")
    return f"""
WITH paid AS (
    SELECT order_id, paid_at FROM shop.orders
    WHERE paid_at >= %(start)s AND paid_at < %(end)s AND created_at <= %(cutoff)s
),
lines AS (
    SELECT {_day("p.paid_at")} AS day, p.order_id,
           coalesce(pr.category, 'unknown') AS category, i.seller_id,
           i.quantity * i.unit_price AS gross, i.discount_amount AS discount
    FROM paid AS p
    JOIN shop.order_items AS i ON i.order_id = p.order_id AND i.created_at <= %(cutoff)s
    LEFT JOIN shop.products AS pr ON pr.product_id = i.product_id
),
sales AS (
    SELECT day, count(DISTINCT order_id) AS orders,
           count(DISTINCT (order_id, category, seller_id)) AS slice_orders,
           sum(gross) AS gmv, sum(discount) AS discounts
    FROM lines GROUP BY day
),
money_back AS (
    SELECT {_day("refunded_at")} AS day, count(*) AS refund_rows, sum(amount) AS refunds,
           sum({refund_hash}::numeric) AS refund_checksum
    FROM shop.refunds
    WHERE refunded_at >= %(start)s AND refunded_at < %(end)s AND created_at <= %(cutoff)s
    GROUP BY 1
)
SELECT day,
       coalesce(s.orders, 0),
       coalesce(s.slice_orders, 0),
       coalesce(s.gmv, 0),
       coalesce(s.discounts, 0),
       coalesce(s.gmv, 0) - coalesce(s.discounts, 0),
       coalesce(b.refunds, 0),
       coalesce(s.gmv, 0) - coalesce(s.discounts, 0) - coalesce(b.refunds, 0),
       coalesce(b.refund_rows, 0),
       coalesce(b.refund_checksum, 0)
FROM sales AS s FULL JOIN money_back AS b USING (day)
ORDER BY day
"""


def mart_daily(
    mart: Mart, dialect: str, first_day: date, last_day: date
) -> tuple[str, list[object]]:
    """The mart's figures per day of [first_day, last_day], in `mart.figures` order."""
    if mart.name == "marts_refunds.refunds":
        start, _ = day_bounds(first_day)
        _, end = day_bounds(last_day)
        refund_hash = row_hash60(*REFUND_HASH, dialect)
        sql = (
            f"SELECT {_day('refunded_at')} AS day, count(*), coalesce(sum(amount), 0), "
            f"coalesce(sum(CAST({refund_hash} AS DECIMAL(38,0))), 0) "
            f"FROM {mart.name} WHERE refunded_at >= ? AND refunded_at < ? GROUP BY 1"
        )
        return sql, [start, end]
    if mart.name == "marts_finance.revenue_daily":
        columns = ", ".join(f"sum({f})" for f in ("orders", *FINANCE))
        grouped = " GROUP BY 1"
    else:
        columns = ", ".join(("orders", *FINANCE))
        grouped = ""
    sql = (
        f"SELECT revenue_date, {columns} FROM {mart.name} "
        f"WHERE revenue_date >= ? AND revenue_date <= ?{grouped}"
    )
    return sql, [first_day, last_day]


def day_bounds(day: date) -> tuple[datetime, datetime]:
    from datetime import UTC, timedelta

    start = datetime(day.year, day.month, day.day, tzinfo=UTC)
    return start, start + timedelta(days=1)
