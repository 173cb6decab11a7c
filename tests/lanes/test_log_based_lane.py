"""The LOG_BASED shop lane end to end: `meltano run shop-lane-log` (tap-postgres--log behind its
guard, into target-redshift--shop-log) against a private PostgreSQL cluster with logical WAL and
wal2json, started by the sources manager, into a DuckDB warehouse, read back through the staging
models.

The initial copy lands every row; then inserts, updates and deletes in the source land exactly
as those changes (a delete as the deleted row with `_sdc_deleted_at`), staging drops deleted keys,
an immediate rerun lands nothing, and the LSN bookmark is kept in Meltano's state.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from conftest import meltano
from sqlmesh import Context

from brightcart_ops.registry import registry
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_world.settings import Settings
from brightcart_world.sources import LocalSources
from brightcart_world.sources.isolation import dispose, isolated_settings, make_home
from brightcart_world.sources.pgcluster import find_bindir
from brightcart_world.sources.ports import free_port
from lane_guards import logical

JOB = "shop-lane-log"
STATE_ID = "dev:tap-postgres--log-to-target-redshift--shop-log"
SLOT = "brightcart_shop"
TABLES = list(registry().lane("shop").tables)
KEYS = {
    "customers": "customer_id",
    "orders": "order_id",
    "sellers": "seller_id",
    "products": "product_id",
}
# Wednesday 2026-11-25: 15:00 UTC is 10:00 in New York (inside), 08:00 UTC is 03:00 (outside).
INSIDE = "2026-11-25T15:00:00Z"
OUTSIDE = "2026-11-25T08:00:00Z"
STAGING_FILES = [
    "config.py",
    "external_models.yaml",
    "models/staging/stg_shop__*.sql",
    "audits/*.sql",
    "macros/*.py",
    "signals/*.py",
    "linter/*.py",
]

SEED = """
INSERT INTO shop.sellers (seller_id, name, country_code, commission_rate)
VALUES (1, 'North Goods', 'US', 0.1200), (2, 'Rhein Waren', 'DE', 0.0850);
-- A name long enough to be stored out of line (TOAST): an update of the price alone leaves it
-- out of the update's new values in the WAL.
INSERT INTO shop.products (product_id, seller_id, sku, name, category, price)
SELECT 11, 1, 'NG-11', string_agg(md5(i::text), ' '), 'garden', 19.90
FROM generate_series(1, 400) AS i;
INSERT INTO shop.customers (customer_id, email, country_code, city)
VALUES (1, 'ada@example.com', 'US', 'Boston'), (2, 'bea@example.com', 'DE', 'Bonn'),
       (3, 'cy@example.com', 'FR', 'Lyon'), (4, 'dee@example.com', 'US', 'Austin'),
       (5, 'eli@example.com', 'GB', 'Leeds');
INSERT INTO shop.orders (order_id, customer_id, status, channel, currency, shipping_country,
                         shipping_amount, tax_amount, placed_at)
VALUES (101, 1, 'placed', 'web', 'USD', 'US', 4.99, 1.25, '2026-11-20 10:00:00+00'),
       (102, 2, 'placed', 'ios', 'EUR', 'DE', 0.00, 3.80, '2026-11-20 11:00:00+00'),
       (103, 4, 'paid', 'web', 'USD', 'US', 7.50, 0.00, '2026-11-20 12:00:00+00'),
       (104, 1, 'placed', 'android', 'USD', 'US', 4.99, 2.10, '2026-11-20 13:00:00+00');
