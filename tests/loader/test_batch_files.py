"""BATCH messages into the real target-redshift: each JSON-lines file lands in one bulk step with
the same casts, rejects, de-duplication, Singer metadata and load log as RECORD messages."""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import json
import typing as t
from collections.abc import Iterator
from pathlib import Path

import boto3
import duckdb
import pytest
from moto.server import ThreadedMotoServer

from .support import run_target, table_checksum

EXTRACTED = "2026-11-03T04:05:06+00:00"
SCHEMA = {
    "type": "SCHEMA",
    "stream": "events",
    "key_properties": ["s3_key", "line_number"],
    "bookmark_properties": ["received_at"],
    "schema": {
        "properties": {
            "event_id": {"type": "string"},
            "received_at": {"type": ["string", "null"], "format": "date-time"},
            "customer_id": {"type": ["integer", "null"]},
            "amount": {"type": ["string", "null"], "format": "x-singer.decimal"},
            "s3_key": {"type": "string"},
            "line_number": {"type": "integer"},
            "payload": {"type": "object"},
        }
    },
}


def row(n: int, **changes: t.Any) -> dict[str, t.Any]:
    doc: dict[str, t.Any] = {
        "event_id": f"e{n}",
        "received_at": f"2026-11-01T0{n % 10}:00:00+02:00",
        "customer_id": n,
        "amount": f"{n}.25",
        "s3_key": "events/a.gz",
        "line_number": n,
        "payload": {"event_id": f"e{n}", "page": {"path": f"/p/{n}"}, "new_field": n},
    }
    doc.update(changes)
    return doc


GOOD = [row(n) for n in range(1, 8)]
LINES = [
    *(json.dumps(r).encode() for r in GOOD),
    json.dumps(row(3, event_id="e3-resent")).encode(),  # same key twice in one file
    json.dumps(row(20, customer_id="abc")).encode(),  # does not fit BIGINT
    json.dumps(row(21, line_number=None)).encode(),  # key property missing
    b'{"event_id": "e22", "s3_key": "events/a.gz", "line_num',  # cut short: not JSON
    b"[1, 2, 3]",  # JSON, but not an object
]


