"""A full prod plan on the raw fixture builds every model with hand-computed KPIs."""

from __future__ import annotations

from decimal import Decimal

import sqlglot
from sqlmesh.core.lineage import column_dependencies

from . import raw_fixture
from .conftest import Built

MARTS = [
    "marts_finance.revenue_ledger",
    "marts_finance.revenue_daily",
    "marts_finance.revenue_hourly",
    "marts_orders.orders",
    "marts_refunds.refund_rates",
    "marts_customers.cohorts_monthly",
    "bi.executive_daily",
]

# Written apart from the models: latest version per key via MAX(updated_at), plain joins.
INDEPENDENT_DAILY = """
WITH o AS (
  SELECT * FROM raw_shop.orders AS r
  WHERE updated_at = (SELECT MAX(updated_at) FROM raw_shop.orders AS x
                      WHERE x.order_id = r.order_id)
), i AS (
  SELECT DISTINCT order_item_id, order_id, quantity, unit_price, discount_amount
  FROM raw_shop.order_items AS r
  WHERE updated_at = (SELECT MAX(updated_at) FROM raw_shop.order_items AS x
                      WHERE x.order_item_id = r.order_item_id)
), f AS (
  SELECT refund_id, amount, refunded_at FROM raw_shop.refunds AS r
  WHERE updated_at = (SELECT MAX(updated_at) FROM raw_shop.refunds AS x
                      WHERE x.refund_id = r.refund_id)
    AND _sdc_deleted_at IS NULL
), sales AS (
  SELECT CAST(o.paid_at AS DATE) AS day, SUM(i.quantity * i.unit_price) AS gmv,
         SUM(i.quantity * i.unit_price - i.discount_amount) AS net_sales,
         COUNT(DISTINCT o.order_id) AS orders
  FROM o JOIN i ON i.order_id = o.order_id WHERE o.paid_at IS NOT NULL GROUP BY 1
), refunds AS (
  SELECT CAST(refunded_at AS DATE) AS day, SUM(amount) AS refunds FROM f GROUP BY 1
), firsts AS (
  SELECT CAST(MIN(paid_at) AS DATE) AS day, customer_id FROM o WHERE paid_at IS NOT NULL GROUP BY 2
)
SELECT CAST(d.day AS VARCHAR), COALESCE(s.gmv, 0), COALESCE(s.net_sales, 0), COALESCE(r.refunds, 0),
       COALESCE(s.net_sales, 0) - COALESCE(r.refunds, 0), COALESCE(s.orders, 0),
       (SELECT COUNT(*) FROM firsts WHERE firsts.day = d.day)
FROM (SELECT day FROM sales UNION SELECT day FROM refunds) AS d
LEFT JOIN sales AS s ON s.day = d.day LEFT JOIN refunds AS r ON r.day = d.day
ORDER BY 1
"""


def executive(built: Built) -> dict[str, tuple[object, ...]]:
    rows = built.rows(
        "SELECT CAST(revenue_date AS VARCHAR), gmv, net_sales, refunds, net_revenue, orders, "
        "new_customers, commission_revenue FROM bi.executive_daily ORDER BY 1"
    )
    return {str(row[0]): row[1:] for row in rows}


def test_executive_daily_equals_hand_computed_kpis(built: Built) -> None:
    got = executive(built)
    assert sorted(got) == sorted(raw_fixture.EXPECTED_DAILY)
    for day, kpis in raw_fixture.EXPECTED_DAILY.items():
        gmv, net_sales, refunds, net_revenue, orders, new_customers, commission = got[day]
        assert (gmv, net_sales, refunds, net_revenue) == (
            kpis["gmv"],
            kpis["net_sales"],
            kpis["refunds"],
            kpis["net_revenue"],
        ), day
        assert (orders, new_customers, commission) == (
            kpis["orders"],
            kpis["new_customers"],
            kpis["commission_revenue"],
        ), day


def test_kpis_equal_independent_sql_over_raw(built: Built) -> None:
    independent = {str(row[0]): row[1:] for row in built.rows(INDEPENDENT_DAILY)}
    got = executive(built)
    assert sorted(independent) == sorted(got)
    for day, expected in independent.items():
        assert tuple(Decimal(v) for v in expected[:4]) == got[day][:4], day
        assert tuple(expected[4:6]) == got[day][4:6], day
    daily_mart = built.rows(
        "SELECT CAST(revenue_date AS VARCHAR), SUM(gmv), SUM(net_revenue) "
        "FROM marts_finance.revenue_daily GROUP BY 1 ORDER BY 1"
    )
    assert [(d, g, n) for d, g, n in daily_mart] == [(d, got[d][0], got[d][3]) for d in sorted(got)]