"""

# Each statement its own transaction, as an application would commit them.
CHANGES = [
    "INSERT INTO shop.customers (customer_id, email, country_code, city) "
    "VALUES (6, 'fay@example.com', 'IT', 'Turin')",
    "INSERT INTO shop.orders (order_id, customer_id, status, channel, currency, shipping_country,"
    " shipping_amount, tax_amount, placed_at) "
    "VALUES (105, 6, 'placed', 'web', 'EUR', 'IT', 3.00, 0.66, '2026-11-21 09:00:00+00')",
    "UPDATE shop.customers SET city = 'Cologne' WHERE customer_id = 2",
    "UPDATE shop.orders SET status = 'paid', paid_at = '2026-11-21 10:00:00+00' "
    "WHERE order_id = 101",
    "DELETE FROM shop.orders WHERE order_id = 104",
    "UPDATE shop.products SET price = 17.50 WHERE product_id = 11",
    "DELETE FROM shop.customers WHERE customer_id = 5",
    # Updated, then deleted before the lane runs: both versions land, the deletion wins.
    "UPDATE shop.customers SET city = 'Paris' WHERE customer_id = 3",
    "DELETE FROM shop.customers WHERE customer_id = 3",
    # Born and gone between two runs.
    "INSERT INTO shop.customers (customer_id, email, country_code) "
    "VALUES (7, 'gus@example.com', 'ES')",
    "DELETE FROM shop.customers WHERE customer_id = 7",
]
# (key, deleted) of the raw versions the changes must land, per table.
CHANGED = {
    "customers": {(6, False), (2, False), (5, True), (3, False), (3, True), (7, False), (7, True)},
    "orders": {(105, False), (101, False), (104, True)},
    "sellers": set(),
    "products": {(11, False)},
}


def _wal2json_installed() -> Path:
    # initdb may be a symbolic link (/usr/local/bin); the server's libraries sit beside its bin/.
    library = (find_bindir() / "initdb").resolve().parent.parent / "lib" / "wal2json.so"
    if not library.exists():
        pytest.fail(
            f"{library} is missing: the Debian package postgresql-15-wal2json provides it. "
            "Run `make setup` (as root it installs the package), then rerun this test."
        )
    return library


@dataclass
class LogLane:
    settings: Settings
    staging: Context

    def source(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self.settings.pg_dsn, autocommit=True)

    def warehouse(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(str(self.settings.warehouse), read_only=True)
        con.execute("SET TimeZone = 'UTC'")
        return con

    def run(self, now: str) -> subprocess.CompletedProcess[str]:
        """`meltano run shop-lane-log`, with the guard's clock at `now` in business hours."""
        env = {
            "BRIGHTCART_BUSINESS_HOURS": "Mon-Fri 07:00-21:00 America/New_York",
            "BRIGHTCART_GUARD_NOW": now,
            # A run ends once the slot has been quiet this long (10 s in meltano.yml).
            "TAP_POSTGRES__LOG_REPLICATION_IDLE_EXIT_SECONDS": "2",
        }
        return meltano(self.settings, "run", JOB, env=env, timeout=300)

    def bookmarks(self) -> dict[str, Any]:
        shown = meltano(self.settings, "state", "get", STATE_ID, timeout=120, check=True)
        state: dict[str, Any] = json.loads(shown.stdout)
        bookmarks: dict[str, Any] = state["singer_state"]["bookmarks"]
        return bookmarks

    def inserted(self, since: datetime) -> dict[str, int]:
        """rows_inserted per raw table in the load log of the runs started since `since`."""
        if not self.settings.warehouse.exists():
            return {}
        with self.warehouse() as wh:
            logged = wh.execute(
                "SELECT count(*) FROM information_schema.tables "
                "WHERE table_schema = 'raw_meta' AND table_name = 'load_log'"
            ).fetchone()
            if logged is None or logged[0] == 0:
                return {}
            rows = wh.execute(
                "SELECT stream, sum(rows_inserted) FROM raw_meta.load_log "
                "WHERE lane = 'shop' AND started_at >= ? GROUP BY stream",
                [since],
            ).fetchall()
        return {str(stream): int(count) for stream, count in rows}

    def versions(self, table: str, since: datetime) -> set[tuple[int, bool]]:
        """(key, deleted) of the raw versions loaded since `since`."""
        with self.warehouse() as wh:
            rows = wh.execute(
                f"SELECT {KEYS[table]}, _sdc_deleted_at IS NOT NULL FROM raw_shop.{table} "
                "WHERE _loaded_at >= ?",
                [since],
            ).fetchall()
        return {(int(key), bool(deleted)) for key, deleted in rows}

    def raw_counts(self) -> dict[str, int]:
        with self.warehouse() as wh:
            counts = {
                t: wh.execute(f"SELECT count(*) FROM raw_shop.{t}").fetchone() for t in TABLES
            }
        return {t: int(c[0]) if c else -1 for t, c in counts.items()}

    def staged(self, table: str) -> dict[int, dict[str, Any]]:
        """The staging model of a raw table, read from the warehouse: key -> row."""
        sql = self.staging.render(f"staging.stg_shop__{table}").sql(dialect="duckdb")
        with self.warehouse() as wh:
            cursor = wh.execute(sql)
            names = [d[0] for d in cursor.description or []]
            rows = [dict(zip(names, row, strict=True)) for row in cursor.fetchall()]
        return {int(row[KEYS[table]]): row for row in rows}

    def source_keys(self, table: str) -> set[int]:
        with self.source() as pg:
            return {int(r[0]) for r in pg.execute(f"SELECT {KEYS[table]} FROM shop.{table}")}