def write_batch(path: Path, lines: list[bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    with gzip.open(path, "wb") as out:
        out.write(b"\n".join(lines) + b"\n")
    return path


def batch_message(*urls: str) -> dict[str, t.Any]:
    return {
        "type": "BATCH",
        "stream": "events",
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "manifest": list(urls),
        "time_extracted": EXTRACTED,
    }


@pytest.fixture
def events_config(duck_config: dict[str, t.Any]) -> dict[str, t.Any]:
    return dict(duck_config, lane="events", default_target_schema="raw_events")


def load_log(path: str) -> list[tuple[t.Any, ...]]:
    with duckdb.connect(path, read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return con.execute(
            "SELECT stream, rows_received, rows_inserted, rows_duplicate, rows_rejected, "
            "high_water_mark, status FROM raw_meta.load_log ORDER BY finished_at"
        ).fetchall()


def test_batch_file_lands_typed_rows_rejects_and_metadata(
    events_config: dict[str, t.Any], tmp_path: Path
) -> None:
    batch = write_batch(tmp_path / "batches" / "events-1.json.gz", LINES)
    state = {"type": "STATE", "value": {"bookmarks": {"events": {"done": 1}}}}
    done = run_target(events_config, [SCHEMA, batch_message(batch.as_uri()), state], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert [json.loads(line) for line in done.stdout.splitlines()][-1] == state["value"]
    assert not batch.exists(), "a loaded BATCH file is removed"

    with duckdb.connect(events_config["path"], read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        rows = con.execute(
            "SELECT line_number, event_id, customer_id, amount, received_at, "
            "payload->>'$.page.path', CAST(payload->'$.new_field' AS INTEGER) "
            "FROM raw_events.events ORDER BY line_number"
        ).fetchall()
        meta = con.execute(
            "SELECT DISTINCT _sdc_extracted_at, _sdc_received_at IS NOT NULL, "
            "_sdc_batched_at IS NOT NULL, _sdc_sequence IS NOT NULL, "
            "_sdc_sync_started_at IS NOT NULL, _sdc_deleted_at FROM raw_events.events"
        ).fetchall()
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw_events' AND table_name = 'events'"
            ).fetchall()
        )
        rejects = con.execute(
            "SELECT error, record FROM raw_events.events__rejects ORDER BY error"
        ).fetchall()

    # Line 3 came twice in the file: one version is kept (either text; both carry key 3).
    assert [r[0] for r in rows] == list(range(1, 8))
    for line_number, event_id, customer_id, amount, received_at, path, new_field in rows:
        assert event_id in (f"e{line_number}", "e3-resent")
        assert customer_id == line_number
        assert amount == decimal.Decimal(f"{line_number}.25")
        local = dt.datetime(2026, 11, 1, line_number % 10, tzinfo=dt.UTC)
        assert received_at == local - dt.timedelta(hours=2)  # +02:00 stored as UTC
        assert (path, new_field) == (f"/p/{line_number}", line_number)
    extracted = dt.datetime(2026, 11, 3, 4, 5, 6, tzinfo=dt.UTC)
    assert meta == [(extracted, True, True, True, True, None)]
    assert types["customer_id"] == "BIGINT"
    assert types["amount"].startswith("DECIMAL(38,9)")
    assert types["received_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["payload"] == "JSON"

    errors = [error for error, _ in rejects]
    assert len(rejects) == 4
    assert any(e.startswith("customer_id: abc is not a valid bigint") for e in errors)
    assert any("key property line_number is missing" in e for e in errors)
    assert any(e.startswith("line 11: invalid JSON") for e in errors)
    assert any(e == "line 12: not a JSON object (list)" for e in errors)
    kept = {record for _, record in rejects}
    assert LINES[10].decode() in kept and "[1, 2, 3]" in kept

    high_water = dt.datetime(2026, 11, 1, 5, tzinfo=dt.UTC)  # line 7: 07:00+02:00
    assert load_log(events_config["path"]) == [("events", 12, 7, 1, 4, high_water, "succeeded")]


def test_rerun_of_the_same_rows_inserts_nothing_and_matches_record_messages(
    events_config: dict[str, t.Any], tmp_path: Path
) -> None:
    good = [json.dumps(r).encode() for r in GOOD]
    first = write_batch(tmp_path / "b" / "events-1.json.gz", good[:4])
    second = write_batch(tmp_path / "b" / "events-2.json.gz", good[3:])
    done = run_target(
        events_config,
        [SCHEMA, batch_message(first.as_uri()), batch_message(second.as_uri())],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    before = table_checksum(Path(events_config["path"]), "raw_events.events")
    assert before[0] == len(GOOD)

    again = write_batch(tmp_path / "b" / "events-3.json.gz", good)
    done = run_target(events_config, [SCHEMA, batch_message(again.as_uri())], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    assert table_checksum(Path(events_config["path"]), "raw_events.events") == before
    assert [r[1:5] for r in load_log(events_config["path"])] == [
        (8, 7, 1, 0),  # line 4 was in both files of the first run
        (7, 0, 7, 0),
    ]

    # The same rows as RECORD messages land identical content columns.
    as_records = dict(events_config, path=str(tmp_path / "records.duckdb"))
    records = [{"type": "RECORD", "stream": "events", "record": r} for r in GOOD]
    done = run_target(as_records, [SCHEMA, *records], tmp_path)
    assert done.returncode == 0, done.stderr[-3000:]
    content = (
        "SELECT event_id, received_at, customer_id, amount, s3_key, line_number, "
        "CAST(payload AS VARCHAR) FROM raw_events.events ORDER BY line_number"
    )
    with duckdb.connect(events_config["path"], read_only=True) as con:
        via_batch = con.execute(content).fetchall()
    with duckdb.connect(as_records["path"], read_only=True) as con:
        via_records = con.execute(content).fetchall()
    assert [r[:6] for r in via_batch] == [r[:6] for r in via_records]
    assert [json.loads(r[6]) for r in via_batch] == [json.loads(r[6]) for r in via_records]


@pytest.fixture
def s3_env(monkeypatch: pytest.MonkeyPatch) -> Iterator[t.Any]:
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    host, port = server.get_host_and_port()
    aws = {
        "AWS_ENDPOINT_URL": f"http://{host}:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in aws.items():
        monkeypatch.setenv(name, value)
    try:
        yield boto3.client("s3", endpoint_url=aws["AWS_ENDPOINT_URL"], region_name="us-east-1")
    finally:
        server.stop()


def test_s3_batch_file_is_read_and_removed_after_commit(
    events_config: dict[str, t.Any], tmp_path: Path, s3_env: t.Any
) -> None:
    s3_env.create_bucket(Bucket="tap-batches")
    local = write_batch(tmp_path / "up.json.gz", [json.dumps(r).encode() for r in GOOD])
    s3_env.upload_file(str(local), "tap-batches", "events/events-1.json.gz")
    done = run_target(
        events_config,
        [SCHEMA, batch_message("s3://tap-batches/events/events-1.json.gz")],
        tmp_path,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    with duckdb.connect(events_config["path"], read_only=True) as con:
        keys = con.execute("SELECT line_number FROM raw_events.events ORDER BY 1").fetchall()
    assert [k for (k,) in keys] == list(range(1, 8))
    assert s3_env.list_objects_v2(Bucket="tap-batches").get("KeyCount") == 0

    # A BATCH message naming a file that is gone fails the run, logged as failed.
    done = run_target(
        events_config,
        [SCHEMA, batch_message("s3://tap-batches/events/events-1.json.gz")],
        tmp_path,
    )
    assert done.returncode != 0
    assert "could not read BATCH file s3://tap-batches/events/events-1.json.gz" in done.stderr
    assert [r[-1] for r in load_log(events_config["path"])] == ["succeeded", "failed"]
