"""Money that becomes known late reaches every finance mart in the hour it lands, on its own date.

On the package's world (after the reconciliation test), one quiet business hour passes in which
the source PostgreSQL gets only three changes of money: a refund dated 10 days back, a chargeback
dated 30 days back, and a correction of an order paid more than 7 days back (one line's discount
2.50 higher, its captured payment 2.50 lower, so the payments still equal the order's money).
The shop lane lands them (`run_lane`) and the hourly transform job runs as its schedule runs it
(`run_job`: `meltano run transform`, which is `brightcart transform`, `sqlmesh run prod` on the
world's clock). All three are older than every lookback a time-ranged finance model has.

Then, for every business day of the world, marts_finance.revenue_daily summed over its slices,
bi.executive_daily and the rows of marts_refunds.refunds equal the figures this test computes from
the source with its own SQL (tests/finance/figures.py), to the cent. The ledger booked that hour
only the three changes, at the time each became known: one entry for the refund and one for the
chargeback, each at its refunded_at; for the correction a reversal and a replacement of each line
that changed, which net to the change; and every ledger row booked before that hour is the same
as before the run, value for value.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, date, datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import duckdb

from brightcart_ops.landed import as_utc
from brightcart_ops.lanes import run_lane
from brightcart_ops.registry import registry
from brightcart_ops.runner import run_job
from brightcart_world.generator.database import (
    Sequences,
    connect,
    read_clock,
    set_clock_setting,
    write_clock,
)
from brightcart_world.settings import Settings

from .conftest import FinanceWorld
from .figures import (
    END,
    FIGURES,
    ZERO,
    business_days,
    daily_figures,
    refund_rows,
    slice_orders,
)

HOUR, NEXT = END, END + timedelta(hours=1)  # the quiet hour after the world's last
REFUND_AT = END - timedelta(days=10)
CHARGEBACK_AT = END - timedelta(days=30)
PAID_BY = END - timedelta(days=7)  # the corrected order was paid before this
CORRECTION = Decimal("2.50")
# When each change is written: the source's trigger stamps updated_at with the world's clock.
REFUND_KNOWN = HOUR + timedelta(minutes=10)
CHARGEBACK_KNOWN = HOUR + timedelta(minutes=20)
CORRECTION_KNOWN = HOUR + timedelta(minutes=30)
BEAT = NEXT - timedelta(seconds=1)  # the shop's heartbeat at hh:59:59, as the generator beats
CENT = Decimal("0.01")
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)

NO_REFUND = "NOT EXISTS (SELECT 1 FROM shop.refunds AS r WHERE r.order_id = o.order_id)"
REFUNDABLE_LINE = f"""
SELECT o.order_id, i.order_item_id, i.quantity * i.unit_price - i.discount_amount
FROM shop.orders AS o JOIN shop.order_items AS i ON i.order_id = o.order_id
WHERE o.paid_at < %(paid_before)s AND o.status <> 'cancelled' AND {NO_REFUND}
  AND i.quantity * i.unit_price - i.discount_amount > 0
ORDER BY o.paid_at DESC, i.order_item_id LIMIT 1
"""
CHARGEABLE_ORDER = f"""
SELECT o.order_id, sum(p.amount)
FROM shop.orders AS o JOIN shop.payments AS p ON p.order_id = o.order_id AND p.status = 'captured'
WHERE o.paid_at < %(paid_before)s AND o.status <> 'cancelled' AND {NO_REFUND}
  AND o.order_id <> ALL(%(taken)s)
GROUP BY o.order_id, o.paid_at ORDER BY o.paid_at DESC LIMIT 1
"""
# A line whose commission changes with its discount, on an order with one captured payment.
CORRECTABLE_LINE = f"""
SELECT o.order_id, i.order_item_id, p.payment_id, o.paid_at,
       i.quantity * i.unit_price, i.discount_amount, s.commission_rate
