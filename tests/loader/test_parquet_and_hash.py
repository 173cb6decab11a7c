"""Typed Parquet BATCH files, the typed row hash, and the one-time rehash of an old version log.

The real target-redshift executable reads Singer messages; Parquet files are written here by
DuckDB with the types a bulk extractor gives them (DECIMAL(12,2), TIMESTAMPTZ, INTEGER).
"""

from __future__ import annotations

import datetime as dt
import json
import typing as t
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg

from target_redshift.columns import Column, LogicalType
from target_redshift.record_hash import duckdb_piece, hash_expression, redshift_piece

from .support import PG_HOST, PG_PORT, PG_USER, run_target

EXTRACTED = "2026-11-03T04:05:06+00:00"
SCHEMA = {
    "type": "SCHEMA",
    "stream": "shop-orders",
    "key_properties": ["order_id"],
    "bookmark_properties": ["updated_at"],
    "schema": {
        "properties": {
            "order_id": {"type": ["integer"]},
            "status": {"type": ["string", "null"]},
            "quantity": {"type": ["integer", "null"]},
            "tax_amount": {"type": ["string", "null"], "format": "x-singer.decimal"},
            "paid_at": {"type": ["string", "null"], "format": "date-time"},
            "updated_at": {"type": ["string", "null"], "format": "date-time"},
        }
    },
}
VERSION_KEY = {"orders": ["order_id", "updated_at", "_record_hash"]}
MAPS = {"shop-orders": {"__alias__": "orders"}}
# (order_id, status, quantity, tax_amount, paid_at, updated_at) as the source holds them
ROWS: list[tuple[t.Any, ...]] = [
    (1, "paid", 2, Decimal("19.99"), "2026-11-01 08:00:00+00", "2026-11-01 08:00:00.250+00"),
    (2, "placed", None, Decimal("0.00"), None, "2026-11-01 09:00:00+00"),
    (3, "a|b:c", 1, Decimal("-5.10"), "2026-11-01 10:00:00+00", "2026-11-01 10:30:00+00"),
    (4, "", 7, None, "2026-11-01 11:00:00+00", "2026-11-01 11:00:00+00"),
]


def _config(duck_config: dict[str, t.Any]) -> dict[str, t.Any]:
    return dict(duck_config, version_key_properties=VERSION_KEY, stream_maps=MAPS)


def write_parquet(path: Path, rows: list[tuple[t.Any, ...]], bad_tax: bool = False) -> Path:
    """A Parquet file with the types DuckDB's postgres scan gives (a bulk extractor's file)."""
    tax = "VARCHAR" if bad_tax else "DECIMAL(12,2)"
    path.parent.mkdir(parents=True, exist_ok=True)
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'UTC'")
        con.execute(
            f"CREATE TABLE o (order_id BIGINT, status VARCHAR, quantity INTEGER, tax_amount {tax}, "
            "paid_at TIMESTAMPTZ, updated_at TIMESTAMPTZ)"
        )
        for values in rows:
            con.execute("INSERT INTO o VALUES (?, ?, ?, ?, ?, ?)", list(values))
        con.execute(f"COPY o TO '{path}' (FORMAT parquet)")
    return path


def parquet_batch(*paths: Path) -> dict[str, t.Any]:
    return {
        "type": "BATCH",
        "stream": "shop-orders",
        "encoding": {"format": "parquet", "compression": "none"},
        "manifest": [p.as_uri() for p in paths],
        "time_extracted": EXTRACTED,
    }


def record_messages(rows: list[tuple[t.Any, ...]], **text: str) -> list[dict[str, t.Any]]:
    """The same rows as tap-postgres' RECORD messages (decimal and time as text)."""
    out = []
    for order_id, status, quantity, tax, paid, updated in rows:
        record = {
            "order_id": order_id,
            "status": status,
            "quantity": quantity,
            "tax_amount": text.get("tax", "{}").format(tax) if tax is not None else None,
            "paid_at": paid.replace(" ", "T").replace("+00", "+00:00") if paid else None,
            "updated_at": updated.replace(" ", "T").replace("+00", "Z"),
        }
        out.append({"type": "RECORD", "stream": "shop-orders", "record": record})
    return out