@pytest.fixture(scope="module")
def log_lane() -> Iterator[LogLane]:
    """A private cluster on a free port (logical WAL, wal2json allowed), the shop DDL, own
    warehouse, Meltano state and a copy of the staging models."""
    _wal2json_installed()
    home = make_home("bc_wal_")
    settings = isolated_settings(home, db_prefix="bc_wal").model_copy(
        update={"pg_host": "127.0.0.1", "pg_port": free_port()}
    )
    world = LocalSources(settings)
    postgres = next(c for c in world.components if c.name == "postgres")
    try:
        assert postgres.start().action == "started"
        project = home / "staging-project"
        for pattern in STAGING_FILES:
            for path in sorted(PROJECT_ROOT.glob(pattern)):
                target = project / path.relative_to(PROJECT_ROOT)
                target.parent.mkdir(parents=True, exist_ok=True)
                shutil.copy2(path, target)
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BRIGHTCART_HOME", str(home))
            patch.setenv("BRIGHTCART_WAREHOUSE", str(settings.warehouse))
            staging = Context(paths=str(project), gateway="local")
        yield LogLane(settings, staging)
    finally:
        dispose(world)


def test_log_based_lane_lands_inserts_updates_and_deletes(log_lane: LogLane) -> None:
    with log_lane.source() as pg:
        pg.execute(SEED)
    config = {
        "host": log_lane.settings.pg_host,
        "port": log_lane.settings.pg_port,
        "user": log_lane.settings.pg_user,
        "database": log_lane.settings.pg_db,
        "replication_slot_name": SLOT,
    }
    streams = [logical.LogStream(f"shop-{t}", "shop", t, "_sdc_lsn") for t in TABLES]

    # Not set up yet: the guard names every missing prerequisite.
    missing = "\n".join(logical.problems(config, streams))
    assert f"replication slot '{SLOT}' does not exist" in missing
    assert all(f"shop.{t} has REPLICA IDENTITY 'd'" in missing for t in TABLES)

    with log_lane.source() as pg:
        for statement in logical.setup_statements(SLOT, [("shop", t) for t in TABLES]):
            pg.execute(statement)
    assert logical.problems(config, streams) == []

    # The first run copies whole tables: refused inside business hours, nothing lands.
    refused = log_lane.run(INSIDE)
    assert refused.returncode != 0
    assert "refusing to start" in refused.stderr
    assert "shop-customers (LOG_BASED initial copy)" in refused.stderr
    assert log_lane.inserted(datetime(2000, 1, 1, tzinfo=UTC)) == {}

    # Initial copy after hours: every row lands, none deleted; staging equals the source.
    started = datetime.now(UTC)
    first = log_lane.run(OUTSIDE)
    assert first.returncode == 0, first.stderr[-3000:]
    assert log_lane.inserted(started) == {"customers": 5, "sellers": 2, "orders": 4, "products": 1}
    for table in KEYS:
        keys = log_lane.source_keys(table)
        assert log_lane.versions(table, started) == {(k, False) for k in keys}
        assert set(log_lane.staged(table)) == keys
    initial = log_lane.bookmarks()
    assert {initial[f"shop-{t}"]["replication_key"] for t in TABLES} == {"_sdc_lsn"}
    initial_lsn = {t: int(initial[f"shop-{t}"]["replication_key_value"]) for t in TABLES}

    # Changes in the source; the lane now reads the slot, a light read allowed in business hours.
    with log_lane.source() as pg:
        for statement in CHANGES:
            pg.execute(statement)
    started = datetime.now(UTC)
    second = log_lane.run(INSIDE)
    assert second.returncode == 0, second.stderr[-3000:]
    landed = log_lane.inserted(started)
    assert {t: landed.get(t, 0) for t in KEYS} == {t: len(v) for t, v in CHANGED.items()}
    for table, expected in CHANGED.items():
        assert log_lane.versions(table, started) == expected

    with log_lane.warehouse() as wh:
        # A delete lands as the deleted row: its last version's values, _sdc_deleted_at set.
        customer_3 = wh.execute(
            "SELECT email, city, updated_at, _sdc_deleted_at IS NOT NULL FROM raw_shop.customers "
            "WHERE customer_id = 3 ORDER BY updated_at DESC, _sdc_deleted_at NULLS FIRST"
        ).fetchall()
        lsn_types = wh.execute(
            "SELECT data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_shop' AND column_name = '_sdc_lsn'"
        ).fetchall()
        # The load log's high-water mark is updated_at, as on the INCREMENTAL lane (signals).
        orders_mark = wh.execute(
            "SELECT high_water_mark FROM raw_meta.load_log "
            "WHERE stream = 'orders' AND started_at >= ?",
            [started],
        ).fetchone()
    with log_lane.source() as pg:
        source_mark = pg.execute("SELECT max(updated_at) FROM shop.orders").fetchone()
    assert orders_mark is not None and source_mark is not None
    assert orders_mark[0] == source_mark[0]
    paris_at = customer_3[0][2]
    assert customer_3[:2] == [
        ("cy@example.com", "Paris", paris_at, False),
        ("cy@example.com", "Paris", paris_at, True),
    ]
    assert customer_3[2][:2] == ("cy@example.com", "Lyon") and customer_3[2][2] < paris_at
    assert {r[0] for r in lsn_types} == {"BIGINT"}

    # Staging: deleted keys are gone, updates are current, equal to the source.
    customers = log_lane.staged("customers")
    orders = log_lane.staged("orders")
    assert set(customers) == log_lane.source_keys("customers") == {1, 2, 4, 6}
    assert set(orders) == log_lane.source_keys("orders") == {101, 102, 103, 105}
    assert customers[2]["city"] == "Cologne"
    assert orders[101]["status"] == "paid"
    # The out-of-line name the price update left unchanged is still the source's name.
    with log_lane.source() as pg:
        product = pg.execute("SELECT name, price FROM shop.products").fetchone()
    assert product is not None and len(product[0]) > 12_000
    staged_product = log_lane.staged("products")[11]
    assert (staged_product["product_name"], staged_product["list_price"]) == product

    after_changes = log_lane.bookmarks()
    changed_lsn = {t: int(after_changes[f"shop-{t}"]["replication_key_value"]) for t in TABLES}
    assert all(changed_lsn[t] > initial_lsn[t] for t in TABLES)

    # An immediate rerun lands nothing and keeps the bookmark (it never moves back).
    before = log_lane.raw_counts()
    started = datetime.now(UTC)
    rerun = log_lane.run(INSIDE)
    assert rerun.returncode == 0, rerun.stderr[-3000:]
    assert sum(log_lane.inserted(started).values()) == 0
    assert log_lane.raw_counts() == before
    kept = log_lane.bookmarks()
    assert all(int(kept[f"shop-{t}"]["replication_key_value"]) >= changed_lsn[t] for t in TABLES)
    # The slot has been confirmed past the changes: it no longer retains their WAL.
    with log_lane.source() as pg:
        slot = pg.execute(
            "SELECT plugin, confirmed_flush_lsn - '0/0'::pg_lsn FROM pg_replication_slots "
            "WHERE slot_name = %s",
            (SLOT,),
        ).fetchone()
    assert slot is not None and slot[0] == "wal2json"
    assert int(slot[1]) > max(initial_lsn.values())
