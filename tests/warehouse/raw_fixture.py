"""A small, exact raw landing fixture and its hand-computed KPIs.

Three customers buy across 2024-10-31 and 2024-11-01 (a month boundary); order 1004 is cancelled
before payment; order 1002 gets a partial refund in the next month (2024-11-03); order 1005 gets a
whole-order chargeback (2024-11-02); order 1001 and line 5001 arrive in several versions, one of
them re-sent; refund 7003 is hard-deleted at the source.
"""

from __future__ import annotations

import typing as t
from collections.abc import Callable, Sequence
from decimal import Decimal
from itertools import count
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
Row = dict[str, t.Any]

D = Decimal

CUSTOMERS: list[Row] = [
    {
        "customer_id": 1,
        "email": "ann@example.test",
        "first_name": "Ann",
        "last_name": "A",
        "country_code": "us",
        "city": "Austin",
        "marketing_opt_in": True,
        "created_at": "2024-10-01 08:00:00+00",
        "updated_at": "2024-10-01 08:00:00+00",
    },
    {
        "customer_id": 2,
        "email": "bo@example.test",
        "first_name": "Bo",
        "last_name": "B",
        "country_code": "DE",
        "city": "Berlin",
        "marketing_opt_in": False,
        "created_at": "2024-10-20 08:00:00+00",
        "updated_at": "2024-10-20 08:00:00+00",
    },
    {
        "customer_id": 3,
        "email": "cy@example.test",
        "first_name": "Cy",
        "last_name": "C",
        "country_code": "FR",
        "city": "Lyon",
        "marketing_opt_in": True,
        "created_at": "2024-10-25 08:00:00+00",
        "updated_at": "2024-10-25 08:00:00+00",
    },
    {
        "customer_id": 4,
        "email": "di@example.test",
        "first_name": "Di",
        "last_name": "D",
        "country_code": "US",
        "city": "Boston",
        "marketing_opt_in": False,
        "created_at": "2024-10-26 08:00:00+00",
        "updated_at": "2024-10-26 08:00:00+00",
    },
]

SELLERS: list[Row] = [
    {
        "seller_id": 10,
        "name": "Paper Co",
        "country_code": "US",
        "commission_rate": D("0.1000"),
        "salesforce_account_id": "001000000000000AAA",
        "created_at": "2024-09-01 00:00:00+00",
        "updated_at": "2024-09-01 00:00:00+00",
    },
    {
        "seller_id": 20,
        "name": "Play Ltd",
        "country_code": "GB",
        "commission_rate": D("0.1500"),
        "salesforce_account_id": "001000000000000AAB",
        "created_at": "2024-09-01 00:00:00+00",
        "updated_at": "2024-09-01 00:00:00+00",
    },
]

PRODUCTS: list[Row] = [
    {
        "product_id": 100,
        "seller_id": 10,
        "sku": "BK-1",
        "name": "Notebook",
        "category": "books",
        "price": D("20.00"),
        "active": True,
        "created_at": "2024-09-01 00:00:00+00",
        "updated_at": "2024-09-01 00:00:00+00",
    },
    {
        "product_id": 200,
        "seller_id": 20,
        "sku": "TY-1",
        "name": "Robot",
        "category": "toys",
        "price": D("50.00"),
        "active": True,
        "created_at": "2024-09-01 00:00:00+00",
        "updated_at": "2024-09-01 00:00:00+00",
    },
    {
        "product_id": 300,
        "seller_id": 20,
        "sku": "GM-1",
        "name": "Puzzle",
        "category": "games",
        "price": D("30.00"),
        "active": True,
        "created_at": "2024-09-01 00:00:00+00",
        "updated_at": "2024-09-01 00:00:00+00",
    },
]


