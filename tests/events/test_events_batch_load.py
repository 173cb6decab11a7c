"""The events lane in BATCH mode, real tap piped into the real loader: every good line lands once
with its typed keys and raw payload, bad lines are quarantined and counted, batch files are
removed once loaded, and reruns or a kill -9 in the middle add no row twice and lose none."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import typing as t
import uuid
from pathlib import Path

import duckdb
import orjson
import pytest

from .support import S3Env, batch_config, event, gz, tap_command

TARGET = Path(sys.executable).parent / "target-redshift"
OBJECTS = 12
LINES = 40
BAD = {3: b"{not json", 7: b'{"event_id": "x", "occurred_at": "yesterday"}'}


def seed(
    s3: S3Env, bucket: str, objects: int = OBJECTS, lines_each: int = LINES
) -> set[tuple[str, int]]:
    """Objects of `lines_each` lines; in every third object lines 3 and 7 are bad. Returns
    the keys of the good lines."""
    good: set[tuple[str, int]] = set()
    for i in range(objects):
        hour = 1 + i % 4
        key = f"events/dt=2026-11-01/hour={hour:02d}/brightcart-events-1-{i:04d}.gz"
        lines = []
        for n in range(1, lines_each + 1):
            if i % 3 == 0 and n in BAD:
                lines.append(BAD[n])
                continue
            lines.append(
                event(
                    f"{i}-{n}",
                    f"2026-11-01T{hour:02d}:{n % 60:02d}:{n // 60:02d}Z",
                    padding="y" * 300,
                )
            )
            good.add((key, n))
        s3.client.put_object(Bucket=bucket, Key=key, Body=gz(lines))
    return good


def loader_config(tmp_path: Path) -> Path:
    path = tmp_path / f"loader-{uuid.uuid4().hex[:6]}.json"
    path.write_text(
        json.dumps(
            {
                "backend": "duckdb",
                "path": str(tmp_path / "warehouse.duckdb"),
                "lane": "events",
                "default_target_schema": "raw_events",
                "staging_dir": str(tmp_path / "staging"),
                "version_key_properties": {
                    "events": ["s3_key", "line_number"],
                    "events_quarantine": ["s3_key", "line_number"],
                },
            }
        )
    )
    return path


def lane(
    s3: S3Env, tmp_path: Path, cfg: dict[str, t.Any], state: dict[str, t.Any] | None
) -> tuple[subprocess.Popen[bytes], subprocess.Popen[bytes]]:
    """tap | target, both real executables; the caller reads the target's stdout (STATE)."""
    tap = subprocess.Popen(
        tap_command(tmp_path, cfg, state),
        env=s3.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    target = subprocess.Popen(
        [str(TARGET), "--config", str(loader_config(tmp_path))],
        env=s3.env,
        stdin=tap.stdout,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert tap.stdout is not None
    tap.stdout.close()
    return tap, target


def run_lane(
    s3: S3Env, tmp_path: Path, cfg: dict[str, t.Any], state: dict[str, t.Any] | None
) -> dict[str, t.Any] | None:
    tap, target = lane(s3, tmp_path, cfg, state)
    out, err = target.communicate(timeout=300)
    assert tap.wait(timeout=60) == 0
    assert target.returncode == 0, err.decode()[-3000:]
    states = [orjson.loads(line) for line in out.splitlines() if line.strip()]
    return states[-1] if states else state


def warehouse(tmp_path: Path) -> tuple[list[tuple[str, int]], list[tuple[str, int, str]], list]:
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        events = con.execute(
            "SELECT s3_key, line_number FROM raw_events.events ORDER BY 1, 2"
        ).fetchall()
        quarantine = con.execute(
            "SELECT s3_key, line_number, error FROM raw_events.events_quarantine ORDER BY 1, 2"
        ).fetchall()
        log = con.execute(
            "SELECT stream, rows_received, rows_inserted, rows_duplicate, rows_rejected "
            "FROM raw_meta.load_log ORDER BY finished_at, stream"
        ).fetchall()
    return events, quarantine, log


def batch_settings(s3: S3Env, bucket: str, tmp_path: Path, root: str) -> dict[str, t.Any]:
    if root == "file":
        return batch_config(tmp_path / "batches", batch_size=100)
    return {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": f"s3://{bucket}/batches", "prefix": "events-"},
        "batch_size": 100,
    }


def leftover_batches(s3: S3Env, bucket: str, tmp_path: Path) -> list[str]:
    local = [p.name for p in (tmp_path / "batches").glob("*")]
    listed = s3.client.list_objects_v2(Bucket=bucket, Prefix="batches/").get("Contents", [])
    return local + [str(o["Key"]) for o in listed]


@pytest.mark.parametrize("root", ["file", "s3"])
def test_batch_lane_lands_each_line_once_and_reruns_add_nothing(
    s3: S3Env, bucket: str, tmp_path: Path, root: str
) -> None:
    good = seed(s3, bucket)
    cfg = {"bucket": bucket, "batch_config": batch_settings(s3, bucket, tmp_path, root)}

    state = run_lane(s3, tmp_path, cfg, None)
    events, quarantine, log = warehouse(tmp_path)
    assert events == sorted(good)  # each good line exactly once, none missing
    bad_objects = len(range(0, OBJECTS, 3))
    assert len(quarantine) == bad_objects * len(BAD)
    assert {n for _, n, _ in quarantine} == set(BAD)
    assert {e.split(":")[0] for _, _, e in quarantine} == {
        "invalid JSON",
        "unparseable occurred_at",
    }
    assert log == [
        ("events", len(good), len(good), 0, 0),
        ("events_quarantine", len(quarantine), len(quarantine), 0, 0),
    ]
    assert leftover_batches(s3, bucket, tmp_path) == []
    assert state is not None
    done = state["bookmarks"]["events"]["done"]
    assert sum(len(names) for names in done.values()) == OBJECTS

    # From the stored state: nothing to read, nothing lands.
    run_lane(s3, tmp_path, cfg, state)
    # From no state (a cleared bookmark): every line is read again and none lands twice.
    run_lane(s3, tmp_path, cfg, None)
    events_after, quarantine_after, log_after = warehouse(tmp_path)
    assert events_after == events
    assert quarantine_after == quarantine
    assert log_after[-2:] == [
        ("events", len(good), 0, len(good), 0),
        ("events_quarantine", len(quarantine), 0, len(quarantine), 0),
    ]
    assert leftover_batches(s3, bucket, tmp_path) == []


def test_kill_9_of_the_batch_lane_then_rerun_lands_each_line_once(
    s3: S3Env, bucket: str, tmp_path: Path
) -> None:
    objects = 36  # 5,400 lines in 54 files: the loader is still busy when it is killed
    good = seed(s3, bucket, objects, 150)
    cfg = {
        "bucket": bucket,
        "download_concurrency": 1,
        "batch_config": batch_settings(s3, bucket, tmp_path, "file"),
    }
    tap, target = lane(s3, tmp_path, cfg, None)
    assert target.stdout is not None
    first = target.stdout.readline()  # the loader hands on a STATE once a file is committed
    os.kill(tap.pid, signal.SIGKILL)
    os.kill(target.pid, signal.SIGKILL)
    tap.wait()
    target.wait()
    state = orjson.loads(first)
    with duckdb.connect(str(tmp_path / "warehouse.duckdb"), read_only=True) as con:
        partial = con.execute("SELECT s3_key, line_number FROM raw_events.events").fetchall()
    assert 0 < len(partial) < len(good), "the run must have been cut short after a commit"
    finished = {
        (f"events/{p}/{n}")
        for p, names in state["bookmarks"]["events"]["done"].items()
        for n in names
    }
    assert finished and {k for k, _ in partial} >= finished

    final = run_lane(s3, tmp_path, cfg, state)
    events, quarantine, _ = warehouse(tmp_path)
    assert events == sorted(good)
    assert len(set(quarantine)) == len(quarantine) == len(range(0, objects, 3)) * len(BAD)
    assert final is not None
    assert sum(len(v) for v in final["bookmarks"]["events"]["done"].values()) == objects
