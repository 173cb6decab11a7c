"""The finance world's calendar and the figures the finance tests compute from the source.

The world runs from START to END (whole UTC hours). START lies more than 30 days before END, so
money dated 30 days back still falls on a business day of the world. The SQL here is written from
the shop schema and the KPI definitions in docs/warehouse.md, never from the models: a model that
computes a figure wrongly cannot make these figures agree with it.
"""

from __future__ import annotations

from datetime import date, datetime, timedelta
from decimal import Decimal
from typing import Any

import generated_world as worlds
import psycopg

START, END = worlds.START, worlds.END  # the world is the session's (tests/generated_world.py)
FIRST, LAST = START.date(), date(2026, 11, 3)  # every business day that ended by the landing

# Per UTC day of paid_at: paid orders, GMV, discounts (positive) and the marketplace commission
# (per line, rounded to the cent, at the seller's rate) of every line of a paid order.
SALES_BY_DAY = """
SELECT (o.paid_at AT TIME ZONE 'UTC')::date AS day,
       count(DISTINCT o.order_id) AS orders,
       sum(i.quantity * i.unit_price) AS gmv,
       sum(i.discount_amount) AS discounts,
       sum(round((i.quantity * i.unit_price - i.discount_amount) * s.commission_rate, 2))
           AS commission
FROM shop.orders AS o
JOIN shop.order_items AS i ON i.order_id = o.order_id
JOIN shop.sellers AS s ON s.seller_id = i.seller_id
WHERE o.paid_at IS NOT NULL
GROUP BY 1
"""

# Per UTC day of paid_at: the (order, category, seller) combinations with a paid line, which is
# what revenue_daily's per-slice order counts add up to (channel and country are per order).
SLICE_ORDERS_BY_DAY = """
SELECT (o.paid_at AT TIME ZONE 'UTC')::date AS day,
       count(DISTINCT (o.order_id, p.category, i.seller_id)) AS slice_orders
FROM shop.orders AS o
JOIN shop.order_items AS i ON i.order_id = o.order_id
JOIN shop.products AS p ON p.product_id = i.product_id
WHERE o.paid_at IS NOT NULL
GROUP BY 1
"""

# Every refund and chargeback at its refunded_at, as the refunds mart lists them.
REFUND_ROWS = """
SELECT refund_id, order_id, order_item_id, refund_type, amount, refunded_at,
       (refunded_at AT TIME ZONE 'UTC')::date AS day
FROM shop.refunds
"""

FIGURES = ("orders", "gmv", "discounts", "net_sales", "refunds", "net_revenue", "commission")
ZERO = Decimal("0.00")

RefundRow = tuple[int, int, int | None, str, Decimal, datetime]


def business_days() -> list[date]:
    return [FIRST + timedelta(days=n) for n in range((LAST - FIRST).days + 1)]


def source_rows(dsn: str, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(dsn, autocommit=True) as con:
        return list(con.execute(sql).fetchall())


def daily_figures(dsn: str) -> dict[date, dict[str, Decimal]]:
    """FIGURES for every business day of the world (zero on a day without money)."""
    days = {day: dict.fromkeys(FIGURES, ZERO) for day in business_days()}
    for day, orders, gmv, discounts, commission in source_rows(dsn, SALES_BY_DAY):
        if day in days:
            days[day].update(
                orders=Decimal(orders), gmv=gmv, discounts=discounts, commission=commission
            )
    for _refund, _order, _item, _type, amount, _at, day in source_rows(dsn, REFUND_ROWS):
        if day in days:
            days[day]["refunds"] += amount
    for figures in days.values():
        figures["net_sales"] = figures["gmv"] - figures["discounts"]
        figures["net_revenue"] = figures["net_sales"] - figures["refunds"]
    return days


def slice_orders(dsn: str) -> dict[date, int]:
    """Per business day, the sum of revenue_daily's per-slice order counts (0 without sales)."""
    counted = {day: int(n) for day, n in source_rows(dsn, SLICE_ORDERS_BY_DAY)}
    return {day: counted.get(day, 0) for day in business_days()}


def refund_rows(dsn: str) -> dict[date, set[RefundRow]]:
    """Per business day, the refunds and chargebacks refunded that day."""
    days: dict[date, set[RefundRow]] = {day: set() for day in business_days()}
    for refund, order, item, kind, amount, at, day in source_rows(dsn, REFUND_ROWS):
        if day in days:
            days[day].add((int(refund), int(order), item, str(kind), amount, at))
    return days
