"""The events lane with object manifests: the real tap names the S3 objects, the real loader reads
them itself with DuckDB (httpfs against moto's server), numbers and checks every line in SQL.

What must hold is what the lane guaranteed when the tap read every line: each good line lands
once under (s3_key, line_number) with the same typed values and payload as the RECORD path; each
malformed line is quarantined with its reason (invalid JSON, invalid UTF-8 kept escaped, empty,
not an object, a missing or mistyped field, an unparseable timestamp) and a gzip object cut short
keeps its readable lines and gets one `object unreadable` row; the load log counts both; the
objects stay in the bucket; reruns and a kill -9 followed by a rerun land nothing twice."""

from __future__ import annotations

import os
import signal
import subprocess
import typing as t
from pathlib import Path

import duckdb
import orjson
import pytest

from .support import S3Env, event, gz, tap_command
from .test_events_batch_load import lane, run_lane

P1 = "events/dt=2026-11-01/hour=01/"
P2 = "events/dt=2026-11-01/hour=02/"
GOOD_GZ = P1 + "brightcart-events-1-2026-11-01-01-00-00-good.gz"
NAMED_GZ = P1 + "brightcart-events-1-2026-11-01-01-10-00-named.gz"
PLAIN = P1 + "brightcart-events-1-2026-11-01-01-20-00-plain.jsonl"
BAD_GZ = P2 + "brightcart-events-1-2026-11-01-02-00-00-bad.gz"
CUT_GZ = P2 + "brightcart-events-1-2026-11-01-02-10-00-cut.gz"

# line number -> the start of the quarantine reason, for BAD_GZ
BAD_LINES: dict[int, tuple[bytes, str]] = {
    2: (b'{"event_id": "b2", "occurred_at": ', "invalid JSON"),
    3: (b'{"event_id": "b3\xff\xfe", "occurred_at": "2026-11-01T02:00:00Z"}', "invalid JSON"),
    4: (b"", "empty line"),
    5: (b"[1, 2, 3]", "line is JSON but not an object (list)"),
    6: (orjson.dumps({"occurred_at": "2026-11-01T02:00:00Z"}), "missing event_id"),
    7: (orjson.dumps({"event_id": "b7", "occurred_at": "yesterday"}), "unparseable occurred_at"),
    8: (
        orjson.dumps({"event_id": "b8", "occurred_at": "2026-11-01T02:00", "customer_id": True}),
        "customer_id is not an integer",
    ),
    9: (
        orjson.dumps({"event_id": "b9", "occurred_at": "2026-11-01T02:00:00Z", "event_type": 5}),
        "event_type is not a string",
    ),
    10: (orjson.dumps({"event_id": "", "occurred_at": "2026-11-01T02:00:00Z"}), "event_id"),
    11: (b"   ", "empty line"),
}
BAD_GZ_LINES = 12  # lines 1 and 12 are good


def seed(s3: S3Env, bucket: str) -> dict[str, int]:
    """The five objects; returns how many good lines each holds."""
    put = s3.client.put_object
    put(
        Bucket=bucket,
        Key=GOOD_GZ,
        Body=gz(
            [
                event("g1", "2026-11-01T01:00:00.000Z"),
                event("g2", "2026-11-01T01:01:00.000Z", customer_id=None),
                event("g3", "2026-11-01T01:02:00Z", customer_id="42", nested={"a": [1, "é"]}),
                event("late", "2026-11-01T01:03:00Z", occurred_at="2026-10-29T23:59:59.5+02:00"),
            ]
        ),
    )
    put(
        Bucket=bucket,
        Key=NAMED_GZ,
        Body=gz([event("g1", "2026-11-01T01:00:00.000Z")], stored_name="part-1.jsonl"),
    )
    put(Bucket=bucket, Key=PLAIN, Body=event("p1", "2026-11-01T01:20:00Z") + b"\r\n")
    lines = [event("b1", "2026-11-01T02:00:00Z")]
    lines += [BAD_LINES[n][0] for n in range(2, 12)]
    lines.append(event("b12", "2026-11-01T02:00:12Z"))
    put(Bucket=bucket, Key=BAD_GZ, Body=gz(lines))
    body = gz([event(f"c{n}", "2026-11-01T02:10:00Z", padding="z" * 400) for n in range(1, 200)])
    put(Bucket=bucket, Key=CUT_GZ, Body=body[: len(body) - 40])
    return {GOOD_GZ: 4, NAMED_GZ: 1, PLAIN: 1, BAD_GZ: 2}


