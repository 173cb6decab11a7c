"""The shop lane's bulk path: the real tap-postgres-bulk (tap-postgres plus a Parquet BATCH path,
from the plugin's own environment) piped into the real target-redshift, on a real PostgreSQL.

It must land exactly what tap-postgres' record path lands (values, types, NULLs, hashes), read
every table of a run from one snapshot, and keep tap-postgres' bookmark, bounds and filters.
"""

from __future__ import annotations

import json
import subprocess
import threading
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from tap_postgres_bulk.snapshot import Snapshot

from .support import PG_HOST, PG_PORT, PG_USER, TARGET, incremental_catalog

VENV = Path(__file__).resolve().parents[2] / ".meltano/extractors/tap-postgres/venv/bin"
BULK = VENV / "tap-postgres-bulk"
RECORDS = VENV / "tap-postgres"

SOURCE_SQL = """
CREATE SCHEMA shop;
CREATE TABLE shop.orders (
    order_id bigint PRIMARY KEY,
    status text NOT NULL,
    country char(2),
    amount numeric(12,2) NOT NULL,
    discount numeric(12,2),
    paid boolean,
    placed_at timestamptz NOT NULL,
    cancelled_at timestamptz,
    updated_at timestamptz NOT NULL
);
CREATE INDEX ON shop.orders (updated_at);
INSERT INTO shop.orders
SELECT i, CASE WHEN i % 5 = 0 THEN 'cancelled' ELSE 'paid' END,
       CASE WHEN i % 7 = 0 THEN NULL ELSE 'DE' END,
       round((i * 7.31) % 1000, 2) + 0.99,
       CASE WHEN i % 3 = 0 THEN NULL ELSE 0.00 END,
       i % 2 = 0,
       timestamptz '2026-11-01 00:00:00+00' + i * interval '37.123456 seconds',
       CASE WHEN i % 5 = 0 THEN timestamptz '2026-11-02 00:00:00+00' END,
       timestamptz '2026-11-01 00:00:00+00' + (i / 10) * interval '1 minute'
FROM generate_series(1, 3000) AS i;
CREATE TABLE shop.refunds (
    refund_id bigint PRIMARY KEY,
    amount numeric(12,2) NOT NULL,
    updated_at timestamptz NOT NULL
);
INSERT INTO shop.refunds
SELECT i, i * 1.5, timestamptz '2026-11-01 00:00:00+00' + i * interval '1 hour'
FROM generate_series(1, 40) AS i;
"""
CONTENT = (
    "order_id, status, country, amount, discount, paid, placed_at, cancelled_at, updated_at, "
    "_record_hash"
)


@pytest.fixture
def source(pg_database: str) -> str:
    assert BULK.exists(), f"{BULK} is missing: run `meltano install` (it builds the tap's venv)"
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database, autocommit=True
    ) as con:
        con.execute(SOURCE_SQL)
    return pg_database


def tap_config(path: Path, database: str, **extra: Any) -> Path:
    config = {
        "host": PG_HOST,
        "port": PG_PORT,
        "user": PG_USER,
        "password": "unused",
        "database": database,
        "filter_schemas": ["shop"],
        "use_singer_decimal": True,
        **extra,
    }
    path.write_text(json.dumps(config))
    return path


def parquet_batches(folder: Path) -> dict[str, Any]:
    return {
        "encoding": {"format": "parquet", "compression": "none"},
        "storage": {"root": folder.as_uri(), "prefix": "shop-"},
    }


def catalog(config: Path, out: Path) -> Path:
    out.write_text(json.dumps(incremental_catalog(RECORDS, config)))
    return out


def target_config(path: Path, warehouse: Path) -> Path:
    path.write_text(
        json.dumps(
            {
                "backend": "duckdb",
                "path": str(warehouse),
                "lane": "shop",
                "default_target_schema": "raw_shop",
                "staging_dir": str(path.parent / "staging"),
                "stream_maps": {
                    "shop-orders": {"__alias__": "orders"},
                    "shop-refunds": {"__alias__": "refunds"},
                },
                "version_key_properties": {
                    "orders": ["order_id", "updated_at", "_record_hash"],
                    "refunds": ["refund_id", "updated_at", "_record_hash"],
                },
            }
        )
    )
    return path