def test_partial_refund_lands_next_month_and_chargeback_is_unallocated(built: Built) -> None:
    # as of business date: the refunds that stand
    assert built.rows(
        "SELECT entry_type, CAST(entry_at AS VARCHAR), order_id, category, seller_id, amount "
        "FROM marts_finance.revenue_lines WHERE entry_type IN ('refund', 'chargeback') ORDER BY 2"
    ) == [
        ("chargeback", "2024-11-02 15:00:00+00", 1005, "unallocated", None, Decimal("-100.00")),
        ("refund", "2024-11-03 09:00:00+00", 1002, "games", 20, Decimal("-30.00")),
    ]
    # as booked: refund 7003, entered at 11:00 and deleted at the source at 11:05, was booked
    # and then reversed when its deletion became known, both at its business time
    assert built.rows(
        "SELECT CAST(booked_at AS VARCHAR), is_reversal, CAST(entry_at AS VARCHAR), amount "
        "FROM marts_finance.revenue_ledger WHERE refund_id = 7003 ORDER BY 1"
    ) == [
        ("2024-11-02 11:00:00+00", False, "2024-11-02 11:00:00+00", Decimal("-5.00")),
        ("2024-11-02 11:05:00+00", True, "2024-11-02 11:00:00+00", Decimal("5.00")),
    ]
    # the cancelled, never paid order 1004 produced no money
    assert built.rows(
        "SELECT COUNT(*) FROM marts_finance.revenue_ledger WHERE order_id = 1004"
    ) == [(0,)]


def test_current_state_uses_latest_version_and_drops_hard_deletes(built: Built) -> None:
    assert built.rows(
        "SELECT order_id, status, order_total, refunded_amount FROM marts_orders.orders ORDER BY 1"
    ) == [
        (1001, "delivered", Decimal("94.00"), Decimal("0.00")),
        (1002, "paid", Decimal("80.00"), Decimal("30.00")),
        (1003, "paid", Decimal("24.00"), Decimal("0.00")),
        (1004, "cancelled", Decimal("50.00"), Decimal("0.00")),
        (1005, "paid", Decimal("100.00"), Decimal("100.00")),
    ]
    assert built.rows("SELECT COUNT(*) FROM marts_refunds.refunds WHERE refund_id = 7003") == [(0,)]


def test_cohorts_cross_the_month_boundary(built: Built) -> None:
    assert built.rows(
        "SELECT CAST(cohort_month AS VARCHAR), months_since_first_order, cohort_size, "
        "active_customers, retention_rate, net_revenue, cumulative_revenue_per_customer "
        "FROM bi.cohorts ORDER BY 1, 2"
    ) == [
        ("2024-10-01", 0, 2, 2, Decimal("1.000000"), Decimal("166.00"), Decimal("83.00")),
        ("2024-10-01", 1, 2, 1, Decimal("0.500000"), Decimal("-10.00"), Decimal("78.00")),
        ("2024-11-01", 0, 1, 1, Decimal("1.000000"), Decimal("0.00"), Decimal("0.00")),
    ]


def test_money_and_time_types_survive(built: Built) -> None:
    types: dict[str, str] = dict(
        built.rows(
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'marts_finance' AND table_name = 'revenue_ledger'"
        )
    )
    assert types["amount"] == "DECIMAL(18,2)"
    assert types["entry_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["order_id"] == "BIGINT"


def test_rerunning_an_interval_gives_identical_checksums(built: Built) -> None:
    context = built.context
    before = {name: built.checksum(name) for name in MARTS}
    snapshot = context.get_snapshot("marts_finance.revenue_ledger", raise_if_missing=True)
    for _ in range(2):
        context.snapshot_evaluator.evaluate(
            snapshot,
            start="2024-10-31",
            end="2024-11-01",
            execution_time="2024-11-04",
            snapshots=context.snapshots,
        )
        assert (
            built.checksum("marts_finance.revenue_ledger") == before["marts_finance.revenue_ledger"]
        )


def test_restating_a_window_gives_identical_results(built: Built) -> None:
    before = {name: built.checksum(name) for name in MARTS}
    plan = built.context.plan(
        restate_models=["marts_finance.revenue_ledger"],
        start="2024-10-31",
        end="2024-11-02",
        auto_apply=True,
        no_prompts=True,
    )
    restated = {s.name.split(".", 1)[-1].replace('"', "") for s in plan.restatements}
    assert {"marts_finance.revenue_ledger", "marts_finance.revenue_daily"} <= restated
    assert {name: built.checksum(name) for name in MARTS} == before


def test_every_model_renders_for_redshift(built: Built) -> None:
    names = sorted(built.context.models)
    assert len(names) >= 20
    for name in names:
        model = built.context.get_model(name)
        if model.kind.is_external:
            continue
        sql = built.context.render(name).sql(dialect="redshift")
        assert sqlglot.parse_one(sql, read="redshift") is not None, name
        assert "LISTAGG(DISTINCT" not in sql.upper(), name


def test_lineage_reaches_raw_shop_columns(built: Built) -> None:
    context = built.context
    seen: set[tuple[str, str]] = set()
    raw: dict[str, set[str]] = {}
    todo = [('"warehouse"."bi"."executive_daily"', "net_revenue")]
    while todo:
        model, column = todo.pop()
        if (model, column) in seen:
            continue
        seen.add((model, column))
        for parent, columns in column_dependencies(context, model, column).items():
            if parent in context.models and not context.get_model(parent).kind.is_external:
                todo.extend((parent, c) for c in columns)
            else:
                raw.setdefault(parent.replace('"', ""), set()).update(columns)
    assert {"quantity", "unit_price", "discount_amount"} <= raw["warehouse.raw_shop.order_items"]
    assert "amount" in raw["warehouse.raw_shop.refunds"]


def test_state_lives_beside_the_warehouse_not_in_it(built: Built) -> None:
    assert (built.workdir / "warehouse.state.duckdb").exists()
    schemas = {row[0] for row in built.rows("SELECT schema_name FROM information_schema.schemata")}
    assert {"marts_finance", "bi", "staging"} <= schemas
    assert "sqlmesh" not in schemas
