"""Write one simulated hour into `shop.*` in quarter-hour batches stamped by the clock."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass, field
from decimal import ROUND_HALF_UP, Decimal
from typing import Any

import orjson
import psycopg

from brightcart_world.generator.copying import copy_rows
from brightcart_world.generator.database import set_clock_setting
from brightcart_world.generator.rng import draw_count, stream
from brightcart_world.generator.setup import CUSTOMER_COLUMNS
from brightcart_world.generator.state import WorldState
from brightcart_world.generator.timefmt import HOUR, MINUTE, from_ms, iso_ms
from brightcart_world.generator.traffic import (
    ITEM_COLUMNS,
    ORDER_COLUMNS,
    HourActivity,
    order_plan,
)

SLICE = 15 * MINUTE
ORPHAN_PRODUCT_BASE = 1_000_000_000
STATUS_OF_STEP = {"pay": "paid", "cancel": "cancelled", "ship": "shipped", "deliver": "delivered"}
TIME_COLUMN_OF_STEP = {
    "pay": "paid_at",
    "cancel": "cancelled_at",
    "ship": "shipped_at",
    "deliver": "delivered_at",
}


@dataclass
class ShopFaultPlan:
    """Shop faults to inject this hour: kind -> requested count."""

    requested: dict[str, int] = field(default_factory=dict)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)


def slice_stamp(hour_ms: int, k: int) -> int:
    """End of quarter k of the hour minus one second: hh:14:59, hh:29:59, hh:44:59, hh:59:59."""
    return hour_ms + (k + 1) * SLICE - 1000


def write_shop_hour(
    conn: psycopg.Connection,
    state: WorldState,
    hour_ms: int,
    act: HourActivity,
    faults: ShopFaultPlan,
) -> Counter[str]:
    counts: Counter[str] = Counter()
    hour_end = hour_ms + HOUR
    set_clock_setting(conn, from_ms(slice_stamp(hour_ms, 0)))

    steps = [s for placed in act.orders for s in order_plan(state.seed, placed)]
    copy_rows(
        conn,
        "generator.order_step",
        ("order_id", "step", "due_at", "payload"),
        ((o, s, from_ms(t), orjson.dumps(p).decode()) for o, s, t, p in steps),
    )
    due = conn.execute(
        "SELECT order_id, step, due_at, payload FROM generator.order_step "
        "WHERE due_at >= %s AND due_at < %s ORDER BY due_at, order_id, step",
        (from_ms(hour_ms), from_ms(hour_end)),
    ).fetchall()

    if "null_spike" in faults.requested:
        faults.details["null_spike"] = {"order_ids": [int(p.order[0]) for p in act.orders]}
        for p in act.orders:
            p.order = (*p.order[:3], None, *p.order[4:])
    orphan_items: list[tuple[Any, ...]] = []
    if "orphan_fk" in faults.requested:
        n = faults.requested["orphan_fk"]
        for i, p in enumerate(act.orders[:n]):
            item = p.items[0]
            p.items[0] = (item[0], item[1], ORPHAN_PRODUCT_BASE + i, *item[3:])
            orphan_items.append(p.items[0])
        faults.details["orphan_fk"] = {
            "order_item_ids": [int(it[0]) for it in orphan_items],
            "product_ids": [int(it[2]) for it in orphan_items],
        }

    edits = _product_edits(state, hour_ms)
    for k in range(4):
        lo, hi = hour_ms + k * SLICE, hour_ms + (k + 1) * SLICE
        stamp = from_ms(slice_stamp(hour_ms, k))
        set_clock_setting(conn, stamp)
        new_customers = [
            row for row, t in zip(act.customers, act.customer_ms, strict=True) if lo <= t < hi
        ]
        counts["customers"] += copy_rows(conn, "shop.customers", CUSTOMER_COLUMNS, new_customers)
        orders = [p for p in act.orders if lo <= p.placed_ms < hi]
        counts["orders"] += copy_rows(conn, "shop.orders", ORDER_COLUMNS, [p.order for p in orders])
        items = [it for p in orders for it in p.items if it not in orphan_items]
        counts["order_items"] += copy_rows(conn, "shop.order_items", ITEM_COLUMNS, items)
        mine = [it for p in orders for it in p.items if it in orphan_items]
        if mine:
            _insert_orphans(conn, mine, stamp)
            counts["order_items"] += len(mine)
        for pid, t, price, active in edits:
            if lo <= t < hi:
                conn.execute(
                    "UPDATE shop.products SET price = %s, active = %s WHERE product_id = %s",
                    (price, active, pid),
                )
                counts["products"] += 1
        counts += _apply_steps(
            conn, state, [d for d in due if lo <= int(d[2].timestamp() * 1000) < hi]
        )

    beat = from_ms(slice_stamp(hour_ms, 3))
    conn.execute(
        "INSERT INTO shop.heartbeat (writer, beat_at) VALUES ('generator', %s) "
        "ON CONFLICT (writer) DO UPDATE SET beat_at = EXCLUDED.beat_at",
        (beat,),
    )
    counts["heartbeat"] += 1
    return counts


def _insert_orphans(conn: psycopg.Connection, items: list[tuple[Any, ...]], stamp: Any) -> None:
    """Order items whose product does not exist. Foreign keys are enforced by system triggers,
    which `session_replication_role = replica` skips (as a logical-replication apply or a
    restore with triggers disabled would); our updated_at trigger is skipped too, so the row
    carries the clock explicitly."""
    conn.execute("SET LOCAL session_replication_role = replica")
    with conn.cursor() as cur:
        cur.executemany(
            "INSERT INTO shop.order_items (order_item_id, order_id, product_id, seller_id, "
            "quantity, unit_price, discount_amount, created_at, updated_at) "
            "VALUES (%s, %s, %s, %s, %s, %s, %s, %s, %s)",
            [(*it, stamp) for it in items],
        )
    conn.execute("SET LOCAL session_replication_role = origin")


def _product_edits(state: WorldState, hour_ms: int) -> list[tuple[int, int, Decimal, bool]]:
    rng = stream(state.seed, "product-edits", iso_ms(hour_ms))
    edits = []
    for _ in range(draw_count(rng, state.vol.product_edits_per_hour)):
        product = rng.choice(state.products)
        t = hour_ms + rng.randrange(HOUR)
        if rng.random() < 0.8:
            factor = Decimal(str(round(rng.uniform(0.85, 1.15), 2)))
            product.price = (product.price * factor).quantize(Decimal("0.01"), ROUND_HALF_UP)
        else:
            product.active = not product.active
        edits.append((product.product_id, t, product.price, product.active))
    edits.sort(key=lambda e: e[1])
    return edits


def _apply_steps(
    conn: psycopg.Connection, state: WorldState, due: list[tuple[Any, ...]]
) -> Counter[str]:
    counts: Counter[str] = Counter()
    payments = []
    refunds = []
    updates: dict[str, list[tuple[Any, ...]]] = defaultdict(list)
    for order_id, step, due_at, payload in due:
        if step in ("pay", "pay_fail"):
            payments.append(
                (
                    state.seq.take("payment"),
                    order_id,
                    payload["method"],
                    "captured" if step == "pay" else "failed",
                    Decimal(payload["amount"]),
                    due_at,
                )
            )
        if step in STATUS_OF_STEP:
            updates[step].append((STATUS_OF_STEP[step], due_at, order_id))
        if step == "refund":
            refunds.append(
                (
                    state.seq.take("refund"),
                    order_id,
                    payload["order_item_id"],
                    payload["refund_type"],
                    Decimal(payload["amount"]),
                    payload["reason"],
                    due_at,
                    due_at,
                )
            )
    counts["payments"] += copy_rows(
        conn,
        "shop.payments",
        ("payment_id", "order_id", "method", "status", "amount", "created_at"),
        payments,
    )
    for step in ("pay", "cancel", "ship", "deliver"):
        rows = updates.get(step)
        if not rows:
            continue
        with conn.cursor() as cur:
            cur.executemany(
                f"UPDATE shop.orders SET status = %s, {TIME_COLUMN_OF_STEP[step]} = %s "
                "WHERE order_id = %s",
                rows,
            )
        counts["orders"] += len(rows)
    counts["refunds"] += copy_rows(
        conn,
        "shop.refunds",
        (
            "refund_id",
            "order_id",
            "order_item_id",
            "refund_type",
            "amount",
            "reason",
            "refunded_at",
            "created_at",
        ),
        refunds,
    )
    return counts


def pre_hour_faults(
    conn: psycopg.Connection, state: WorldState, hour_ms: int, faults: ShopFaultPlan
) -> None:
    """Drift and hard deletes, applied before the hour is simulated (so no new order can
    reference a deleted customer)."""
    set_clock_setting(conn, from_ms(slice_stamp(hour_ms, 0)))
    rng = stream(state.seed, "shop-faults", iso_ms(hour_ms))
    if "drift" in faults.requested:
        ids = sorted(
            rng.sample(state.customers, k=min(faults.requested["drift"], len(state.customers)))
        )
        conn.execute("SET LOCAL session_replication_role = replica")
        rows = conn.execute(
            "UPDATE shop.customers SET city = city || ' (moved)' WHERE customer_id = ANY(%s) "
            "RETURNING customer_id, city, updated_at",
            (ids,),
        ).fetchall()
        conn.execute("SET LOCAL session_replication_role = origin")
        faults.details["drift"] = {
            "table": "shop.customers",
            "customer_ids": sorted(r[0] for r in rows),
            "new_city": {str(r[0]): r[1] for r in rows},
            "updated_at_kept": {str(r[0]): r[2].isoformat() for r in rows},
        }
    if "hard_delete" in faults.requested:
        candidates = [
            r[0]
            for r in conn.execute(
                "SELECT customer_id FROM shop.customers c WHERE NOT EXISTS "
                "(SELECT 1 FROM shop.orders o WHERE o.customer_id = c.customer_id) "
                "ORDER BY customer_id"
            )
        ]
        ids = sorted(
            rng.sample(candidates, k=min(faults.requested["hard_delete"], len(candidates)))
        )
        conn.execute("DELETE FROM shop.customers WHERE customer_id = ANY(%s)", (ids,))
        gone = set(ids)
        state.customers[:] = [c for c in state.customers if c not in gone]
        faults.details["hard_delete"] = {"table": "shop.customers", "customer_ids": ids}
