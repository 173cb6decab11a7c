"""A small, hand-countable shop: 3 UTC days of orders, payments and refunds.

Day d (0, 1, 2 = 2026-11-01..03) holds 4 + d orders; order n has shipping 5.00 + n and tax
1.25 * n; each order has one captured payment of 20.00 + n, and every second order a partial
refund of 2.50 refunded on the same day. Times are simulated (set through brightcart.now).
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import psycopg

from brightcart_world.settings import Settings

DAY0 = datetime(2026, 11, 1, tzinfo=UTC)
DAYS = 3


def _orders() -> list[tuple[int, datetime]]:
    rows = []
    n = 0
    for day in range(DAYS):
        for i in range(4 + day):
            n += 1
            rows.append((n, DAY0 + timedelta(days=day, hours=2 + 3 * i, minutes=7)))
    return rows


ORDERS = _orders()


def insert_shop(settings: Settings) -> None:
    """Write the rows, with updated_at stamped from the simulated clock."""
    with psycopg.connect(settings.pg_dsn, autocommit=True) as con:
        con.execute("SET brightcart.now = '2026-11-04T00:00:00Z'")
        con.execute(
            "INSERT INTO shop.customers (customer_id, email, country_code, created_at) "
            "VALUES (1, 'a@example.com', 'DE', '2026-10-01T00:00:00Z')"
        )
        con.execute(
            "INSERT INTO shop.sellers (seller_id, name, country_code, commission_rate, created_at)"
            " VALUES (1, 'S', 'DE', 0.1, '2026-10-01T00:00:00Z')"
        )
        con.execute(
            "INSERT INTO shop.products (product_id, seller_id, sku, name, category, price, "
            "created_at) VALUES (1, 1, 'SKU1', 'P', 'toys', 10, '2026-10-01T00:00:00Z')"
        )
        for n, placed in ORDERS:
            con.execute(
                "INSERT INTO shop.orders (order_id, customer_id, status, channel, currency, "
                "shipping_country, shipping_amount, tax_amount, placed_at, paid_at, created_at) "
                "VALUES (%s, 1, 'paid', 'web', 'EUR', 'DE', %s, %s, %s, %s, %s)",
                (n, 5 + n, 1.25 * n, placed, placed, placed),
            )
            con.execute(
                "INSERT INTO shop.order_items (order_item_id, order_id, product_id, seller_id, "
                "quantity, unit_price, created_at) VALUES (%s, %s, 1, 1, 1, 10, %s)",
                (n, n, placed),
            )
            con.execute(
                "INSERT INTO shop.payments (payment_id, order_id, method, status, amount, "
                "created_at) VALUES (%s, %s, 'card', 'captured', %s, %s)",
                (n, n, 20 + n, placed + timedelta(minutes=1)),
            )
            if n % 2 == 0:
                con.execute(
                    "INSERT INTO shop.refunds (refund_id, order_id, refund_type, amount, "
                    "refunded_at, created_at) VALUES (%s, %s, 'partial', 2.50, %s, %s)",
                    (n, n, placed + timedelta(hours=1), placed + timedelta(hours=1)),
                )


def orders_on(day: int) -> list[int]:
    return [n for n, placed in ORDERS if (placed - DAY0).days == day]
