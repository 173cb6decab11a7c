"""Backfill of the shop source through the real shop-lane job, beside the lane's own state."""

from __future__ import annotations

import sqlite3
from datetime import date

from brightcart_ops.backfill import backfill

from .conftest import ShopWorld

LANE_STATE = "dev:tap-postgres-to-target-redshift--shop"


def lane_states(world: ShopWorld) -> dict[str, str]:
    with sqlite3.connect(world.settings.home / "meltano.db") as con:
        rows = con.execute("SELECT state_id, partial_state, completed_state FROM state").fetchall()
    return {str(r[0]): f"{r[1]}|{r[2]}" for r in rows}


def raw_fingerprint(world: ShopWorld) -> list[tuple[object, ...]]:
    return world.warehouse.query(
        "SELECT count(*), sum(order_id), sum(shipping_amount + tax_amount), "
        "count(DISTINCT _record_hash) FROM raw_shop.orders"
    )


def test_backfill_restores_the_window_and_is_idempotent(shop_world: ShopWorld) -> None:
    before = raw_fingerprint(shop_world)
    states = lane_states(shop_world)
    shop_world.warehouse.execute("DELETE FROM raw_shop.orders WHERE order_id IN (2, 7, 11)")
    shop_world.warehouse.execute("DELETE FROM raw_shop.payments WHERE payment_id = 5")

    first = backfill(
        shop_world.settings, "shop", date(2026, 11, 3), date(2026, 11, 5), restate_models=False
    )
    assert first.rows_inserted == 4
    assert raw_fingerprint(shop_world) == before

    second = backfill(
        shop_world.settings, "shop", date(2026, 11, 3), date(2026, 11, 5), restate_models=False
    )
    assert second.rows_inserted == 0
    assert raw_fingerprint(shop_world) == before

    after = lane_states(shop_world)
    assert after[LANE_STATE] == states[LANE_STATE]  # the hourly lane's bookmark is untouched
    assert any(key.startswith(LANE_STATE) and "backfill" in key for key in after)


def test_backfill_outside_the_rows_window_lands_nothing(shop_world: ShopWorld) -> None:
    shop_world.warehouse.execute("DELETE FROM raw_shop.orders WHERE order_id = 2")
    result = backfill(
        shop_world.settings, "shop", date(2026, 10, 1), date(2026, 10, 2), restate_models=False
    )
    assert result.rows_inserted == 0
    assert (
        shop_world.warehouse.query("SELECT count(*) FROM raw_shop.orders WHERE order_id = 2")[0][0]
        == 0
    )