FROM shop.orders AS o
JOIN shop.order_items AS i ON i.order_id = o.order_id
JOIN shop.sellers AS s ON s.seller_id = i.seller_id
JOIN shop.payments AS p ON p.order_id = o.order_id AND p.status = 'captured'
WHERE o.paid_at < %(paid_before)s AND o.status <> 'cancelled' AND {NO_REFUND}
  AND o.order_id <> ALL(%(taken)s)
  AND i.quantity * i.unit_price - i.discount_amount >= 2 * %(correction)s
  AND p.amount >= 2 * %(correction)s AND s.commission_rate >= 0.01
  AND (SELECT count(*) FROM shop.payments AS q
       WHERE q.order_id = o.order_id AND q.status = 'captured') = 1
ORDER BY o.paid_at DESC, i.order_item_id LIMIT 1
"""
# Rows of the source's money tables changed in the quiet hour (only this test's own).
CHANGED_IN_HOUR = """
SELECT 'orders', order_id FROM shop.orders WHERE updated_at >= %(hour)s
UNION ALL SELECT 'order_items', order_item_id FROM shop.order_items WHERE updated_at >= %(hour)s
UNION ALL SELECT 'payments', payment_id FROM shop.payments WHERE updated_at >= %(hour)s
UNION ALL SELECT 'refunds', refund_id FROM shop.refunds WHERE updated_at >= %(hour)s
"""
LEDGER_BOOKED = """
SELECT entry_id, entry_key, entry_type, entry_at, booked_at, is_adjustment, is_reversal,
       order_id, order_item_id, refund_id, amount
FROM marts_finance.revenue_ledger WHERE booked_at >= ? AND booked_at < ? ORDER BY ALL
"""
DAILY = """
SELECT revenue_date, sum(orders), sum(gmv), sum(discounts), sum(net_sales), sum(refunds),
       sum(net_revenue), sum(commission_revenue)
FROM marts_finance.revenue_daily GROUP BY revenue_date
"""
EXECUTIVE = """
SELECT revenue_date, orders, gmv, discounts, net_sales, refunds, net_revenue, commission_revenue
FROM bi.executive_daily
"""
REFUNDS_MART = """
SELECT refund_id, order_id, order_item_id, refund_type, amount, refunded_at,
       CAST(refunded_at AT TIME ZONE 'UTC' AS DATE)
