"""The real target-redshift executable, DuckDB backend, Singer messages on stdin."""

from __future__ import annotations

import datetime as dt
import json
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from .support import run_target, table_checksum

ORDERS_V1 = {
    "type": "SCHEMA",
    "stream": "orders",
    "key_properties": ["order_id"],
    "bookmark_properties": ["updated_at"],
    "schema": {
        "properties": {
            "order_id": {"type": "integer"},
            "amount": {"type": ["null", "number"]},
            "qty": {"type": ["null", "integer"]},
            "updated_at": {"type": "string", "format": "date-time"},
            "attrs": {"type": ["null", "object"]},
        }
    },
}
# Mid stream: a new column (channel) and qty widened from integer to number.
ORDERS_V2 = json.loads(json.dumps(ORDERS_V1))
ORDERS_V2["schema"]["properties"]["channel"] = {"type": ["null", "string"]}
ORDERS_V2["schema"]["properties"]["qty"] = {"type": ["null", "number"]}

EVENTS = {  # a stream without key properties: versions are identified by a record hash
    "type": "SCHEMA",
    "stream": "page_events",
    "key_properties": [],
    "schema": {"properties": {"path": {"type": "string"}, "n": {"type": "integer"}}},
}


def rec(stream: str, record: dict[str, Any]) -> dict[str, Any]:
    return {"type": "RECORD", "stream": stream, "record": record}


def messages() -> list[dict[str, Any]]:
    return [
        ORDERS_V1,
        EVENTS,
        rec(
            "orders",
            {
                "order_id": 9007199254740993,
                "amount": 19.99,
                "qty": 2,
                "updated_at": "2026-11-01T10:00:00+02:00",
                "attrs": {"gift": True},
            },
        ),
        rec(
            "orders", {"order_id": 2, "amount": 0.1, "qty": 1, "updated_at": "2026-11-01T09:00:00Z"}
        ),
        # the boundary row, re-sent (tap-postgres' >= bookmark): must not duplicate
        rec(
            "orders", {"order_id": 2, "amount": 0.1, "qty": 1, "updated_at": "2026-11-01T09:00:00Z"}
        ),
        # malformed: amount is not a number, qty not an integer
        rec(
            "orders",
            {"order_id": 3, "amount": "abc", "qty": 1.5, "updated_at": "2026-11-01T09:30:00Z"},
        ),
        # a new version of order 2 is a new row of the version log
        rec(
            "orders", {"order_id": 2, "amount": 0.2, "qty": 1, "updated_at": "2026-11-01T09:45:00Z"}
        ),
        rec("page_events", {"path": "/a", "n": 1}),
        rec("page_events", {"path": "/a", "n": 1}),
        rec("page_events", {"path": "/b", "n": 1}),
        {"type": "STATE", "value": {"bookmarks": {"orders": {"v": 1}}}},
        ORDERS_V2,
        rec(
            "orders",
            {
                "order_id": 4,
                "amount": "__WIDE__",
                "qty": 2.5,
                "updated_at": "2026-11-01T11:15:00.123456Z",
                "channel": "web",
            },
        ),
        {"type": "STATE", "value": {"bookmarks": {"orders": {"v": 2}}}},
    ]


def singer_text() -> str:
    """The messages as the tap would write them; the wide number as a JSON number literal."""
    text = "".join(json.dumps(m) + "\n" for m in messages())
    return text.replace('"__WIDE__"', "12345678901234567890.123456789")


def test_loads_types_values_rejects_and_load_log(duck_config: dict, tmp_path: Path) -> None:
    done = run_target(duck_config, singer_text(), tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    # STATE comes out only after the records before it are committed (at drain).
    states = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
    assert states[-1] == {"bookmarks": {"orders": {"v": 2}}}

    with duckdb.connect(duck_config["path"], read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema='raw_shop' AND table_name='orders'"
            ).fetchall()
        )
        assert types["order_id"] == "BIGINT"
        assert types["amount"] == "DECIMAL(38,9)"
        assert types["qty"] == "DECIMAL(38,9)"  # widened from BIGINT, never narrowed
        assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
        assert types["attrs"] == "JSON"
        assert types["channel"] == "VARCHAR"
        for meta in (
            "_sdc_extracted_at",
            "_sdc_received_at",
            "_sdc_batched_at",
            "_sdc_deleted_at",
            "_sdc_sequence",
            "_sdc_table_version",
            "_load_id",
            "_loaded_at",
        ):
            assert meta in types
        rows = con.execute(
            "SELECT order_id, amount, qty, updated_at, channel, attrs FROM raw_shop.orders "
            "ORDER BY order_id, updated_at"
        ).fetchall()
        assert [(r[0], r[1], r[2]) for r in rows] == [
            (2, Decimal("0.1"), Decimal("1")),
            (2, Decimal("0.2"), Decimal("1")),
            (4, Decimal("12345678901234567890.123456789"), Decimal("2.5")),
            (9007199254740993, Decimal("19.99"), Decimal("2")),
        ]
        assert rows[3][3] == dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
        assert rows[2][3] == dt.datetime(2026, 11, 1, 11, 15, 0, 123456, tzinfo=dt.UTC)
        assert rows[2][4] == "web" and rows[0][4] is None
        assert json.loads(rows[3][5]) == {"gift": True}

        rejects = con.execute("SELECT error, record FROM raw_shop.orders__rejects").fetchall()
        assert len(rejects) == 1
        assert "amount: abc is not a valid decimal" in rejects[0][0]
        assert "qty: 1.5 is not a valid bigint" in rejects[0][0]
        assert json.loads(rejects[0][1])["order_id"] == "3"  # raw values, as text

        events = con.execute("SELECT path, n FROM raw_shop.page_events ORDER BY path").fetchall()
        assert events == [("/a", 1), ("/b", 1)]

        log = con.execute(
            "SELECT stream, lane, rows_received, rows_inserted, rows_duplicate, rows_rejected, "
            "high_water_mark, status FROM raw_meta.load_log ORDER BY stream"
        ).fetchall()
    assert log == [
        (
            "orders",
            "shop",
            6,
            4,
            1,
            1,
            dt.datetime(2026, 11, 1, 11, 15, 0, 123456, tzinfo=dt.UTC),
            "succeeded",
        ),
        ("page_events", "shop", 3, 2, 1, 0, None, "succeeded"),
    ]


