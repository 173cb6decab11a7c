"""The reconciliation compares the source with what finance reads and repairs any age.

The package's generated world (tests/finance/conftest.py: late, partial and cancelled money),
landed by the four real lanes and planned in prod by the real `sqlmesh`, comes to this test first.
A clean world reports every business day `match` for the three finance marts. Then, on a
business day older than every model lookback, one amount of marts_finance.revenue_daily is
changed and that day's rows of marts_refunds.refunds are deleted; `brightcart reconcile` (the
command the schedule runs) records both mismatches on that day only, raises one alert, restates
the finance marts in prod for that day, and the re-check records `repaired`: the marts equal the
figures this test computes from the source itself.
"""

from __future__ import annotations

import re
from datetime import date, timedelta
from decimal import Decimal

from brightcart_ops.repair import Restatement, finance_restatements
from brightcart_ops.settings import PROJECT_ROOT

from .conftest import FinanceWorld
from .figures import FIRST, LAST

LOOKBACK_DAYS = 3  # the longest lookback of the finance models (72 h, 3 days)
MARTS = ("bi.executive_daily", "marts_finance.revenue_daily", "marts_refunds.refunds")
MONEY = ("gmv", "discounts", "net_sales", "refunds", "net_revenue")

# This test's own figures per UTC day, from the KPI definitions in docs/warehouse.md.
SALES = """
SELECT (o.paid_at AT TIME ZONE 'UTC')::date, count(DISTINCT o.order_id),
       sum(i.quantity * i.unit_price), sum(i.discount_amount)
FROM shop.orders AS o JOIN shop.order_items AS i ON i.order_id = o.order_id
WHERE o.paid_at IS NOT NULL AND o.paid_at < %(end)s
GROUP BY 1
"""
REFUNDS = """
SELECT refund_id, amount, refund_type, (refunded_at AT TIME ZONE 'UTC')::date
FROM shop.refunds WHERE refunded_at < %(end)s
"""


def source_days(world: FinanceWorld) -> dict[date, dict[str, Decimal]]:
    days: dict[date, dict[str, Decimal]] = {}
    for day, orders, gmv, discounts in world.source(SALES):
        days[day] = {"orders": Decimal(orders), "gmv": gmv, "discounts": discounts}
    for _refund, amount, _type, day in world.source(REFUNDS):
        figures = days.setdefault(day, {"orders": Decimal(0), "gmv": Decimal(0)})
        figures.setdefault("discounts", Decimal(0))
        figures["refunds"] = figures.get("refunds", Decimal(0)) + amount
    for figures in days.values():
        figures.setdefault("refunds", Decimal(0))
        figures["net_sales"] = figures["gmv"] - figures["discounts"]
        figures["net_revenue"] = figures["net_sales"] - figures["refunds"]
    return {day: figures for day, figures in days.items() if FIRST <= day <= LAST}


def revenue_daily(world: FinanceWorld, day: date) -> dict[str, Decimal]:
    ((*values,),) = world.warehouse(
        "SELECT sum(gmv), sum(discounts), sum(net_sales), sum(refunds), sum(net_revenue) "
        "FROM marts_finance.revenue_daily WHERE revenue_date = ?",
        (day,),
    )
    return dict(zip(MONEY, values, strict=True))


def mart_refunds(world: FinanceWorld, day: date) -> set[tuple[int, Decimal, str]]:
    rows = world.warehouse(
        "SELECT refund_id, amount, refund_type FROM marts_refunds.refunds "
        "WHERE CAST(refunded_at AT TIME ZONE 'UTC' AS DATE) = ?",
        (day,),
    )
    return {(int(r), Decimal(a), str(t)) for r, a, t in rows}


def source_refunds(world: FinanceWorld, day: date) -> set[tuple[int, Decimal, str]]:
    return {(int(r), Decimal(a), str(t)) for r, a, t, d in world.source(REFUNDS) if d == day}