FROM marts_refunds.refunds
"""


@dataclass(frozen=True)
class LateMoney:
    refund_id: int
    refund_order: int
    refund_item: int
    refund_amount: Decimal
    chargeback_id: int
    chargeback_order: int
    chargeback_amount: Decimal
    corrected_order: int
    corrected_item: int
    corrected_paid_at: datetime
    old_discount: Decimal
    old_commission: Decimal
    new_commission: Decimal

    @property
    def orders(self) -> set[int]:
        return {self.refund_order, self.chargeback_order, self.corrected_order}


Entry = tuple[Any, ...]  # a LEDGER_BOOKED row


def commission(net: Decimal, rate: Decimal) -> Decimal:
    """A line's marketplace commission: net sales at the seller's rate, to the cent."""
    return (net * rate).quantize(CENT, rounding=ROUND_HALF_UP)


def write_late_money(settings: Settings) -> LateMoney:
    """The quiet hour in the source: the three changes, the shop's heartbeat, the clock."""
    with connect(settings) as con:
        clock = read_clock(con)
        assert clock.now == HOUR, f"the world's clock is at {clock.now}, not at the world's end"
        refund_line = con.execute(
            REFUNDABLE_LINE, {"paid_before": REFUND_AT - timedelta(days=1)}
        ).fetchone()
        assert refund_line, "no paid order without refunds before the refund's date"
        refund_order, refund_item, refund_amount = refund_line
        charged = con.execute(
            CHARGEABLE_ORDER,
            {"paid_before": CHARGEBACK_AT - timedelta(days=1), "taken": [refund_order]},
        ).fetchone()
        assert charged, "no paid order without refunds before the chargeback's date"
        chargeback_order, chargeback_amount = charged
        corrected = con.execute(
            CORRECTABLE_LINE,
            {
                "paid_before": PAID_BY,
                "taken": [refund_order, chargeback_order],
                "correction": CORRECTION,
            },
        ).fetchone()
        assert corrected, f"no order paid before {PAID_BY} with a line to correct"
        order, item, payment, paid_at, gross, discount, rate = corrected

        ids = Sequences(con)
        refund_id, chargeback_id = ids.take("refund"), ids.take("refund")
        ids.save(con)
        con.commit()
        for known, sql, params in (
            (
                REFUND_KNOWN,
                "INSERT INTO shop.refunds (refund_id, order_id, order_item_id, refund_type, "
                "amount, reason, refunded_at) VALUES (%s, %s, %s, 'partial', %s, 'damaged', %s)",
                (refund_id, refund_order, refund_item, refund_amount, REFUND_AT),
            ),
            (
                CHARGEBACK_KNOWN,
                "INSERT INTO shop.refunds (refund_id, order_id, order_item_id, refund_type, "
                "amount, reason, refunded_at) "
                "VALUES (%s, %s, NULL, 'chargeback', %s, 'chargeback', %s)",
                (chargeback_id, chargeback_order, chargeback_amount, CHARGEBACK_AT),
            ),
        ):
            set_clock_setting(con, known)  # for this transaction: created_at and updated_at
            con.execute(sql, params)
            con.commit()
        set_clock_setting(con, CORRECTION_KNOWN)
        con.execute(
            "UPDATE shop.order_items SET discount_amount = discount_amount + %s "
            "WHERE order_item_id = %s",
            (CORRECTION, item),
        )
        con.execute(
            "UPDATE shop.payments SET amount = amount - %s WHERE payment_id = %s",
            (CORRECTION, payment),
        )
        con.commit()
        set_clock_setting(con, BEAT)
        con.execute(
            "INSERT INTO shop.heartbeat (writer, beat_at) VALUES ('generator', %s) "
            "ON CONFLICT (writer) DO UPDATE SET beat_at = EXCLUDED.beat_at",
            (BEAT,),
        )
        write_clock(con, replace(clock, now=NEXT))
        con.commit()
        changed = sorted(con.execute(CHANGED_IN_HOUR, {"hour": HOUR}).fetchall())
    assert changed == sorted(
        [
            ("order_items", item),
            ("payments", payment),
            ("refunds", refund_id),
            ("refunds", chargeback_id),
        ]
    ), "the hour is not quiet: the source has changes of money other than this test's"
    return LateMoney(
        refund_id=refund_id,
        refund_order=refund_order,
        refund_item=refund_item,
        refund_amount=refund_amount,
        chargeback_id=chargeback_id,
        chargeback_order=chargeback_order,
        chargeback_amount=chargeback_amount,
        corrected_order=order,
        corrected_item=item,
        corrected_paid_at=paid_at,
        old_discount=discount,
        old_commission=commission(gross - discount, rate),
        new_commission=commission(gross - discount - CORRECTION, rate),
    )


def micros(at: datetime) -> int:
    return (at - EPOCH) // timedelta(microseconds=1)


def entry(
    key: str,
    entry_at: datetime,
    booked_at: datetime,
    order_id: int,
    order_item_id: int | None,
    refund_id: int | None,
    amount: Decimal,
    *,
    adjustment: bool = False,
    reversal: bool = False,
) -> Entry:
    """A ledger row as LEDGER_BOOKED selects it, with its entry_id built from its key."""
    entry_id = f"{key}@{micros(booked_at)}" + (":reversal" if reversal else "")
    entry_type = key.split(":", 1)[0]
    return (
        entry_id,
        key,
        entry_type,
        entry_at,
        booked_at,
        adjustment,
        reversal,
        order_id,
        order_item_id,
        refund_id,
        amount,
    )


def ledger_snapshot(
    world: FinanceWorld, where: str = "", params: tuple[object, ...] = ()
) -> list[str]:
    """The ledger's rows, sorted, each as the text of its values (with their types)."""
    with duckdb.connect(str(world.settings.warehouse), read_only=True) as con:
        cursor = con.execute(
            f"SELECT * FROM marts_finance.revenue_ledger {where} ORDER BY ALL", params
        )
        columns = [c[0] for c in cursor.description or ()]
        return [repr(columns), *(repr(row) for row in cursor.fetchall())]