def test_second_run_of_same_input_changes_nothing(duck_config: dict, tmp_path: Path) -> None:
    first = run_target(duck_config, singer_text(), tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    path = Path(duck_config["path"])
    before = [table_checksum(path, t) for t in ("raw_shop.orders", "raw_shop.page_events")]
    second = run_target(duck_config, singer_text(), tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    after = [table_checksum(path, t) for t in ("raw_shop.orders", "raw_shop.page_events")]
    assert after == before
    assert before[0][0] == 4
    with duckdb.connect(str(path), read_only=True) as con:
        log = con.execute(
            "SELECT stream, rows_received, rows_inserted, rows_duplicate, rows_rejected "
            "FROM raw_meta.load_log WHERE load_id = (SELECT max_by(load_id, finished_at) "
            "FROM raw_meta.load_log) ORDER BY stream"
        ).fetchall()
    assert log == [("orders", 6, 0, 5, 1), ("page_events", 3, 0, 3, 0)]


def test_small_batches_give_the_same_table(duck_config: dict, tmp_path: Path) -> None:
    whole = run_target(duck_config, singer_text(), tmp_path)
    assert whole.returncode == 0, whole.stderr[-3000:]
    small = dict(duck_config, path=str(tmp_path / "small.duckdb"), batch_size_rows=1)
    split = run_target(small, singer_text(), tmp_path)
    assert split.returncode == 0, split.stderr[-3000:]
    query = "SELECT order_id, amount, qty, updated_at FROM raw_shop.orders ORDER BY ALL"
    with (
        duckdb.connect(duck_config["path"], read_only=True) as a,
        duckdb.connect(small["path"], read_only=True) as b,
    ):
        assert a.execute(query).fetchall() == b.execute(query).fetchall()


def test_locked_warehouse_file_fails_with_its_name(duck_config: dict, tmp_path: Path) -> None:
    path = duck_config["path"]
    holder = subprocess.Popen(
        [
            sys.executable,
            "-c",
            f"import duckdb, sys; c = duckdb.connect({path!r}); print('ready', flush=True); "
            "sys.stdin.read()",
        ],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "ready"
        done = run_target(dict(duck_config, lock_timeout_seconds=1), singer_text(), tmp_path)
    finally:
        holder.communicate(input="", timeout=60)
    assert done.returncode != 0
    assert f"DuckDB file '{path}' is locked by another process" in done.stderr
    assert "lock_timeout_seconds" in done.stderr


def test_record_before_schema_is_a_clear_error(duck_config: dict, tmp_path: Path) -> None:
    done = run_target(duck_config, [rec("orders", {"order_id": 1})], tmp_path)
    assert done.returncode != 0
    assert "before a corresponding schema" in done.stderr


def test_failed_run_is_logged_as_failed_with_what_landed(duck_config: dict, tmp_path: Path) -> None:
    clash = json.loads(json.dumps(ORDERS_V1))
    clash["schema"]["properties"]["ORDER_ID"] = {"type": "string"}
    stream = [
        ORDERS_V1,
        rec(
            "orders",
            {"order_id": 1, "amount": 1.25, "qty": 1, "updated_at": "2026-11-02T00:00:00Z"},
        ),
        {"type": "STATE", "value": {"bookmarks": {"orders": {"v": 1}}}},
        clash,
        rec("orders", {"order_id": 2, "ORDER_ID": "x", "updated_at": "2026-11-02T01:00:00Z"}),
        {"type": "STATE", "value": {"bookmarks": {"orders": {"v": 2}}}},
    ]
    done = run_target(dict(duck_config, batch_size_rows=1), stream, tmp_path)
    assert done.returncode != 0
    assert "both become column 'order_id'" in done.stderr
    assert done.stdout.strip() == ""  # no bookmark is handed on when a batch failed
    with duckdb.connect(duck_config["path"], read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        log = con.execute(
            "SELECT stream, rows_inserted, high_water_mark, status FROM raw_meta.load_log"
        ).fetchall()
    assert log == [("orders", 1, dt.datetime(2026, 11, 2, tzinfo=dt.UTC), "failed")]


def test_configured_version_key_and_text_replication_key(duck_config: dict, tmp_path: Path) -> None:
    """The marketing lane's shape: CSV text columns, a version key including the source file."""
    schema = {
        "type": "SCHEMA",
        "stream": "ad_spend",
        "key_properties": ["date", "platform"],
        "schema": {
            "properties": {
                "date": {"type": "string"},
                "platform": {"type": "string"},
                "spend": {"type": "number"},
                "_sdc_source_file": {"type": "string"},
            }
        },
    }

    def row(day: str, spend: str, source: str) -> dict[str, Any]:
        return rec(
            "ad_spend",
            {"date": day, "platform": "meta", "spend": spend, "_sdc_source_file": source},
        )

    config = dict(
        duck_config,
        lane="marketing",
        default_target_schema="raw_marketing",
        version_key_properties={"ad_spend": ["date", "platform", "_sdc_source_file"]},
        replication_keys={"ad_spend": "date"},
    )
    stream = [
        schema,
        row("2026-11-01", "10.50", "a.csv"),
        row("2026-11-01", "10.50", "a.csv"),
        row("2026-11-01", "11.00", "b.csv"),
        row("2026-11-02", "7.25", "b.csv"),
    ]
    done = run_target(config, stream, tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(config["path"], read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(
            "SELECT date, spend, _sdc_source_file FROM raw_marketing.ad_spend ORDER BY ALL"
        ).fetchall()
        log = con.execute(
            "SELECT lane, rows_inserted, rows_duplicate, high_water_mark FROM raw_meta.load_log"
        ).fetchall()
    assert rows == [
        ("2026-11-01", Decimal("10.5"), "a.csv"),
        ("2026-11-01", Decimal("11"), "b.csv"),
        ("2026-11-02", Decimal("7.25"), "b.csv"),
    ]
    assert log == [("marketing", 3, 1, dt.datetime(2026, 11, 2, tzinfo=dt.UTC))]


def test_deletion_is_a_version_of_its_own(duck_config: dict, tmp_path: Path) -> None:
    """tap-postgres LOG_BASED with REPLICA IDENTITY FULL: a delete carries the deleted row as its
    last version held it, plus `_sdc_deleted_at`; it lands, and a replay of it does not."""
    schema = {
        "type": "SCHEMA",
        "stream": "customers",
        "key_properties": ["customer_id"],
        "bookmark_properties": ["_sdc_lsn"],
        "schema": {
            "properties": {
                "customer_id": {"type": ["integer", "null"]},
                "city": {"type": ["string", "null"]},
                "updated_at": {"type": ["string", "null"], "format": "date-time"},
                "_sdc_deleted_at": {"type": ["string"]},
                "_sdc_lsn": {"type": ["integer"]},
            }
        },
    }

    def row(city: str, lsn: int, deleted_at: str | None = None) -> dict[str, Any]:
        values = {"customer_id": 3, "city": city, "updated_at": "2026-11-21 09:01:00+00"}
        return rec("customers", {**values, "_sdc_deleted_at": deleted_at, "_sdc_lsn": lsn})

    config = dict(
        duck_config,
        version_key_properties={"customers": ["customer_id", "updated_at", "_record_hash"]},
        replication_keys={"customers": "updated_at"},
    )
    changes = [schema, row("Paris", 100), row("Paris", 200, "2026-11-21T09:05:00Z")]
    first = run_target(config, changes, tmp_path)
    assert first.returncode == 0, first.stderr[-3000:]
    # The same delete read again (a slot replayed from an older bookmark), at a later time.
    replay = [schema, row("Paris", 200, "2026-11-21T10:00:00Z")]
    second = run_target(config, replay, tmp_path)
    assert second.returncode == 0, second.stderr[-3000:]
    with duckdb.connect(config["path"], read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(
            "SELECT city, _sdc_lsn, _sdc_deleted_at FROM raw_shop.customers ORDER BY _sdc_lsn"
        ).fetchall()
        log = con.execute(
            "SELECT rows_inserted, rows_duplicate, high_water_mark FROM raw_meta.load_log "
            "ORDER BY finished_at"
        ).fetchall()
    assert rows == [
        ("Paris", 100, None),
        ("Paris", 200, dt.datetime(2026, 11, 21, 9, 5, tzinfo=dt.UTC)),
    ]
    updated = dt.datetime(2026, 11, 21, 9, 1, tzinfo=dt.UTC)
    assert log == [(2, 0, updated), (0, 1, updated)]
