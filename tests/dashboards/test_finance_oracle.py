"""The finance figures of the dashboards' world, recomputed straight from the source PostgreSQL.

The world behind the dashboards (tests/generated_world.py: generated, landed by the four real
lanes, planned to prod by the real `sqlmesh`, 37 days at about 30 orders a day) holds late
refunds, partial refunds, chargebacks and cancelled orders. For every UTC day the SQL below
(written from the source schema and the KPI definitions in docs/warehouse.md, not from the
models) computes orders, GMV, discounts, net sales, refunds, net revenue and new customers, and
the warehouse must say the same to the cent in `bi.executive_daily`, in
`marts_finance.revenue_daily` summed over its slices, and in `marts_refunds.refunds`.
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal
from typing import Any

import psycopg
import pytest

from .conftest import END, DashboardWorld

MONEY = ("gmv", "discounts", "net_sales", "refunds", "net_revenue")

# Per UTC day: sales at paid_at, refunds and chargebacks at refunded_at, first paid orders.
SOURCE_DAYS = """
WITH paid AS (
    SELECT o.order_id, o.customer_id, o.paid_at
    FROM shop.orders AS o
    WHERE o.paid_at IS NOT NULL AND o.paid_at < %(end)s
),
sales AS (
    SELECT (p.paid_at AT TIME ZONE 'UTC')::date AS day,
           count(DISTINCT p.order_id) AS orders,
           sum(i.quantity * i.unit_price) AS gmv,
           sum(i.discount_amount) AS discounts
    FROM paid AS p JOIN shop.order_items AS i ON i.order_id = p.order_id
    GROUP BY 1
),
money_back AS (
    SELECT (r.refunded_at AT TIME ZONE 'UTC')::date AS day, sum(r.amount) AS refunds
    FROM shop.refunds AS r
    WHERE r.refunded_at < %(end)s
    GROUP BY 1
),
firsts AS (
    SELECT (min(p.paid_at) AT TIME ZONE 'UTC')::date AS day, p.customer_id
    FROM paid AS p
    GROUP BY p.customer_id
),
newcomers AS (
    SELECT day, count(*) AS new_customers FROM firsts GROUP BY day
),
days AS (SELECT day FROM sales UNION SELECT day FROM money_back)
SELECT d.day,
       coalesce(s.orders, 0),
       coalesce(s.gmv, 0),
       coalesce(s.discounts, 0),
       coalesce(s.gmv, 0) - coalesce(s.discounts, 0),
       coalesce(b.refunds, 0),
       coalesce(s.gmv, 0) - coalesce(s.discounts, 0) - coalesce(b.refunds, 0),
       coalesce(n.new_customers, 0)
FROM days AS d
LEFT JOIN sales AS s USING (day)
LEFT JOIN money_back AS b USING (day)
LEFT JOIN newcomers AS n USING (day)
ORDER BY d.day
"""

# What makes the world worth checking: money that moves long after the sale, in every shape.
WORLD_SHAPES = {
    "refund more than 72 h after payment": """
        SELECT count(*) FROM shop.refunds AS r JOIN shop.orders AS o USING (order_id)
        WHERE r.refunded_at > o.paid_at + interval '72 hours' AND r.refunded_at < %(end)s""",
    "partial refund": """
        SELECT count(*) FROM shop.refunds
        WHERE refund_type = 'partial' AND refunded_at < %(end)s""",
    "cancelled order": """
        SELECT count(*) FROM shop.orders WHERE status = 'cancelled' AND placed_at < %(end)s""",
}

Figures = dict[str, Decimal | int]


def _source(world: DashboardWorld, sql: str) -> list[tuple[Any, ...]]:
    with psycopg.connect(world.settings.pg_dsn, autocommit=True) as con:
        return list(con.execute(sql, {"end": END}).fetchall())


@pytest.fixture(scope="module")
def source_days(dashboard_world: DashboardWorld) -> dict[date, Figures]:
    names = ("orders", *MONEY, "new_customers")
    return {
        row[0]: dict(zip(names, row[1:], strict=True))
        for row in _source(dashboard_world, SOURCE_DAYS)
    }


def _warehouse(world: DashboardWorld, sql: str) -> list[tuple[Any, ...]]:
    with world.warehouse() as con:
        return con.execute(sql).fetchall()


def _complete_days(world: DashboardWorld, table: str, column: str) -> date:
    """The last UTC day a daily mart has built (its intervals end at the world's last midnight)."""
    ((last,),) = _warehouse(world, f"SELECT max(CAST({column} AS DATE)) FROM {table}")
    return last


def test_the_world_holds_late_partial_and_cancelled_money(dashboard_world: DashboardWorld) -> None:
    for shape, sql in WORLD_SHAPES.items():
        ((count,),) = _source(dashboard_world, sql)
        assert count > 0, f"the world has no {shape}: the oracle would prove nothing about it"


def test_executive_daily_equals_the_source_every_day(
    dashboard_world: DashboardWorld, source_days: dict[date, Figures]
) -> None:
    rows = _warehouse(
        dashboard_world,
        "SELECT revenue_date, orders, gmv, discounts, net_sales, refunds, net_revenue, "
        "new_customers FROM bi.executive_daily ORDER BY revenue_date",
    )
    names = ("orders", *MONEY, "new_customers")
    warehouse = {row[0]: dict(zip(names, row[1:], strict=True)) for row in rows}
    assert set(warehouse) == set(source_days)
    for day, wanted in source_days.items():
        got = warehouse[day]
        for name, value in wanted.items():
            assert Decimal(got[name]) == Decimal(value), (day, name, got[name], value)


def test_revenue_daily_summed_over_slices_equals_the_source(
    dashboard_world: DashboardWorld, source_days: dict[date, Figures]
) -> None:
    last = _complete_days(dashboard_world, "marts_finance.revenue_daily", "revenue_date")
    rows = _warehouse(
        dashboard_world,
        "SELECT revenue_date, sum(gmv), sum(discounts), sum(net_sales), sum(refunds), "
        "sum(net_revenue) FROM marts_finance.revenue_daily GROUP BY 1 ORDER BY 1",
    )
    warehouse = {row[0]: dict(zip(MONEY, row[1:], strict=True)) for row in rows}
    wanted_days = {day for day in source_days if day <= last}
    assert len(wanted_days) >= 20
    assert set(warehouse) == wanted_days
    for day in wanted_days:
        for name in MONEY:
            got, wanted = Decimal(warehouse[day][name]), Decimal(source_days[day][name])
            assert got == wanted, (day, name, got, wanted)


def test_the_refunds_mart_holds_every_source_refund_at_its_amount_and_time(
    dashboard_world: DashboardWorld,
) -> None:
    last = _complete_days(dashboard_world, "marts_refunds.refunds", "refunded_at")
    source = {
        row[0]: (Decimal(row[1]), row[2], row[3])
        for row in _source(
            dashboard_world,
            "SELECT refund_id, amount, refunded_at, refund_type FROM shop.refunds "
            "WHERE refunded_at < %(end)s",
        )
        if row[2].astimezone(UTC).date() <= last
    }
    mart = {
        row[0]: (Decimal(row[1]), row[2], row[3])
        for row in _warehouse(
            dashboard_world,
            "SELECT refund_id, amount, refunded_at, refund_type FROM marts_refunds.refunds",
        )
    }
    assert source and mart == source
