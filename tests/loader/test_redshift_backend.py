"""The Redshift backend against what runs here: S3 is moto's server over HTTP, the SQL runs on
PostgreSQL 15. Only Redshift's COPY cannot run here; the test named for it replaces that one
statement with a local load of the very Parquet object that was uploaded.

redshift-connector cannot connect to PostgreSQL 15 (the server rejects its startup
parameter client_protocol_version), so the statements go through psycopg; SUPER and JSON_PARSE
are given to PostgreSQL as a jsonb domain and a SQL function.
"""

from __future__ import annotations

import datetime as dt
import gzip
import json
import re
import tempfile
import uuid
from collections.abc import Iterator, Sequence
from decimal import Decimal
from pathlib import Path
from typing import Any

import boto3
import duckdb
import psycopg
import pytest
from moto.server import ThreadedMotoServer

from target_redshift.batchfiles import BatchSource
from target_redshift.columns import columns_for_schema
from target_redshift.dialect import RedshiftDialect, quote
from target_redshift.loader import TablePlan, load_batch, load_file
from target_redshift.loadlog import StreamTally, write_load_log
from target_redshift.warehouse import RedshiftWarehouse

from .support import PG_HOST, PG_PORT, PG_USER

ROLE = "arn:aws:iam::123456789012:role/brightcart-copy"
BUCKET = "tgt-staging"


class CopyReplacedByLocalLoad(RedshiftWarehouse):
    """Every statement runs on PostgreSQL except COPY, which is replaced by reading the staged
    S3 object back from moto and inserting its rows into the staging table."""

    copies: list[str]

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        match = re.fullmatch(
            r"COPY (\"[^\"]+\") FROM 's3://([^/]+)/(.+)' IAM_ROLE '[^']+' "
            r"FORMAT AS PARQUET(?: REGION '[a-z0-9-]+')?",
            sql,
        )
        if match is None:
            return super().execute(sql, params)
        self.copies.append(sql)
        tmp, bucket, key = match.groups()
        body = self.s3.get_object(Bucket=bucket, Key=key)["Body"].read()  # type: ignore[attr-defined]
        with tempfile.NamedTemporaryFile(suffix=".parquet") as handle:
            handle.write(body)
            handle.flush()
            with duckdb.connect() as con:
                con.execute("SET TimeZone = 'UTC'")
                relation = con.sql(f"SELECT * FROM read_parquet('{handle.name}')")
                names, rows = relation.columns, relation.fetchall()
        marks = ", ".join("%s" for _ in names)
        self.con.cursor().executemany(
            f"INSERT INTO {tmp} ({', '.join(quote(n) for n in names)}) VALUES ({marks})", rows
        )
        return len(rows)


@pytest.fixture
def s3() -> Iterator[Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    client = boto3.client(
        "s3",
        endpoint_url=f"http://{host}:{port}",
        region_name="us-east-1",
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
    )
    client.create_bucket(Bucket=BUCKET)
    try:
        yield client
    finally:
        server.stop()


def _warehouse(pg_database: str, s3: Any) -> CopyReplacedByLocalLoad:
    def connect() -> psycopg.Connection[Any]:
        return psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database)

    with connect() as con:
        con.execute("CREATE DOMAIN super AS jsonb")
        con.execute(
            "CREATE FUNCTION json_parse(text) RETURNS jsonb LANGUAGE sql IMMUTABLE "
            "AS $$ SELECT $1::jsonb $$"
        )
    wh = CopyReplacedByLocalLoad(connect, s3, BUCKET, "loader-staging/", RedshiftDialect(ROLE))
    wh.copies = []
    return wh


SCHEMA = {
    "properties": {
        "order_id": {"type": "integer"},
        "amount": {"type": ["null", "number"]},
        "qty": {"type": ["null", "integer"]},
        "updated_at": {"type": "string", "format": "date-time"},
        "attrs": {"type": ["null", "object"]},
    }
}
RECORDS = [
    {
        "order_id": 1,
        "amount": "19.99",
        "qty": 2,
        "updated_at": "2026-11-01T10:00:00+02:00",
        "attrs": {"gift": True},
    },
    {"order_id": 2, "amount": "0.10", "qty": 1, "updated_at": "2026-11-01T09:00:00Z"},
    {"order_id": 2, "amount": "0.10", "qty": 1, "updated_at": "2026-11-01T09:00:00Z"},
    {"order_id": 3, "amount": "oops", "qty": 1, "updated_at": "2026-11-01T09:00:00Z"},
]


def _plan(schema: dict[str, Any]) -> TablePlan:
    return TablePlan(
        "raw_shop",
        "orders",
        tuple(columns_for_schema(schema)),
        ("order_id", "updated_at"),
        ("order_id",),
    )


