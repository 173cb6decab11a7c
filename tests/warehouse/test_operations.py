"""Signals gate intervals on the load log; injected bad data fails the right audit."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

from sqlmesh import Context

from brightcart_ops.registry import registry

from . import raw_fixture
from .conftest import Built

LEDGER = "marts_finance.revenue_ledger"


def _order_rows(
    order_id: int,
    paid_at: str,
    country: str | None = "US",
    captured: bool = True,
    customer_id: int = 4,
) -> dict[str, list[raw_fixture.Row]]:
    """One paid single-line order (product 100, 20.00) with its captured payment."""
    order = raw_fixture._order(
        order_id,
        customer_id,
        "paid",
        "web",
        "US",
        "0.00",
        "0.00",
        paid_at,
        paid_at,
        paid_at=paid_at,
    )
    order["shipping_country"] = country
    item = raw_fixture._item(order_id * 10, order_id, 100, 10, 1, "20.00", "0.00", paid_at)
    payments = (
        [
            {
                "payment_id": order_id * 10,
                "order_id": order_id,
                "method": "card",
                "status": "captured",
                "amount": Decimal("20.00"),
                "created_at": paid_at,
                "updated_at": paid_at,
            }
        ]
        if captured
        else []
    )
    return {
        "raw_shop.orders": [order],
        "raw_shop.order_items": [item],
        "raw_shop.payments": payments,
    }


def land(context: Context, *orders: dict[str, list[raw_fixture.Row]]) -> None:
    for rows_by_table in orders:
        for table, rows in rows_by_table.items():
            for statement in raw_fixture.insert_statements(table, rows, load_id="later"):
                context.engine_adapter.execute(statement)


def ledger_orders(built: Built) -> set[int]:
    return {row[0] for row in built.rows(f"SELECT DISTINCT order_id FROM {LEDGER}")}


def audit_failures(
    context: Context, model: str, start: str, end: str, execution_time: str | None = None
) -> dict[str, tuple[bool, list[tuple]]]:
    """Failed audits of ``model`` over a window: name -> (blocking, returned rows)."""
    snapshot = context.get_snapshot(model, raise_if_missing=True)
    results = context.snapshot_evaluator.audit(
        snapshot,
        snapshots=context.snapshots,
        start=start,
        end=end,
        execution_time=execution_time or end,
    )
    return {
        r.audit.name: (r.blocking, [tuple(x) for x in context.engine_adapter.fetchall(r.query)])
        for r in results
        if r.count and r.query is not None
    }


def reevaluate(context: Context, model: str, start: str, end: str) -> None:
    context.snapshot_evaluator.evaluate(
        context.get_snapshot(model, raise_if_missing=True),
        start=start,
        end=end,
        execution_time=end,
        snapshots=context.snapshots,
    )


def test_signal_blocks_past_high_water_mark_and_run_takes_only_new_intervals(built: Built) -> None:
    context = built.context
    land(
        context,
        _order_rows(3001, "2024-11-04 01:30:00+00"),
        _order_rows(3002, "2024-11-04 03:30:00+00"),
    )
    built.run()
    # Nothing landed past 2024-11-04 00:00 (the shop lane's high-water mark): no new interval ran.
    assert ledger_orders(built) == {1001, 1002, 1003, 1005}

    context.engine_adapter.execute(
        raw_fixture.load_log_statement("shop", "2024-11-04 03:00:00+00", load_id="later")
    )
    built.run()
    assert ledger_orders(built) == {1001, 1002, 1003, 1005, 3001}  # 3002 is past the new mark
    assert built.rows("SELECT MAX(revenue_hour) FROM marts_finance.revenue_hourly") != []
    # The daily and hourly marts are rebuilt every hour from the lines as of business date: the
    # day 2024-11-04 holds what landed up to the 03:00 mark, order 3001 and not 3002.
    assert built.rows(
        "SELECT CAST(revenue_date AS VARCHAR), SUM(gmv) FROM marts_finance.revenue_daily "
        "WHERE revenue_date >= '2024-11-04' GROUP BY 1"
    ) == [("2024-11-04", Decimal("20.00"))]
    assert built.rows(
        "SELECT CAST(revenue_hour AS VARCHAR), gmv FROM marts_finance.revenue_hourly "
        "WHERE revenue_hour >= '2024-11-04'"
    ) == [("2024-11-04 01:00:00+00", Decimal("20.00"))]
    intervals = context.state_sync.get_snapshots(
        [context.get_snapshot(LEDGER, raise_if_missing=True).snapshot_id]
    )
    (snapshot,) = intervals.values()
    assert max(end for _, end in snapshot.intervals) == 1730689200000  # 2024-11-04 03:00 UTC


# Independent of the models: per UTC day, the customers whose first paid order falls on it.
FIRST_ORDERS_PER_DAY = """
WITH o AS (
  SELECT * FROM raw_shop.orders AS r
  WHERE updated_at = (SELECT MAX(updated_at) FROM raw_shop.orders AS x
                      WHERE x.order_id = r.order_id)
), firsts AS (
  SELECT customer_id, CAST(MIN(paid_at) AS DATE) AS day FROM o
  WHERE paid_at IS NOT NULL GROUP BY customer_id
)
SELECT CAST(day AS VARCHAR), COUNT(*) FROM firsts GROUP BY 1 ORDER BY 1
"""


def test_todays_new_customers_arrive_in_the_hourly_run(built: Built) -> None:
    """A first order paid this hour shows as a new customer in the same hourly run as its money,
    though the customers mart is rebuilt only once a day."""
    context = built.context
    newcomer = {
        **raw_fixture.CUSTOMERS[3],
        "customer_id": 904,
        "email": "eve@example.test",
        "created_at": "2024-11-04 03:05:00+00",
        "updated_at": "2024-11-04 03:05:00+00",
    }  # signs up this hour (an order's customer must exist: the orders view audits it)
    land(
        context,
        {"raw_shop.customers": [newcomer]},
        _order_rows(3003, "2024-11-04 03:15:00+00", customer_id=904),
    )
    context.engine_adapter.execute(
        raw_fixture.load_log_statement("shop", "2024-11-04 04:00:00+00", load_id="later-2")
    )
    built.run()
    assert 3003 in ledger_orders(built)
    assert built.rows("SELECT COUNT(*) FROM marts_customers.customers WHERE customer_id = 904") == [
        (0,)
    ]  # the daily mart has not run for 2024-11-04 yet
    expected = dict(built.rows(FIRST_ORDERS_PER_DAY))
    assert expected["2024-11-04"] >= 1
    shown = dict(
        built.rows(
            "SELECT CAST(revenue_date AS VARCHAR), new_customers FROM bi.executive_daily "
            "WHERE new_customers > 0"
        )
    )
    assert shown == expected


def test_orphan_line_fails_referential_integrity(built: Built) -> None:
    context = built.context
    orphan = raw_fixture._item(5999, 9999, 100, 10, 1, "20.00", "0.00", "2024-11-03 10:00:00+00")
    land(context, {"raw_shop.order_items": [orphan]})
    failures = audit_failures(context, "staging.stg_shop__order_items", "2024-11-03", "2024-11-04")
    assert failures == {"assert_references": (True, [(9999, "staging.stg_shop__orders")])}
    assert not context.audit(
        "2024-11-03", "2024-11-04", models=iter(["staging.stg_shop__order_items"])
    )
    context.engine_adapter.execute("DELETE FROM raw_shop.order_items WHERE order_item_id = 5999")


def test_null_spike_and_missing_payment_fail_their_audits(built: Built) -> None:
    context = built.context
    spike = [_order_rows(4000 + n, f"2024-11-03 1{n}:00:00+00", country=None) for n in range(3)]
    unpaid = _order_rows(4100, "2024-11-03 18:00:00+00", captured=False)
    land(context, *spike, unpaid)
    reevaluate(context, LEDGER, "2024-11-03", "2024-11-03 23:59:59")
    failures = audit_failures(context, LEDGER, "2024-11-03", "2024-11-03 23:59:59.999999")
    blocking, rows = failures.pop("assert_null_rate_vs_baseline")
    assert not blocking
    assert [(r[0], r[1]) for r in rows] == [("country", 21)]  # 20 new rows + the 11-03 refund
    assert failures == {"assert_ledger_matches_payments": (True, [(4100, Decimal("20.00"), None)])}


def test_row_count_drop_against_same_hour_baseline(built: Built) -> None:
    context = built.context
    # Seven quiet-free days: four orders in the 10:00 hour each day (5 ledger rows per order).
    history = [
        _order_rows(5000 + day * 10 + n, f"2024-10-{25 + day} 10:{10 * n:02d}:00+00")
        for day in range(7)
        for n in range(4)
    ]
    land(context, *history)
    reevaluate(context, LEDGER, "2024-10-25", "2024-10-31 23:59:59")
    ok = audit_failures(context, LEDGER, "2024-10-31 10:00", "2024-10-31 10:59:59.999999")
    assert "assert_row_count_vs_baseline" not in ok
    # 2024-11-01 10:00-11:00 holds no money (order 1004 was cancelled) against ~20 rows usually.
    failures = audit_failures(context, LEDGER, "2024-11-01 10:00", "2024-11-01 10:59:59.999999")
    blocking, rows = failures["assert_row_count_vs_baseline"]
    assert not blocking
    assert [(str(r[0])[:16], r[1]) for r in rows] == [("2024-11-01 10:00", 0)]


def test_freshness_audit_flags_a_lane_behind_its_sla(built: Built) -> None:
    context = built.context
    fresh = audit_failures(
        context,
        "ops.source_freshness",
        "2024-11-04",
        "2024-11-04",
        execution_time="2024-11-04 04:00:00",
    )
    assert "assert_source_fresh" not in fresh
    late = audit_failures(
        context,
        "ops.source_freshness",
        "2024-11-04",
        "2024-11-04",
        execution_time="2024-11-04 09:00:00",
    )
    blocking, rows = late["assert_source_fresh"]
    assert not blocking
    assert [r[0] for r in rows] == ["shop"]


def test_freshness_audit_holds_each_lane_to_its_own_lag_limit(built: Built) -> None:
    """Each lane against its `max_lag_minutes` from the lane registry: 10 minutes inside its limit
    passes, 10 minutes past it fails (marketing's day-long limit and the hourly lanes' 90 minutes
    both sit on either side of a single 2-hour limit); a lane the registry does not declare is
    held to the audit's default of 120 minutes."""
    context = built.context
    now = datetime(2024, 11, 10, 12, 0, tzinfo=UTC)
    limits = registry().max_lag_minutes()
    assert limits["marketing"] > 130 and limits["shop"] < 110, limits  # the case's premise
    within, beyond = {"events", "marketing"}, {"shop", "crm"}
    gaps = {lane: limits[lane] - 10 for lane in within} | {
        lane: limits[lane] + 10 for lane in beyond
    }
    gaps["legacy"] = 130.0
    statements = [
        raw_fixture.load_log_statement(
            lane, (now - timedelta(minutes=gap)).isoformat(), load_id="freshness-limits"
        )
        for lane, gap in gaps.items()
    ]
    for statement in statements:
        context.engine_adapter.execute(statement)
    try:
        failures = audit_failures(
            context,
            "ops.source_freshness",
            "2024-11-10",
            "2024-11-10",
            execution_time=now.strftime("%Y-%m-%d %H:%M:%S"),
        )
    finally:
        context.engine_adapter.execute(
            "DELETE FROM raw_meta.load_log WHERE load_id = 'freshness-limits'"
        )
    blocking, rows = failures["assert_source_fresh"]
    assert not blocking
    flagged = {str(r[0]): float(r[2]) for r in rows}
    assert flagged == {"shop": limits["shop"], "crm": limits["crm"], "legacy": 120.0}, rows
