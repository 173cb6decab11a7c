"""The real tap-brightcart-events executable against a real moto S3 server.

Firehose-style fixtures: gzip without a stored name, gzip with one, plain .jsonl, a duplicate
event, a late event, malformed lines, invalid UTF-8, an unexpected new field, objects sharing one
LastModified second (moto's clock is frozen), and an object arriving late in an old partition.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

import orjson
import pytest

from .support import (
    S3Env,
    event,
    gz,
    run_tap,
)

P3 = "events/dt=2026-11-01/hour=03/"
P4 = "events/dt=2026-11-01/hour=04/"
KEY_A = P3 + "brightcart-events-1-2026-11-01-03-10-00-aaaa.gz"
KEY_B = P3 + "brightcart-events-1-2026-11-01-03-20-00-bbbb.gz"
KEY_C = P3 + "brightcart-events-1-2026-11-01-03-30-00-cccc.jsonl"
KEY_D = P4 + "brightcart-events-1-2026-11-01-04-05-00-dddd.gz"
KEY_E = P4 + "brightcart-events-1-2026-11-01-04-05-00-eeee.gz"
KEY_LATE = P3 + "brightcart-events-1-2026-11-01-03-00-00-0000.gz"  # sorts first, lands last

E3 = event("e3", "2026-11-01T03:12:45.010Z")
GOOD = {
    KEY_A: [1, 2, 3],
    KEY_B: [1, 2],
    KEY_C: [1, 6],
    KEY_D: [1, 2],
    KEY_E: [1, 2],
}
BAD = {KEY_C: {2: "invalid JSON", 3: "invalid JSON", 4: "missing event_id", 5: "unparseable"}}


def seed(s3: S3Env, bucket: str) -> None:
    put = s3.client.put_object
    put(
        Bucket=bucket,
        Key=KEY_A,
        Body=gz(
            [
                event("e1", "2026-11-01T03:10:00.000Z"),
                event("e2", "2026-11-01T03:11:00.000Z", customer_id=None),
                E3,
            ]
        ),
    )
    late = event("e4", "2026-11-01T03:19:00.000Z", occurred_at="2026-10-29T23:59:59.000Z")
    put(Bucket=bucket, Key=KEY_B, Body=gz([E3, late], stored_name="part-0001.jsonl"))
    plain = [
        event("e5", "2026-11-01T03:30:00Z", brand_new_field={"nested": [1, 2]}),
        b'{"event_id": "e6", "occurred_at": ',
        b'{"event_id": "e7\xff\xfe", "occurred_at": "2026-11-01T03:31:00Z"}',
        orjson.dumps({"event_type": "signup", "occurred_at": "2026-11-01T03:32:00Z"}),
        orjson.dumps({"event_id": "e8", "occurred_at": "yesterday-ish"}),
        event("e9", "2026-11-01T03:33:00Z"),
    ]
    put(Bucket=bucket, Key=KEY_C, Body=b"\n".join(plain) + b"\n")
    for key, ids in ((KEY_D, ("d1", "d2")), (KEY_E, ("e10", "e11"))):
        put(Bucket=bucket, Key=key, Body=gz([event(i, "2026-11-01T04:05:00Z") for i in ids]))


def expected_event_keys() -> list[tuple[str, int]]:
    return sorted((key, n) for key, lines in GOOD.items() for n in lines)


def config(bucket: str, *, batch: bool) -> dict[str, t.Any]:
    cfg: dict[str, t.Any] = {"bucket": bucket, "download_concurrency": 2}
    if batch:
        # Batch files to an s3:// root here; the kill test covers a file:// root.
        cfg["batch_config"] = {
            "encoding": {"format": "jsonl", "compression": "gzip"},
            "storage": {"root": f"s3://{bucket}/batches", "prefix": "events-"},
            "batch_size": 4,
        }
    return cfg


def objects_in(state: dict[str, t.Any] | None) -> set[str]:
    assert state is not None
    done = state["bookmarks"]["events"]["done"]
    return {f"events/{part}/{name}" for part, names in done.items() for name in names}


@pytest.mark.parametrize("batch", [False, True], ids=["records", "batch"])
def test_every_line_once_then_nothing_then_only_the_late_object(
    s3: S3Env, bucket: str, tmp_path: Path, batch: bool
) -> None:
    seed(s3, bucket)
    cfg = config(bucket, batch=batch)

    first = run_tap(s3, tmp_path, cfg)
    assert sorted(first.keys("events")) == expected_event_keys()
    quarantined = {(r["s3_key"], r["line_number"]): r for r in first.records["events_quarantine"]}
    assert sorted(quarantined) == sorted((k, n) for k, lines in BAD.items() for n in lines)
    for (key, n), row in quarantined.items():
        assert row["error"].startswith(BAD[key][n]), row
        assert row["object_last_modified"].startswith("2026-11-01T05:00:07")
    assert "\\xff\\xfe" in quarantined[(KEY_C, 3)]["raw_line"]
    if batch:
        assert first.batches >= 3  # batch_size 4 over 11 events
        assert all(u.startswith(f"s3://{bucket}/batches/events-") for u in first.manifest)

    by_key = {(r["s3_key"], r["line_number"]): r for r in first.records["events"]}
    assert [by_key[(KEY_A, n)]["event_id"] for n in (1, 2, 3)] == ["e1", "e2", "e3"]
    assert by_key[(KEY_B, 1)]["event_id"] == "e3"  # the duplicate is kept; staging dedups
    assert by_key[(KEY_B, 1)]["payload"] == orjson.loads(E3)
    late = by_key[(KEY_B, 2)]
    assert late["occurred_at"] == "2026-10-29T23:59:59+00:00"
    assert late["received_at"] == "2026-11-01T03:19:00+00:00"
    assert by_key[(KEY_A, 1)]["customer_id"] == 7
    assert by_key[(KEY_A, 2)]["customer_id"] is None
    assert by_key[(KEY_C, 1)]["payload"]["brand_new_field"] == {"nested": [1, 2]}
    assert first.schemas["events"]["key_properties"] == ["s3_key", "line_number"]
    assert first.schemas["events"]["bookmark_properties"] == ["received_at"]

    state1 = first.last_state
    assert objects_in(state1) == set(GOOD)
    assert state1 is not None
    assert state1["bookmarks"]["events"]["replication_key_value"] == "2026-11-01T04:05:00+00:00"

    second = run_tap(s3, tmp_path, cfg, state1)
    assert second.records == {}
    assert second.last_state == state1

    # Late object into an old (still open) partition, same LastModified second as the rest.
    s3.client.put_object(
        Bucket=bucket, Key=KEY_LATE, Body=gz([event("e12", "2026-11-01T03:59:00Z")])
    )
    third = run_tap(s3, tmp_path, cfg, state1)
    assert third.keys("events") == [(KEY_LATE, 1)]
    assert "events_quarantine" not in third.records
    assert objects_in(third.last_state) == set(GOOD) | {KEY_LATE}


def test_window_closes_old_partitions_and_bounded_runs_keep_them_open(
    s3: S3Env, bucket: str, tmp_path: Path
) -> None:
    seed(s3, bucket)
    cfg = config(bucket, batch=False) | {"max_objects_per_run": 3, "window_hours": 1}
    first = run_tap(s3, tmp_path, cfg)
    second = run_tap(s3, tmp_path, cfg, first.last_state)
    runs = [first, second]
    seen = first.keys("events") + second.keys("events")
    state = second.last_state
    objects = [{k for k, _ in r.keys("events") + r.keys("events_quarantine")} for r in runs]
    assert [len(o) for o in objects] == [3, 2]
    assert objects[0].isdisjoint(objects[1])
    assert sorted(seen) == expected_event_keys()
    assert state is not None
    bookmark = state["bookmarks"]["events"]
    assert bookmark["newest_partition"] == "dt=2026-11-01/hour=04"
    assert bookmark["closed_before"] == "dt=2026-11-01/hour=03"

    # A partition older than the window is closed: an object landing there is not listed.
    s3.client.put_object(
        Bucket=bucket,
        Key="events/dt=2026-11-01/hour=01/brightcart-events-1-2026-11-01-01-00-00-old.gz",
        Body=gz([event("old", "2026-11-01T01:00:00Z")]),
    )
    assert run_tap(s3, tmp_path, cfg, state).records == {}


def test_start_date_strays_and_a_truncated_gzip(s3: S3Env, bucket: str, tmp_path: Path) -> None:
    seed(s3, bucket)
    s3.client.put_object(Bucket=bucket, Key="events/README.txt", Body=b"not an event")
    body = gz([event(f"t{i}", "2026-11-01T05:00:00Z") for i in range(50)])
    trunc = "events/dt=2026-11-01/hour=05/brightcart-events-1-2026-11-01-05-00-00-trunc.gz"
    s3.client.put_object(Bucket=bucket, Key=trunc, Body=body[: len(body) - 12])
    cfg = config(bucket, batch=False) | {"start_date": "2026-11-01T04:00:00Z"}

    out = run_tap(s3, tmp_path, cfg)
    by_object: dict[str, list[int]] = {}
    for key, n in out.keys("events"):
        by_object.setdefault(key, []).append(n)
    # Hour 03 is before start_date; README.txt is outside the partition layout.
    assert sorted(by_object) == [KEY_D, KEY_E, trunc]
    assert by_object[KEY_D] == by_object[KEY_E] == [1, 2]
    # The truncated object keeps the lines read before the fault, in order...
    good = by_object[trunc]
    assert good == list(range(1, len(good) + 1)) and 0 < len(good) < 50
    # ...and its tail is one quarantine row at the next line number.
    (tail,) = out.records["events_quarantine"]
    assert (tail["s3_key"], tail["line_number"]) == (trunc, len(good) + 1)
    assert tail["error"].startswith("object unreadable")
    assert objects_in(out.last_state) == {KEY_D, KEY_E, trunc}