def _order(
    order_id: int,
    customer_id: int,
    status: str,
    channel: str,
    country: str,
    shipping: str,
    tax: str,
    placed_at: str,
    updated_at: str,
    **times: str | None,
) -> Row:
    row: Row = {
        "order_id": order_id,
        "customer_id": customer_id,
        "status": status,
        "channel": channel,
        "currency": "usd",
        "shipping_country": country,
        "shipping_amount": D(shipping),
        "tax_amount": D(tax),
        "placed_at": placed_at,
        "paid_at": None,
        "shipped_at": None,
        "delivered_at": None,
        "cancelled_at": None,
        "created_at": placed_at,
        "updated_at": updated_at,
    }
    row.update(times)
    return row


ORDERS: list[Row] = [
    # 1001: three versions (placed, paid, delivered); the paid version is re-sent unchanged.
    _order(
        1001,
        1,
        "placed",
        "web",
        "US",
        "5.00",
        "3.00",
        "2024-10-31 09:10:00+00",
        "2024-10-31 09:10:00+00",
    ),
    _order(
        1001,
        1,
        "paid",
        "web",
        "US",
        "5.00",
        "3.00",
        "2024-10-31 09:10:00+00",
        "2024-10-31 09:15:00+00",
        paid_at="2024-10-31 09:15:00+00",
    ),
    _order(
        1001,
        1,
        "paid",
        "web",
        "US",
        "5.00",
        "3.00",
        "2024-10-31 09:10:00+00",
        "2024-10-31 09:15:00+00",
        paid_at="2024-10-31 09:15:00+00",
    ),
    _order(
        1001,
        1,
        "delivered",
        "web",
        "US",
        "5.00",
        "3.00",
        "2024-10-31 09:10:00+00",
        "2024-11-02 10:00:00+00",
        paid_at="2024-10-31 09:15:00+00",
        shipped_at="2024-11-01 07:00:00+00",
        delivered_at="2024-11-02 10:00:00+00",
    ),
    _order(
        1002,
        2,
        "paid",
        "ios",
        "DE",
        "0.00",
        "0.00",
        "2024-10-31 23:40:00+00",
        "2024-10-31 23:50:00+00",
        paid_at="2024-10-31 23:50:00+00",
    ),
    _order(
        1003,
        1,
        "paid",
        "android",
        "US",
        "2.50",
        "1.50",
        "2024-11-01 08:00:00+00",
        "2024-11-01 08:05:00+00",
        paid_at="2024-11-01 08:05:00+00",
    ),
    _order(
        1004,
        3,
        "cancelled",
        "web",
        "FR",
        "0.00",
        "0.00",
        "2024-11-01 10:00:00+00",
        "2024-11-01 10:30:00+00",
        cancelled_at="2024-11-01 10:30:00+00",
    ),
    _order(
        1005,
        3,
        "paid",
        "web",
        "FR",
        "0.00",
        "0.00",
        "2024-11-01 12:00:00+00",
        "2024-11-01 12:10:00+00",
        paid_at="2024-11-01 12:10:00+00",
    ),
]


def _item(
    item_id: int,
    order_id: int,
    product_id: int,
    seller_id: int,
    quantity: int,
    unit_price: str,
    discount: str,
    updated_at: str,
) -> Row:
    return {
        "order_item_id": item_id,
        "order_id": order_id,
        "product_id": product_id,
        "seller_id": seller_id,
        "quantity": quantity,
        "unit_price": D(unit_price),
        "discount_amount": D(discount),
        "created_at": updated_at,
        "updated_at": updated_at,
    }


ORDER_ITEMS: list[Row] = [
    _item(5001, 1001, 100, 10, 2, "20.00", "0.00", "2024-10-31 09:10:00+00"),  # superseded
    _item(5001, 1001, 100, 10, 2, "20.00", "4.00", "2024-10-31 09:14:00+00"),
    _item(5001, 1001, 100, 10, 2, "20.00", "4.00", "2024-10-31 09:14:00+00"),  # re-sent
    _item(5002, 1001, 200, 20, 1, "50.00", "0.00", "2024-10-31 09:10:00+00"),
    _item(5003, 1002, 300, 20, 3, "30.00", "10.00", "2024-10-31 23:40:00+00"),
    _item(5004, 1003, 100, 10, 1, "20.00", "0.00", "2024-11-01 08:00:00+00"),
    _item(5005, 1004, 200, 20, 1, "50.00", "0.00", "2024-11-01 10:00:00+00"),
    _item(5006, 1005, 200, 20, 2, "50.00", "0.00", "2024-11-01 12:00:00+00"),
]