def test_clean_world_matches_then_an_old_corrupted_day_is_repaired(
    finance_world: FinanceWorld,
) -> None:
    world = finance_world
    figures = source_days(world)
    old_enough = [
        day
        for day, f in figures.items()
        if f["refunds"] > 0 and f["gmv"] > 0 and day <= LAST - timedelta(days=LOOKBACK_DAYS + 1)
    ]
    assert old_enough, "no day older than the lookbacks holds both sales and refunds"
    target = max(old_enough)

    # A clean world: every day of every finance mart matches, on figures that are not zero.
    code, output = world.reconcile()
    assert code == 0, output
    clean = [r for r in world.results() if r[2] in MARTS]
    assert {r[4] for r in clean} == {"match"}
    days = (LAST - FIRST).days + 1
    assert sorted((r[2], r[3]) for r in clean) == sorted(
        (mart, FIRST + timedelta(days=n)) for mart in MARTS for n in range(days)
    )
    executive = {r[3]: r for r in clean if r[2] == "bi.executive_daily"}
    assert sum(r[7] for r in executive.values()) == sum(f["net_revenue"] for f in figures.values())
    assert {d: r[5] for d, r in executive.items() if r[5]} == {
        d: f["orders"] for d, f in figures.items() if f["orders"]
    }
    refunds = {r[3]: r for r in clean if r[2] == "marts_refunds.refunds"}
    assert sum(r[7] for r in refunds.values()) == sum(f["refunds"] for f in figures.values())
    clean_runs = {r[0] for r in world.results()}
    alerts_before = len(world.alerts())

    # Corrupt the old day: one amount of revenue_daily, and every refund row of the refunds mart.
    assert revenue_daily(world, target) == {name: figures[target][name] for name in MONEY}
    wanted_refunds = source_refunds(world, target)
    assert wanted_refunds and mart_refunds(world, target) == wanted_refunds
    changed = world.corrupt(
        "marts_finance.revenue_daily",
        "UPDATE {table} SET gmv = gmv + 10, net_sales = net_sales + 10, "
        "net_revenue = net_revenue + 10 WHERE revenue_date = ? AND rowid = "
        "(SELECT min(rowid) FROM {table} WHERE revenue_date = ? AND gmv > 0) RETURNING 1",
        (target, target),
    )
    deleted = world.corrupt(
        "marts_refunds.refunds",
        "DELETE FROM {table} WHERE CAST(refunded_at AT TIME ZONE 'UTC' AS DATE) = ? RETURNING 1",
        (target,),
    )
    assert changed == 1 and deleted == len(wanted_refunds)
    assert revenue_daily(world, target)["gmv"] == figures[target]["gmv"] + 10
    assert mart_refunds(world, target) == set()

    code, output = world.reconcile()
    assert code == 0, output
    run = [r for r in world.results() if r[0] not in clean_runs]
    assert len({r[0] for r in run}) == 1
    mismatched = {(r[2], r[3]) for r in run if r[1] == "check" and r[4] == "mismatch"}
    assert mismatched == {
        ("marts_finance.revenue_daily", target),
        ("marts_refunds.refunds", target),
    }
    checked = {(r[2], r[3]): r for r in run if r[1] == "check"}
    revenue = checked["marts_finance.revenue_daily", target]
    assert revenue[8] - revenue[7] == Decimal(10)  # warehouse net revenue 10 above the source
    assert (
        f"gmv source {figures[target]['gmv']} warehouse {figures[target]['gmv'] + 10}"
        in (revenue[9])
    )
    lost = checked["marts_refunds.refunds", target]
    assert (lost[5], lost[6]) == (len(wanted_refunds), 0)
    assert lost[7] == sum(a for _, a, _ in wanted_refunds) and lost[8] == 0
    assert checked["bi.executive_daily", target][4] == "match"  # the ledger was not touched
    rechecked = {(r[2], r[3]): r[4] for r in run if r[1] == "recheck"}
    assert rechecked == dict.fromkeys(mismatched, "repaired")

    # The marts equal the source again, on this test's own figures.
    assert revenue_daily(world, target) == {name: figures[target][name] for name in MONEY}
    assert mart_refunds(world, target) == wanted_refunds

    # One alert for the incident, raised once and resolved by the repair.
    alerts = [a for a in world.alerts()[alerts_before:] if a["kind"] == "reconciliation_mismatch"]
    assert [(a["incident_key"], a["resolved"]) for a in alerts] == [
        ("reconciliation_mismatch:finance", False),
        ("reconciliation_mismatch:finance", True),
    ]
    assert f"marts_refunds.refunds {target}" in alerts[0]["detail"]
    assert world.warehouse(
        "SELECT count(*), count(resolved_at) FROM ops.alerts WHERE kind = 'reconciliation_mismatch'"
    ) == [(1, 1)]


def test_finance_restatements_restate_the_ledger_from_the_oldest_day_through_today() -> None:
    day, today = date(2026, 10, 20), date(2026, 11, 4)
    ledger, refunds = "marts_finance.revenue_ledger", "marts_refunds.refunds"
    # money of a business day may be booked on any later day: one range, oldest day to today
    assert finance_restatements(
        {
            "marts_finance.revenue_daily": {day, day + timedelta(days=1)},
            "marts_refunds.refunds": {day + timedelta(days=1), day + timedelta(days=9)},
        },
        today,
    ) == [Restatement((ledger, refunds), day, today)]
    assert finance_restatements({"bi.executive_daily": {day}}, today) == [
        Restatement((ledger,), day, today)
    ]
    assert finance_restatements({"marts_refunds.refunds": {day}}, today) == [
        Restatement((refunds,), day, today)
    ]
    assert finance_restatements({"bi.executive_daily": {today}}, day) == [
        Restatement((ledger,), today, today)
    ]
    assert finance_restatements({}, today) == []
    defined = {
        match.group(1)
        for path in (PROJECT_ROOT / "models").rglob("*.sql")
        for match in [re.search(r"^\s*name\s+([\w.]+)", path.read_text(), re.MULTILINE)]
        if match
    }
    assert {ledger, refunds} <= defined
