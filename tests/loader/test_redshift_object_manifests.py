"""Object manifests on the Redshift backend: the loader's own DuckDB reads the source objects from
S3 (moto's server over HTTP), checks their lines, and the good ones are staged as Parquet and
COPied; the bad ones land in the quarantine table. SQL runs on PostgreSQL 15; only COPY is
replaced, by a local load of the very Parquet object that was uploaded (the test's name says so).
"""

from __future__ import annotations

import datetime as dt
import gzip
import logging
from pathlib import Path
from typing import Any

import orjson
import psycopg
import pytest

from target_redshift.columns import columns_for_schema
from target_redshift.landing import Destination, Landing
from target_redshift.loader import TablePlan
from target_redshift.loadlog import StreamTally
from target_redshift.objects import LineRules, ObjectManifest

from .support import PG_HOST, PG_PORT, PG_USER
from .test_redshift_backend import BUCKET, _warehouse, s3  # noqa: F401 (the s3 fixture)

EVENTS_SCHEMA = {
    "properties": {
        "event_id": {"type": "string", "minLength": 1},
        "occurred_at": {"type": "string", "format": "date-time"},
        "customer_id": {"type": ["integer", "null"]},
        "s3_key": {"type": "string"},
        "line_number": {"type": "integer"},
        "object_last_modified": {"type": "string", "format": "date-time"},
        "payload": {"type": "object"},
    },
    "required": ["event_id", "occurred_at", "s3_key", "line_number"],
}
QUARANTINE_SCHEMA = {
    "properties": {
        "s3_key": {"type": "string"},
        "line_number": {"type": "integer"},
        "error": {"type": "string"},
        "raw_line": {"type": ["string", "null"]},
        "object_last_modified": {"type": "string", "format": "date-time"},
    }
}
KEY = "events/dt=2026-11-01/hour=03/brightcart-events-1-a.gz"
LINES = [
    orjson.dumps({"event_id": "e1", "occurred_at": "2026-11-01T03:00:00Z", "customer_id": 7}),
    b'{"event_id": "e2", "occurred_at": ',
    orjson.dumps({"event_id": "e3", "occurred_at": "2026-11-01T05:00:00+02:00"}),
    orjson.dumps({"event_id": "e4", "occurred_at": "soon"}),
]


def _plan(table: str, schema: dict[str, Any], key: tuple[str, ...]) -> TablePlan:
    return TablePlan("raw_events", table, tuple(columns_for_schema(schema)), key, key[:2])


def test_objects_on_redshift_checked_in_duckdb_copy_replaced_by_local_load(
    pg_database: str,
    s3: Any,  # noqa: F811 (the fixture imported above)
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    body = gzip.compress(b"\n".join(LINES) + b"\n")
    s3.put_object(Bucket=BUCKET, Key=KEY, Body=body)
    endpoint = s3.meta.endpoint_url
    for name, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    manifest = ObjectManifest.from_message(
        [f"s3://{BUCKET}/{KEY}"],
        {
            "last_modified": ["2026-11-01T05:00:07+00:00"],
            "gzip_sizes": [int.from_bytes(body[-4:], "little")],
            "columns": {
                "key": "s3_key",
                "line_number": "line_number",
                "last_modified": "object_last_modified",
                "line": "payload",
            },
            "quarantine": {"stream": "events_quarantine"},
        },
    )
    version = ("s3_key", "line_number", "object_last_modified")
    events = _plan("events", EVENTS_SCHEMA, version)
    quarantine = _plan("events_quarantine", QUARANTINE_SCHEMA, version)
    landing = Landing(
        {
            "backend": "redshift",
            "staging_dir": str(tmp_path),
            "default_target_schema": "raw_events",
        },
        logging.getLogger("test"),
    )
    wh = _warehouse(pg_database, s3)
    landing._redshift = wh  # the Redshift connection, with COPY replaced (see the module doc)
    now = dt.datetime.now(tz=dt.UTC)

    def run() -> tuple[Any, ...]:
        tallies = [StreamTally("raw_events", t.table, now) for t in (events, quarantine)]
        result = landing.load_objects(
            Destination(events, tallies[0]),
            manifest,
            LineRules.from_schema(events.columns, EVENTS_SCHEMA),
            {"_sdc_extracted_at": None},
            Destination(quarantine, tallies[1]),
        )
        return result.received, result.inserted, tallies[1].received, tallies[1].inserted

    try:
        first, again = run(), run()
    finally:
        landing.close()

    assert first == (2, 2, 2, 2) and again == (2, 0, 2, 0)
    assert wh.copies and all("FORMAT AS PARQUET" in c for c in wh.copies)
    assert [o["Key"] for o in s3.list_objects_v2(Bucket=BUCKET)["Contents"]] == [KEY]
    with psycopg.connect(host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database) as con:
        rows = con.execute(
            "SELECT line_number, event_id, occurred_at, customer_id, payload ->> 'event_id' "
            "FROM raw_events.events ORDER BY line_number"
        ).fetchall()
        bad = con.execute(
            "SELECT line_number, error, raw_line FROM raw_events.events_quarantine "
            "ORDER BY line_number"
        ).fetchall()
    assert rows == [
        (1, "e1", dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC), 7, "e1"),
        (3, "e3", dt.datetime(2026, 11, 1, 3, 0, tzinfo=dt.UTC), None, "e3"),
    ]
    assert [(n, e.split(":")[0], raw) for n, e, raw in bad] == [
        (2, "invalid JSON", LINES[1].decode()),
        (4, "unparseable occurred_at", LINES[3].decode()),
    ]