def test_redshift_backend_stages_to_s3_copy_replaced_by_local_load(
    pg_database: str, s3: Any, tmp_path: Path
) -> None:
    wh = _warehouse(pg_database, s3)
    local = duckdb.connect()
    load_id = uuid.uuid4().hex
    try:
        first = load_batch(wh, local, _plan(SCHEMA), RECORDS, load_id, tmp_path)
        again = load_batch(wh, local, _plan(SCHEMA), RECORDS, load_id, tmp_path)
        # a new column and integer -> number on a loaded table (add, copy, drop, rename)
        wider = {
            "properties": {
                **SCHEMA["properties"],
                "qty": {"type": ["null", "number"]},
                "channel": {"type": ["null", "string"]},
            }
        }
        third = load_batch(
            wh,
            local,
            _plan(wider),
            [
                {
                    "order_id": 4,
                    "amount": "5",
                    "qty": "2.5",
                    "updated_at": "2026-11-01T12:00:00Z",
                    "channel": "ios",
                }
            ],
            load_id,
            tmp_path,
        )
        tally = StreamTally(
            "raw_shop",
            "orders",
            dt.datetime.now(tz=dt.UTC),
            "updated_at",
            received=9,
            inserted=3,
            duplicate=5,
            rejected=1,
        )
        write_load_log(wh, load_id, "shop", {"orders": tally}, "succeeded")
    finally:
        wh.close()

    assert (first.received, first.inserted, first.duplicate, first.rejected) == (4, 2, 1, 1)
    assert (again.inserted, again.duplicate, again.rejected) == (0, 3, 1)
    assert third.inserted == 1
    assert len(wh.copies) == 3
    assert all(f"s3://{BUCKET}/loader-staging/{load_id}/orders-" in c for c in wh.copies)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0  # staged objects removed

    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database) as con:
        types: dict[str, str] = dict(
            con.execute(
                "SELECT column_name, coalesce(domain_name, data_type) "
                "FROM information_schema.columns "
                "WHERE table_schema = 'raw_shop' AND table_name = 'orders'"
            ).fetchall()
        )
        rows = con.execute(
            "SELECT order_id, amount, qty, updated_at, attrs, channel "
            "FROM raw_shop.orders ORDER BY order_id"
        ).fetchall()
        rejects = con.execute("SELECT error FROM raw_shop.orders__rejects").fetchall()
        log = con.execute(
            "SELECT lane, stream, rows_received, rows_inserted, rows_duplicate, "
            "high_water_mark, status FROM raw_meta.load_log"
        ).fetchall()
    assert types["order_id"] == "bigint"
    assert types["amount"] == "numeric" and types["qty"] == "numeric"
    assert types["updated_at"] == "timestamp with time zone"
    assert types["attrs"] == "super"
    assert types["channel"] == "character varying"
    assert [(r[0], r[1], r[2]) for r in rows] == [
        (1, Decimal("19.99"), Decimal("2")),
        (2, Decimal("0.1"), Decimal("1")),
        (4, Decimal("5"), Decimal("2.5")),
    ]
    assert rows[0][3] == dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC)
    assert rows[0][4] == {"gift": True}
    assert rows[2][5] == "ios"
    assert len(rejects) == 2 and "amount: oops is not a valid decimal" in rejects[0][0]
    assert log == [
        ("shop", "orders", 9, 3, 5, dt.datetime(2026, 11, 1, 12, 0, tzinfo=dt.UTC), "succeeded")
    ]


def test_redshift_backend_lands_an_s3_batch_file_copy_replaced_by_local_load(
    pg_database: str, s3: Any, tmp_path: Path
) -> None:
    """A BATCH file in S3: read once, checked in the loader's DuckDB, COPied as Parquet."""
    lines = [json.dumps(r).encode() for r in RECORDS] + [b"{cut short"]
    local_file = tmp_path / "events-1.json.gz"
    local_file.write_bytes(gzip.compress(b"\n".join(lines) + b"\n"))
    s3.upload_file(str(local_file), BUCKET, "tap-batches/events-1.json.gz")
    source = BatchSource(compressed=True, s3_client_factory=lambda: s3)
    url = f"s3://{BUCKET}/tap-batches/events-1.json.gz"
    wh = _warehouse(pg_database, s3)
    local = duckdb.connect()
    load_id = uuid.uuid4().hex
    fetched = source.fetch(url, tmp_path)
    try:
        first = load_file(wh, local, _plan(SCHEMA), fetched.as_json_lines(), load_id, tmp_path)
        again = load_file(wh, local, _plan(SCHEMA), fetched.as_json_lines(), load_id, tmp_path)
    finally:
        wh.close()
        fetched.discard()
    source.delete(url)

    assert (first.received, first.inserted, first.duplicate, first.rejected) == (5, 2, 1, 2)
    assert (again.inserted, again.duplicate, again.rejected) == (0, 3, 2)
    assert len(wh.copies) == 2 and all("FORMAT AS PARQUET" in c for c in wh.copies)
    assert s3.list_objects_v2(Bucket=BUCKET).get("KeyCount") == 0  # batch and staging removed
    assert not fetched.path.exists()
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database) as con:
        rows = con.execute(
            "SELECT order_id, amount, updated_at, attrs FROM raw_shop.orders ORDER BY order_id"
        ).fetchall()
        rejects = con.execute("SELECT error FROM raw_shop.orders__rejects ORDER BY 1").fetchall()
    assert rows == [
        (1, Decimal("19.99"), dt.datetime(2026, 11, 1, 8, 0, tzinfo=dt.UTC), {"gift": True}),
        (2, Decimal("0.1"), dt.datetime(2026, 11, 1, 9, 0, tzinfo=dt.UTC), None),
    ]
    assert [e for (e,) in rejects][:2] == [
        "amount: oops is not a valid decimal",
        "amount: oops is not a valid decimal",
    ]
    cut = [e for (e,) in rejects][2:]
    assert len(cut) == 2 and all(e.startswith("line 5: invalid JSON") for e in cut)