def mart_differences(world: FinanceWorld) -> list[str]:
    """Every (mart, business day, figure) where a mart differs from the source's figures."""
    dsn = world.settings.pg_dsn
    figures, slices, refunds = daily_figures(dsn), slice_orders(dsn), refund_rows(dsn)
    daily = {row[0]: row[1:] for row in world.warehouse(DAILY)}
    executive = {row[0]: row[1:] for row in world.warehouse(EXECUTIVE)}
    landed: dict[date, set[tuple[Any, ...]]] = {}
    for *row, day in world.warehouse(REFUNDS_MART):
        landed.setdefault(day, set()).add(tuple(row))
    differences = []
    for day in business_days():
        wanted = figures[day]
        for mart, rows in (
            ("marts_finance.revenue_daily", daily),
            ("bi.executive_daily", executive),
        ):
            got = dict(zip(FIGURES, rows.get(day, (ZERO,) * len(FIGURES)), strict=True))
            for name in FIGURES:
                expected = wanted[name]
                if mart == "marts_finance.revenue_daily" and name == "orders":
                    expected = Decimal(slices[day])  # distinct orders per slice, summed
                if Decimal(got[name] or 0) != expected:
                    differences.append(
                        f"{mart} {day} {name}: source {expected} warehouse {got[name]}"
                    )
        missing, extra = (
            refunds[day] - landed.get(day, set()),
            landed.get(day, set()) - refunds[day],
        )
        if missing or extra:
            differences.append(
                f"marts_refunds.refunds {day}: missing {sorted(missing)} extra {sorted(extra)}"
            )
    return differences


def test_late_money_reaches_every_mart_in_the_hour_it_lands(finance_world: FinanceWorld) -> None:
    world = finance_world
    before = ledger_snapshot(world)
    late = write_late_money(world.settings)

    shop = run_lane(world.settings, registry().lanes["shop"].job, "dev", attempts=2)
    assert shop.status == "succeeded", shop.error
    assert as_utc(shop.high_water_mark) == BEAT, "the shop lane did not land the whole hour"
    transform = run_job(world.settings, "transform", "dev")
    assert transform.status == "succeeded", transform.error

    # Every business day of every finance mart equals the source, late money on its own date.
    differences = mart_differences(world)
    assert not differences, "the marts differ from the source:\n" + "\n".join(differences)

    # The hour's bookings: the three changes of money, each at the time it became known.
    booked = world.warehouse(LEDGER_BOOKED, (HOUR, NEXT))
    assert {row[7] for row in booked} == late.orders
    refund = [row for row in booked if row[7] == late.refund_order]
    assert refund == [
        entry(
            f"refund:refund:{late.refund_id}",
            REFUND_AT,
            REFUND_KNOWN,
            late.refund_order,
            late.refund_item,
            late.refund_id,
            -late.refund_amount,
        )
    ]
    chargeback = [row for row in booked if row[7] == late.chargeback_order]
    assert chargeback == [
        entry(
            f"chargeback:refund:{late.chargeback_id}",
            CHARGEBACK_AT,
            CHARGEBACK_KNOWN,
            late.chargeback_order,
            None,
            late.chargeback_id,
            -late.chargeback_amount,
        )
    ]
    correction = [row for row in booked if row[7] == late.corrected_order]
    discount, fee = f"discount:item:{late.corrected_item}", f"commission:item:{late.corrected_item}"
    line = (late.corrected_paid_at, CORRECTION_KNOWN, late.corrected_order, late.corrected_item)
    new_discount = late.old_discount + CORRECTION
    assert sorted(correction) == sorted(
        [
            entry(discount, *line, None, late.old_discount, adjustment=True, reversal=True),
            entry(discount, *line, None, -new_discount, adjustment=True),
            entry(fee, *line, None, -late.old_commission, adjustment=True, reversal=True),
            entry(fee, *line, None, late.new_commission, adjustment=True),
        ]
    )
    customer_money = [row[10] for row in correction if row[2] != "commission"]
    assert sum(customer_money) == -CORRECTION  # net sales, and the payment, 2.50 lower

    # Nothing booked before the hour changed.
    after = ledger_snapshot(world, "WHERE booked_at < ?", (HOUR,))
    assert after == before, (
        f"ledger rows booked before {HOUR}: {len(before) - 1} before the run, "
        f"{len(after) - 1} after; first difference: "
        + next((f"{b} -> {a}" for b, a in zip(before, after, strict=False) if a != b), "-")
    )