def table(path: str, sql: str) -> list[tuple[t.Any, ...]]:
    with duckdb.connect(path, read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(sql).fetchall()


def test_parquet_batch_lands_typed_rows_with_the_hash_of_record_messages(
    duck_config: dict[str, t.Any], tmp_path: Path
) -> None:
    config = _config(duck_config)
    file = write_parquet(tmp_path / "tap" / "shop-orders-1.parquet", ROWS)
    done = run_target(config, [SCHEMA, parquet_batch(file)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert not file.exists()  # removed once committed
    types = dict(
        table(
            config["path"],
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_schema = 'raw_shop' AND table_name = 'orders'",
        )
    )
    assert types["order_id"] == "BIGINT" and types["quantity"] == "BIGINT"
    assert types["tax_amount"] == "DECIMAL(38,9)"
    assert types["paid_at"] == types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    landed = table(
        config["path"],
        "SELECT order_id, status, quantity, tax_amount, paid_at, updated_at, "
        "_sdc_extracted_at, _record_hash FROM raw_shop.orders ORDER BY order_id",
    )
    assert [r[:4] for r in landed] == [(r[0], r[1], r[2], r[3]) for r in ROWS]
    assert landed[0][4] == dt.datetime(2026, 11, 1, 8, tzinfo=dt.UTC)
    assert landed[0][5] == dt.datetime(2026, 11, 1, 8, 0, 0, 250000, tzinfo=dt.UTC)
    assert landed[1][4] is None and landed[3][3] is None  # NULLs stay NULL
    assert {r[6] for r in landed} == {dt.datetime(2026, 11, 3, 4, 5, 6, tzinfo=dt.UTC)}

    # The same rows as RECORD messages, with other text for the same values (19.990, Z
    # instead of +00:00), into a second warehouse: the same hashes, row for row.
    other = dict(config, path=str(tmp_path / "records.duckdb"))
    as_records = record_messages(ROWS, tax="{}0")
    done = run_target(other, [SCHEMA, *as_records], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    via_records = table(other["path"], "SELECT order_id, _record_hash FROM raw_shop.orders")
    assert sorted(via_records) == sorted((r[0], r[7]) for r in landed)

    # ... so the file sent again, or the records sent to the Parquet-loaded table, add nothing.
    again = write_parquet(tmp_path / "tap" / "shop-orders-2.parquet", ROWS)
    done = run_target(config, [SCHEMA, parquet_batch(again), *as_records], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert table(config["path"], "SELECT count(*) FROM raw_shop.orders") == [(4,)]
    # A changed value with the same updated_at is a new version (drift is kept).
    changed = [(1, "paid", 2, Decimal("20.00"), *ROWS[0][4:])]
    done = run_target(config, [SCHEMA, *record_messages(changed)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert table(
        config["path"], "SELECT tax_amount FROM raw_shop.orders WHERE order_id = 1 ORDER BY 1"
    ) == [(Decimal("19.99"),), (Decimal("20.00"),)]


def test_parquet_value_that_does_not_fit_is_rejected_not_dropped(
    duck_config: dict[str, t.Any], tmp_path: Path
) -> None:
    config = _config(duck_config)
    rows = [(*ROWS[0][:3], "19.99", *ROWS[0][4:]), (*ROWS[1][:3], "oops", *ROWS[1][4:])]
    file = write_parquet(tmp_path / "tap" / "bad.parquet", rows, bad_tax=True)
    done = run_target(config, [SCHEMA, parquet_batch(file)], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert table(config["path"], "SELECT order_id, tax_amount FROM raw_shop.orders") == [
        (1, Decimal("19.99"))
    ]
    rejects = table(config["path"], "SELECT error, record FROM raw_shop.orders__rejects")
    assert len(rejects) == 1 and rejects[0][0] == "tax_amount: oops is not a valid decimal"
    assert '"order_id":"2"' in rejects[0][1]
    log = table(
        config["path"], "SELECT rows_received, rows_inserted, rows_rejected FROM raw_meta.load_log"
    )
    assert log == [(2, 1, 1)]


def _old_text_hashes(path: str, messages: list[dict[str, t.Any]], workdir: Path) -> None:
    """Give a warehouse the hashes the loader wrote before typed hashing: md5 of the JSON
    object of each record's fields AS TEXT, and no scheme marker (an old warehouse)."""
    lines = workdir / "old.jsonl"
    lines.write_text("".join(json.dumps(m["record"]) + "\n" for m in messages))
    names = sorted(SCHEMA["schema"]["properties"])  # type: ignore[index]
    spec = ", ".join(f"'{n}': 'VARCHAR'" for n in names)
    text = "json_object(" + ", ".join(f"'{n}', {n}" for n in names) + ")"
    with duckdb.connect(path) as con:
        con.execute(
            f"CREATE TEMP TABLE old AS SELECT CAST(order_id AS BIGINT) AS k, "
            f"md5(CAST({text} AS VARCHAR)) AS h "
            f"FROM read_json('{lines}', format='newline_delimited', columns={{{spec}}})"
        )
        con.execute("UPDATE raw_shop.orders SET _record_hash = old.h FROM old WHERE order_id = k")
        con.execute("DELETE FROM raw_meta.record_hash_scheme")


def test_old_text_hashes_are_rehashed_once_and_reruns_add_no_version(
    duck_config: dict[str, t.Any], tmp_path: Path
) -> None:
    config = _config(duck_config)
    messages = record_messages(ROWS)
    done = run_target(config, [SCHEMA, *messages], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    typed = table(config["path"], "SELECT order_id, _record_hash FROM raw_shop.orders")
    _old_text_hashes(config["path"], messages, tmp_path)
    old = table(config["path"], "SELECT order_id, _record_hash FROM raw_shop.orders")
    assert not set(old) & set(typed)  # every stored hash is of the old scheme now

    done = run_target(config, [SCHEMA, *messages], tmp_path)  # the hourly re-send
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Rehashing 4 stored row(s) of raw_shop.orders" in done.stderr
    assert table(config["path"], "SELECT count(*) FROM raw_shop.orders") == [(4,)]
    assert sorted(table(config["path"], "SELECT order_id, _record_hash FROM raw_shop.orders")) == (
        sorted(typed)
    )
    assert table(
        config["path"],
        "SELECT schema_name, table_name, scheme, rows_rehashed FROM raw_meta.record_hash_scheme",
    ) == [("raw_shop", "orders", "typed-md5-v2", 4)]
    assert table(config["path"], "SELECT sum(rows_inserted) FROM raw_meta.load_log") == [(4,)]

    done = run_target(config, [SCHEMA, *messages], tmp_path)  # rehashed once, not again
    assert done.returncode == 0, done.stderr[-3000:]
    assert "Rehashing" not in done.stderr
    assert table(config["path"], "SELECT count(*) FROM raw_meta.record_hash_scheme") == [(1,)]


HASH_COLUMNS = [
    Column("id", "id", LogicalType.BIGINT),
    Column("amount", "amount", LogicalType.DECIMAL),
    Column("note", "note", LogicalType.VARCHAR),
    Column("seen_at", "seen_at", LogicalType.TIMESTAMPTZ),
    Column("day", "day", LogicalType.DATE),
    Column("flag", "flag", LogicalType.BOOLEAN),
    Column("_sdc_deleted_at", "_sdc_deleted_at", LogicalType.TIMESTAMPTZ),
]
HASH_ROWS = [
    (1, "19.99", "paid", "2026-11-01 08:00:00+00", "2026-11-01", True, None),
    (2, "-0.5", "", "2026-11-01 08:00:00.123456+00", None, False, None),
    (3, "12345678901.123456789", "a|b:c", None, "2024-02-29", None, "2026-11-02 00:00:00+00"),
    (4, None, None, "1999-12-31 23:59:59.5+00", "1999-12-31", True, None),
    (5, "0", "naïve ünïcode", "2026-06-01 12:00:00-04", "2026-06-01", False, None),
]


def test_typed_hash_is_the_same_in_postgres_as_in_duckdb(pg_database: str) -> None:
    """The Redshift dialect's hash SQL, run by PostgreSQL, equals DuckDB's for the same values:
    the stored hashes of either backend can be recomputed by the warehouse itself."""
    ddl = (
        "CREATE TABLE h (id BIGINT, amount DECIMAL(38,9), note VARCHAR, seen_at TIMESTAMPTZ, "
        "day DATE, flag BOOLEAN, _sdc_deleted_at TIMESTAMPTZ)"
    )
    marks = ", ".join("?" for _ in HASH_COLUMNS)
    deleted = '"_sdc_deleted_at"'
    with duckdb.connect() as con:
        con.execute("SET TimeZone = 'America/New_York'")  # the hash must not depend on it
        con.execute(ddl)
        con.executemany(f"INSERT INTO h VALUES ({marks})", [list(r) for r in HASH_ROWS])
        expr = hash_expression(HASH_COLUMNS, duckdb_piece, deleted=deleted)
        in_duckdb = con.execute(f"SELECT id, {expr} FROM h ORDER BY id").fetchall()
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database) as pg:
        pg.execute("SET TimeZone = 'Asia/Tokyo'")
        pg.execute(ddl)
        with pg.cursor() as cur:
            cur.executemany(
                f"INSERT INTO h VALUES ({marks.replace('?', '%s')})", [list(r) for r in HASH_ROWS]
            )
        expr = hash_expression(HASH_COLUMNS, redshift_piece, deleted=deleted)
        expr = expr.replace("JSON_SERIALIZE", "")  # no JSON column here
        in_postgres = pg.execute(f"SELECT id, {expr} FROM h ORDER BY id").fetchall()
    assert in_duckdb == in_postgres
    assert len({h for _, h in in_duckdb}) == len(HASH_ROWS)