PAYMENTS: list[Row] = [
    {
        "payment_id": p,
        "order_id": o,
        "method": m,
        "status": s,
        "amount": D(a),
        "created_at": at,
        "updated_at": at,
    }
    for p, o, m, s, a, at in [
        (9001, 1001, "card", "captured", "94.00", "2024-10-31 09:15:00+00"),
        (9002, 1002, "paypal", "captured", "80.00", "2024-10-31 23:50:00+00"),
        (9003, 1003, "card", "captured", "24.00", "2024-11-01 08:05:00+00"),
        (9004, 1004, "card", "failed", "50.00", "2024-11-01 10:05:00+00"),
        (9005, 1005, "gift_card", "captured", "100.00", "2024-11-01 12:10:00+00"),
    ]
]

REFUNDS: list[Row] = [
    {
        "refund_id": 7001,
        "order_id": 1002,
        "order_item_id": 5003,
        "refund_type": "partial",
        "amount": D("30.00"),
        "reason": "one puzzle damaged",
        "refunded_at": "2024-11-03 09:00:00+00",
        "created_at": "2024-11-03 09:00:00+00",
        "updated_at": "2024-11-03 09:00:00+00",
    },
    {
        "refund_id": 7002,
        "order_id": 1005,
        "order_item_id": None,
        "refund_type": "chargeback",
        "amount": D("100.00"),
        "reason": "card dispute",
        "refunded_at": "2024-11-02 15:00:00+00",
        "created_at": "2024-11-02 15:00:00+00",
        "updated_at": "2024-11-02 15:00:00+00",
    },
    {
        "refund_id": 7003,
        "order_id": 1003,
        "order_item_id": 5004,
        "refund_type": "partial",
        "amount": D("5.00"),
        "reason": "entered by mistake",
        "refunded_at": "2024-11-02 11:00:00+00",
        "created_at": "2024-11-02 11:00:00+00",
        "updated_at": "2024-11-02 11:00:00+00",
    },
    {
        "refund_id": 7003,
        "order_id": 1003,
        "order_item_id": 5004,
        "refund_type": "partial",
        "amount": D("5.00"),
        "reason": "entered by mistake",
        "refunded_at": "2024-11-02 11:00:00+00",
        "created_at": "2024-11-02 11:00:00+00",
        "updated_at": "2024-11-02 11:05:00+00",
        "_sdc_deleted_at": "2024-11-02 11:05:00+00",
    },
]

HEARTBEAT: list[Row] = [
    {
        "writer": "generator",
        "beat_at": "2024-11-03 23:59:59+00",
        "created_at": "2024-10-01 00:00:00+00",
        "updated_at": "2024-11-03 23:59:59+00",
    },
]

RAW_SHOP: dict[str, list[Row]] = {
    "customers": CUSTOMERS,
    "sellers": SELLERS,
    "products": PRODUCTS,
    "orders": ORDERS,
    "order_items": ORDER_ITEMS,
    "payments": PAYMENTS,
    "refunds": REFUNDS,
    "heartbeat": HEARTBEAT,
}

LANDED_TO = "2024-11-04 00:00:00+00"

