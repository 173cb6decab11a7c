"""The shop schema: idempotent DDL, the clock-driven updated_at trigger, enumerations enforced."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

import psycopg
import pytest

from brightcart_world.generator.database import apply_schema, recreate_database, reset_schemas
from brightcart_world.generator.rng import salesforce_id
from brightcart_world.settings import Settings

SHOP_TABLES = {
    "customers",
    "sellers",
    "products",
    "orders",
    "order_items",
    "payments",
    "refunds",
    "heartbeat",
}


@pytest.fixture(scope="module")
def db(make_settings: Callable[[], Settings]) -> Settings:
    s = make_settings()
    recreate_database(s)
    with psycopg.connect(s.pg_dsn) as conn:
        apply_schema(conn)  # a second run changes nothing and does not fail
    return s


def test_every_shop_table_has_keys_stamps_and_an_updated_at_index(db: Settings) -> None:
    with psycopg.connect(db.pg_dsn) as conn:
        tables = {
            r[0]
            for r in conn.execute(
                "SELECT table_name FROM information_schema.tables WHERE table_schema = 'shop'"
            )
        }
        assert tables == SHOP_TABLES
        for t in SHOP_TABLES:
            cols = {
                r[0]
                for r in conn.execute(
                    "SELECT column_name FROM information_schema.columns "
                    "WHERE table_schema = 'shop' AND table_name = %s",
                    (t,),
                )
            }
            assert {"created_at", "updated_at"} <= cols, t
            pk = conn.execute(
                "SELECT count(*) FROM information_schema.table_constraints WHERE "
                "table_schema = 'shop' AND table_name = %s AND constraint_type = 'PRIMARY KEY'",
                (t,),
            ).fetchone()
            assert pk == (1,), t
            idx = conn.execute(
                "SELECT count(*) FROM pg_indexes WHERE schemaname = 'shop' AND tablename = %s "
                "AND indexdef LIKE '%%(updated_at)%%'",
                (t,),
            ).fetchone()
            assert idx == (1,), t


def test_updated_at_follows_the_simulated_clock_else_now(db: Settings) -> None:
    clock = datetime(2026, 11, 1, 3, 14, 59, tzinfo=UTC)
    with psycopg.connect(db.pg_dsn) as conn:
        conn.execute("SELECT set_config('brightcart.now', %s, true)", (clock.isoformat(),))
        conn.execute("INSERT INTO shop.heartbeat (writer, beat_at) VALUES ('t', %s)", (clock,))
        row = conn.execute("SELECT created_at, updated_at FROM shop.heartbeat").fetchone()
        assert row == (clock, clock)
        conn.commit()
        conn.execute("UPDATE shop.heartbeat SET beat_at = beat_at")
        same = conn.execute("SELECT updated_at = now(), created_at FROM shop.heartbeat").fetchone()
        assert same == (True, clock)


def test_enumerations_are_enforced(db: Settings) -> None:
    with psycopg.connect(db.pg_dsn) as conn:
        conn.execute(
            "INSERT INTO shop.customers (customer_id, email, country_code) "
            "VALUES (1, 'a@b.example', 'US')"
        )
        with pytest.raises(psycopg.errors.CheckViolation):
            conn.execute(
                "INSERT INTO shop.orders (order_id, customer_id, status, channel, currency, "
                "shipping_country, placed_at) VALUES (1, 1, 'lost', 'web', 'USD', 'US', now())"
            )


def test_salesforce_ids_have_prefix_and_checksum() -> None:
    sid = salesforce_id("001", 12345)
    assert len(sid) == 18 and sid.startswith("001")
    assert salesforce_id("001", 12345) == sid != salesforce_id("001", 12346)
    assert salesforce_id("701", 1)[-3:] == "AAA"  # all-lower/digit chunks map to 'A'


def test_reset_empties_the_world_and_keeps_other_connections(db: Settings) -> None:
    with psycopg.connect(db.pg_dsn, autocommit=True) as other:
        other.execute(
            "INSERT INTO shop.sellers (seller_id, name, country_code, commission_rate) "
            "VALUES (9, 'S', 'US', 0.1) ON CONFLICT DO NOTHING"
        )
        reset_schemas(db)
        assert other.execute("SELECT count(*) FROM shop.sellers").fetchone() == (0,)
        assert other.execute('SELECT count(*) FROM sfdc."Account"').fetchone() == (0,)