def run_tap(
    s3: S3Env, workdir: Path, config: dict[str, t.Any], state: dict[str, t.Any] | None = None
) -> list[dict[str, t.Any]]:
    """The messages of one run of the real tap."""
    done = subprocess.run(
        tap_command(workdir, config, state), env=s3.env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return [orjson.loads(line) for line in done.stdout.splitlines() if line.strip()]


def manifest_config(bucket: str, **extra: t.Any) -> dict[str, t.Any]:
    return {"bucket": bucket, "object_manifests": True} | extra


def landed(tmp_path: Path, name: str = "warehouse.duckdb") -> dict[str, list[tuple[t.Any, ...]]]:
    with duckdb.connect(str(tmp_path / name), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        return {
            "events": con.execute(
                "SELECT s3_key, line_number, event_id, event_type, occurred_at, received_at, "
                "anonymous_id, customer_id, session_id, object_last_modified, "
                "CAST(payload AS VARCHAR) FROM raw_events.events ORDER BY 1, 2"
            ).fetchall(),
            "quarantine": con.execute(
                "SELECT s3_key, line_number, error, raw_line, object_last_modified "
                "FROM raw_events.events_quarantine ORDER BY 1, 2"
            ).fetchall(),
            "log": con.execute(
                "SELECT stream, rows_received, rows_inserted, rows_duplicate, rows_rejected "
                "FROM raw_meta.load_log ORDER BY finished_at, stream"
            ).fetchall(),
        }


def test_tap_names_objects_and_reads_no_line(s3: S3Env, bucket: str, tmp_path: Path) -> None:
    seed(s3, bucket)
    out = run_tap(s3, tmp_path, manifest_config(bucket, manifest_bytes=600))
    kinds = [m["type"] for m in out]
    assert "RECORD" not in kinds  # not even for a bad line: the loader finds those
    batches = [m for m in out if m["type"] == "BATCH"]
    assert len(batches) >= 2  # 600 bytes per manifest split the five objects
    named = [u for m in batches for u in m["manifest"]]
    assert sorted(u.removeprefix(f"s3://{bucket}/") for u in named) == sorted(
        [GOOD_GZ, NAMED_GZ, PLAIN, BAD_GZ, CUT_GZ]
    )
    for message in batches:
        objects = message["objects"]
        assert len(objects["last_modified"]) == len(message["manifest"])
        assert objects["quarantine"]["stream"] == "events_quarantine"
        sizes = dict(zip(message["manifest"], objects["gzip_sizes"], strict=True))
        for url, size in sizes.items():
            assert (size is None) == url.endswith(".jsonl")
    # Every BATCH message is followed by the STATE that lists its objects as done.
    assert all(kinds[i + 1] == "STATE" for i, k in enumerate(kinds) if k == "BATCH")
    state = [m for m in out if m["type"] == "STATE"][-1]["value"]
    done = state["bookmarks"]["events"]["done"]
    assert sum(len(v) for v in done.values()) == 5
    again = run_tap(s3, tmp_path, manifest_config(bucket), state)
    assert [m["type"] for m in again if m["type"] == "BATCH"] == []
    assert [m for m in again if m["type"] == "STATE"][-1]["value"] == state


def test_object_manifests_land_what_the_record_path_lands(
    s3: S3Env, bucket: str, tmp_path: Path
) -> None:
    good = seed(s3, bucket)
    records = tmp_path / "records"
    run_lane(s3, records, {"bucket": bucket}, None)
    state = run_lane(s3, tmp_path, manifest_config(bucket, manifest_bytes=2000), None)

    ours, theirs = landed(tmp_path), landed(records)
    # Same lines, same typed values; the payload is the line itself, as parsed JSON.
    strip = [(*row[:-1], orjson.loads(row[-1])) for row in ours["events"]]
    assert strip == [(*row[:-1], orjson.loads(row[-1])) for row in theirs["events"]]
    cut = [n for k, n, *_ in ours["events"] if k == CUT_GZ]
    assert cut == list(range(1, len(cut) + 1)) and 0 < len(cut) < 199
    per_object = {k: sum(1 for r in ours["events"] if r[0] == k) for k in good}
    assert per_object == good
    late = next(r for r in ours["events"] if r[2] == "late")
    assert late[4].isoformat() == "2026-10-29T21:59:59.500000+00:00"
    assert next(r for r in ours["events"] if r[2] == "g3")[7] == 42

    quarantine = {(k, n): (e, raw) for k, n, e, raw, _ in ours["quarantine"]}
    expected = {(BAD_GZ, n): reason for n, (_, reason) in BAD_LINES.items()}
    expected[(CUT_GZ, len(cut) + 1)] = "object unreadable"
    assert sorted(quarantine) == sorted(expected)
    for key, reason in expected.items():
        assert quarantine[key][0].startswith(reason), (key, quarantine[key])
    assert "\\xff\\xfe" in quarantine[(BAD_GZ, 3)][1]  # invalid bytes kept, escaped
    assert quarantine[(BAD_GZ, 5)][1] == "[1, 2, 3]"
    assert sorted(quarantine) == sorted((k, n) for k, n, *_ in theirs["quarantine"])
    assert {r[4] for r in ours["quarantine"]} == {r[4] for r in theirs["quarantine"]}

    events, bad = len(ours["events"]), len(ours["quarantine"])
    assert ours["log"] == [("events", events, events, 0, 0), ("events_quarantine", bad, bad, 0, 0)]
    listed = s3.client.list_objects_v2(Bucket=bucket, Prefix="events/")["Contents"]
    assert len(listed) == 5  # the source objects are read, never removed

    # From the stored state nothing is named; from no state every line is read and none lands.
    run_lane(s3, tmp_path, manifest_config(bucket), state)
    run_lane(s3, tmp_path, manifest_config(bucket), None)
    after = landed(tmp_path)
    assert after["events"] == ours["events"] and after["quarantine"] == ours["quarantine"]
    assert after["log"][-2:] == [
        ("events", events, 0, events, 0),
        ("events_quarantine", bad, 0, bad, 0),
    ]


def test_line_numbers_follow_each_object_in_a_parallel_scan(
    s3: S3Env, bucket: str, tmp_path: Path
) -> None:
    """24 objects of 2,500 lines in one manifest: DuckDB scans them on several threads, and
    every line still gets its own number within its own object."""
    for i in range(24):
        key = f"events/dt=2026-11-01/hour={i % 3:02d}/brightcart-events-1-{i:04d}.gz"
        lines = [event(f"{i}:{n}", "2026-11-01T00:00:00Z") for n in range(1, 2501)]
        s3.client.put_object(Bucket=bucket, Key=key, Body=gz(lines))
    run_lane(s3, tmp_path, manifest_config(bucket), None)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute(
            "SELECT s3_key, line_number, event_id FROM raw_events.events ORDER BY 1, 2"
        ).fetchall()
    assert len(rows) == 24 * 2500
    wrong = [r for r in rows if r[2] != f"{int(r[0].rsplit('-', 1)[1].removesuffix('.gz'))}:{r[1]}"]
    assert wrong == []


def test_kill_9_of_the_manifest_lane_then_rerun_lands_each_line_once(
    s3: S3Env, bucket: str, tmp_path: Path
) -> None:
    expected: set[tuple[str, int]] = set()
    for i in range(30):
        key = f"events/dt=2026-11-01/hour={1 + i % 4:02d}/brightcart-events-1-{i:04d}.gz"
        lines = [event(f"k{i}-{n}", "2026-11-01T01:00:00Z", padding="x" * 600) for n in range(400)]
        s3.client.put_object(Bucket=bucket, Key=key, Body=gz(lines))
        expected.update((key, n) for n in range(1, 401))
    cfg = manifest_config(bucket, manifest_bytes=20_000)  # several objects per message
    tap, target = lane(s3, tmp_path, cfg, None)
    assert target.stdout is not None
    first = target.stdout.readline()  # the loader hands on a STATE once a manifest is committed
    os.kill(tap.pid, signal.SIGKILL)
    os.kill(target.pid, signal.SIGKILL)
    tap.wait()
    target.wait()
    state = orjson.loads(first)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        partial = set(con.execute("SELECT s3_key, line_number FROM raw_events.events").fetchall())
    assert 0 < len(partial) < len(expected), "the run must have been cut short after a commit"
    finished = {
        f"events/{p}/{n}"
        for p, names in state["bookmarks"]["events"]["done"].items()
        for n in names
    }
    assert finished and {k for k, _ in partial} >= finished

    final = run_lane(s3, tmp_path, cfg, state)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT s3_key, line_number FROM raw_events.events").fetchall()
    assert len(rows) == len(set(rows)) and set(rows) == expected
    assert final is not None
    assert sum(len(v) for v in final["bookmarks"]["events"]["done"].values()) == 30


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ({"batch_config": {"encoding": {"format": "jsonl"}}}, "exclude each other"),
        ({"manifest_bytes": 0}, "manifest_bytes must be at least 1"),
    ],
)
def test_bad_manifest_settings_stop_before_any_output(
    s3: S3Env, bucket: str, tmp_path: Path, extra: dict[str, t.Any], message: str
) -> None:
    seed(s3, bucket)
    done = subprocess.run(
        tap_command(tmp_path, manifest_config(bucket, **extra), None),
        env=s3.env,
        capture_output=True,
        check=False,
    )
    assert done.returncode != 0
    assert message in done.stderr.decode()
    assert b'"type":"BATCH"' not in done.stdout