def run_lane(
    tap: Path, config: Path, cat: Path, target: Path, state: Path | None = None
) -> tuple[dict[str, Any], str]:
    """tap | target; returns the last STATE the target wrote and the tap's log."""
    command = [str(tap), "--config", str(config), "--catalog", str(cat)]
    if state is not None:
        command += ["--state", str(state)]
    producer = subprocess.Popen(command, stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    errors: list[bytes] = []
    reader = threading.Thread(target=lambda: errors.append(producer.stderr.read()))  # type: ignore[union-attr]
    reader.start()
    done = subprocess.run(
        [str(TARGET), "--config", str(target)],
        stdin=producer.stdout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    code = producer.wait(timeout=300)
    reader.join()
    log = b"".join(errors).decode(errors="replace")
    assert code == 0, log[-3000:]
    assert done.returncode == 0, done.stderr[-3000:]
    return json.loads(done.stdout.strip().splitlines()[-1]), log


def rows(warehouse: Path, sql: str) -> list[tuple[Any, ...]]:
    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def test_bulk_path_lands_exactly_what_the_record_path_lands(source: str, tmp_path: Path) -> None:
    batches = tmp_path / "batches"
    bulk_config = tap_config(tmp_path / "bulk.json", source, batch_config=parquet_batches(batches))
    record_config = tap_config(tmp_path / "records.json", source)
    cat = catalog(record_config, tmp_path / "catalog.json")
    bulk_wh, record_wh = tmp_path / "bulk.duckdb", tmp_path / "records.duckdb"

    state, log = run_lane(BULK, bulk_config, cat, target_config(tmp_path / "t1.json", bulk_wh))
    run_lane(RECORDS, record_config, cat, target_config(tmp_path / "t2.json", record_wh))

    assert "Copied 3000 row(s) of shop-orders in bulk" in log
    assert list(batches.iterdir()) == []  # every file removed once loaded
    bulk = rows(bulk_wh, f"SELECT {CONTENT} FROM raw_shop.orders ORDER BY order_id")
    assert bulk == rows(record_wh, f"SELECT {CONTENT} FROM raw_shop.orders ORDER BY order_id")
    assert len(bulk) == 3000
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=source) as con:
        src = con.execute(
            "SELECT sum(amount), sum(discount), count(discount), count(country), "
            "max(updated_at), sum(extract(epoch FROM placed_at)) FROM shop.orders"
        ).fetchone()
    got = rows(
        bulk_wh,
        "SELECT sum(amount), sum(discount), count(discount), count(country), "
        "max(updated_at), sum(epoch(placed_at)) FROM raw_shop.orders",
    )[0]
    assert src is not None and got[:5] == src[:5] and float(got[5]) == pytest.approx(float(src[5]))
    types = dict(
        rows(
            bulk_wh,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_shop' AND table_name = 'orders'",
        )
    )
    assert types["amount"] == "DECIMAL(38,9)" and types["order_id"] == "BIGINT"
    assert types["placed_at"] == "TIMESTAMP WITH TIME ZONE" and types["paid"] == "BOOLEAN"
    unstamped = "SELECT count(*) FROM raw_shop.orders WHERE _sdc_extracted_at IS NULL"
    assert rows(bulk_wh, unstamped) == [(0,)]
    bookmark = state["bookmarks"]["shop-orders"]
    assert bookmark["replication_key"] == "updated_at"
    assert bookmark["replication_key_value"] == "2026-11-01T05:00:00+00:00"

    # Next run from the bookmark: the boundary rows come again and add nothing; a change lands.
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=source, autocommit=True
    ) as con:
        con.execute(
            "UPDATE shop.orders SET status = 'refunded', updated_at = "
            "timestamptz '2026-11-01 06:00:00+00' WHERE order_id IN (7, 8)"
        )
    saved = tmp_path / "state.json"
    saved.write_text(json.dumps(state))
    state, _ = run_lane(BULK, bulk_config, cat, target_config(tmp_path / "t1.json", bulk_wh), saved)
    inserted = rows(
        bulk_wh,
        "SELECT stream, rows_received, rows_inserted FROM raw_meta.load_log "
        "WHERE load_id = (SELECT load_id FROM raw_meta.load_log ORDER BY finished_at DESC LIMIT 1)"
        " ORDER BY stream",
    )
    # orders: the boundary row at 05:00 and the 2 changed ones; refunds: its boundary row
    assert inserted == [("orders", 3, 2), ("refunds", 1, 0)]
    assert state["bookmarks"]["shop-orders"]["replication_key_value"] == "2026-11-01T06:00:00+00:00"