# Hand-computed executive KPIs per UTC day (see the module docstring for the story).
EXPECTED_DAILY: dict[str, dict[str, Decimal | int]] = {
    "2024-10-31": {
        "gmv": D("180.00"),
        "net_sales": D("166.00"),
        "refunds": D("0.00"),
        "net_revenue": D("166.00"),
        "orders": 2,
        "new_customers": 2,
        "commission_revenue": D("23.10"),
    },
    "2024-11-01": {
        "gmv": D("120.00"),
        "net_sales": D("120.00"),
        "refunds": D("0.00"),
        "net_revenue": D("120.00"),
        "orders": 2,
        "new_customers": 1,
        "commission_revenue": D("17.00"),
    },
    "2024-11-02": {
        "gmv": D("0.00"),
        "net_sales": D("0.00"),
        "refunds": D("100.00"),
        "net_revenue": D("-100.00"),
        "orders": 0,
        "new_customers": 0,
        "commission_revenue": D("0.00"),
    },
    "2024-11-03": {
        "gmv": D("0.00"),
        "net_sales": D("0.00"),
        "refunds": D("30.00"),
        "net_revenue": D("-30.00"),
        "orders": 0,
        "new_customers": 0,
        "commission_revenue": D("0.00"),
    },
}


def external_columns() -> dict[str, dict[str, str]]:
    """Column types per raw table, read from the project's external_models.yaml."""
    entries = yaml.safe_load((ROOT / "external_models.yaml").read_text())
    return {entry["name"]: dict(entry["columns"]) for entry in entries}


def literal(value: t.Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | Decimal):
        return str(value)
    return "'" + str(value).replace("'", "''") + "'"


def create_statements(tables: Sequence[str] | None = None) -> list[str]:
    """CREATE SCHEMA/TABLE statements (DuckDB and PostgreSQL) for the raw landing tables."""
    statements: list[str] = []
    for name, columns in external_columns().items():
        if tables is not None and name not in tables:
            continue
        schema = name.split(".")[0]
        statements.append(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        cols = ", ".join(f"{col} {typ}" for col, typ in columns.items())
        statements.append(f"CREATE TABLE IF NOT EXISTS {name} ({cols})")
    return statements


_sequence = count(1)


def insert_statements(table: str, rows: Sequence[Row], load_id: str = "fixture-1") -> list[str]:
    """INSERT statements for raw rows; Singer metadata is filled in when a row omits it."""
    columns = list(external_columns()[table])
    statements = []
    for row in rows:
        full = dict(row)
        stamp = full.get("updated_at")
        full.setdefault("_sdc_extracted_at", stamp)
        full.setdefault("_sdc_received_at", stamp)
        full.setdefault("_sdc_batched_at", stamp)
        full.setdefault("_sdc_deleted_at", None)
        full.setdefault("_sdc_sequence", next(_sequence))
        full.setdefault("_sdc_table_version", None)
        full.setdefault("_load_id", load_id)
        full.setdefault("_loaded_at", stamp)
        values = ", ".join(literal(full.get(col)) for col in columns)
        statements.append(f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({values})")
    return statements


def load_log_statement(
    lane: str, high_water_mark: str, status: str = "succeeded", load_id: str = "fixture-1"
) -> str:
    return (
        "INSERT INTO raw_meta.load_log (load_id, lane, stream, started_at, finished_at, "
        "rows_received, rows_inserted, rows_duplicate, high_water_mark, status) VALUES "
        f"({literal(load_id)}, {literal(lane)}, 'orders', {literal(high_water_mark)}, "
        f"{literal(high_water_mark)}, 1, 1, 0, {literal(high_water_mark)}, {literal(status)})"
    )


def fixture_statements() -> list[str]:
    """Everything needed to land the fixture: tables, rows and a load log saying shop landed."""
    statements = create_statements()
    for table, rows in RAW_SHOP.items():
        statements += insert_statements(f"raw_shop.{table}", rows)
    statements.append(load_log_statement("shop", LANDED_TO))
    statements.append(
        load_log_statement(
            "shop", "2024-11-10 00:00:00+00", status="failed", load_id="fixture-failed"
        )
    )
    return statements


def apply(execute: Callable[[str], object], statements: Sequence[str]) -> None:
    for statement in statements:
        execute(statement)