def test_every_table_of_a_run_is_read_in_one_snapshot(source: str) -> None:
    """A row committed after the run's first copy is not seen by the run's later copies."""
    conninfo = f"host={PG_HOST} port={PG_PORT} user={PG_USER} dbname={source}"
    snapshot = Snapshot(conninfo)
    try:
        assert snapshot.isolation() == "repeatable read"
        first = snapshot.con.execute(
            "SELECT * FROM postgres_query('source', 'SELECT count(*) FROM shop.orders')"
        ).fetchone()
        with psycopg.connect(conninfo, autocommit=True) as writer:
            writer.execute(
                "INSERT INTO shop.refunds VALUES (41, 1.00, now()); "
                "INSERT INTO shop.orders (order_id, status, amount, placed_at, updated_at) "
                "VALUES (5000, 'paid', 1.00, now(), now())"
            )
        refunds = snapshot.con.execute(
            "SELECT * FROM postgres_query('source', 'SELECT count(*) FROM shop.refunds')"
        ).fetchone()
        orders = snapshot.con.execute(
            "SELECT * FROM postgres_query('source', 'SELECT count(*) FROM shop.orders')"
        ).fetchone()
    finally:
        snapshot.close()
    assert first == orders == (3000,)
    assert refunds == (40,)


def test_max_record_count_and_custom_where_bound_the_window(source: str, tmp_path: Path) -> None:
    batches = tmp_path / "batches"
    record_config = tap_config(tmp_path / "records.json", source)
    cat = catalog(record_config, tmp_path / "catalog.json")
    warehouse = tmp_path / "wh.duckdb"
    bounded = tap_config(
        tmp_path / "bounded.json",
        source,
        batch_config=parquet_batches(batches),
        max_record_count=1000,
        stream_options={"shop-refunds": {"custom_where_clauses": ["refund_id <= 10"]}},
    )
    target = target_config(tmp_path / "t.json", warehouse)
    state, log = run_lane(BULK, bounded, cat, target)
    # The 1,000th row from the start is at 01:40 (ten rows a minute, nine at 00:00); the other
    # rows of 01:40 come along: order_id 1 to 1009.
    assert "Copied 1009 row(s) of shop-orders in bulk" in log
    assert state["bookmarks"]["shop-orders"]["replication_key_value"] == "2026-11-01T01:40:00+00:00"
    assert rows(warehouse, "SELECT count(*), max(refund_id) FROM raw_shop.refunds") == [(10, 10)]
    saved = tmp_path / "state.json"
    saved.write_text(json.dumps(state))
    state, log = run_lane(BULK, bounded, cat, target, saved)
    assert "Copied 1000 row(s) of shop-orders in bulk" in log  # 1000 to 1999: 01:40 to 03:19
    assert rows(warehouse, "SELECT count(*), count(DISTINCT order_id) FROM raw_shop.orders") == [
        (1999, 1999)
    ]


def test_a_window_is_copied_in_chunks_each_landed_once(source: str, tmp_path: Path) -> None:
    """batch_size cuts the window at replication values: ten rows share each minute, so a
    chunk of 700 rows ends with all rows of its last minute, and the next starts after it."""
    batches = tmp_path / "batches"
    chunked = tap_config(
        tmp_path / "chunked.json",
        source,
        batch_config={**parquet_batches(batches), "batch_size": 700},
    )
    cat = catalog(tap_config(tmp_path / "records.json", source), tmp_path / "catalog.json")
    warehouse = tmp_path / "wh.duckdb"
    state, log = run_lane(BULK, chunked, cat, target_config(tmp_path / "t.json", warehouse))
    copied = [
        int(line.split("Copied ")[1].split(" ")[0])
        for line in log.splitlines()
        if "row(s) of shop-orders in bulk" in line
    ]
    assert len(copied) == 5 and sum(copied) == 3000, copied
    assert all(n >= 700 for n in copied[:-1])
    landed = rows(
        warehouse,
        "SELECT count(*), count(DISTINCT order_id), min(order_id), max(order_id) "
        "FROM raw_shop.orders",
    )
    assert landed == [(3000, 3000, 1, 3000)]
    loads = rows(warehouse, "SELECT sum(rows_received), sum(rows_duplicate) FROM raw_meta.load_log")
    assert loads == [(3040, 0)]  # 3,000 orders and 40 refunds, no row read twice
    assert state["bookmarks"]["shop-orders"]["replication_key_value"] == "2026-11-01T05:00:00+00:00"
