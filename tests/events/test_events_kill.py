"""kill -9 of the real tap in the middle of a run, then a rerun from the last emitted state,
loses nothing: every (s3_key, line_number) appears at least once, and the final state covers
every object."""

from __future__ import annotations

import os
import signal
import subprocess
import typing as t
from pathlib import Path

import pytest

from .support import S3Env, batch_config, event, gz, parse_output, run_tap, tap_command

OBJECTS = 24
LINES = 150


def seed(s3: S3Env, bucket: str) -> set[tuple[str, int]]:
    keys: set[tuple[str, int]] = set()
    for i in range(OBJECTS):
        hour = 3 + i % 3
        key = (
            f"events/dt=2026-11-01/hour={hour:02d}/"
            f"brightcart-events-1-2026-11-01-{hour:02d}-00-00-{i:04d}.gz"
        )
        lines = [
            event(f"k{i}-{n}", f"2026-11-01T{hour:02d}:00:00Z", padding="x" * 800)
            for n in range(LINES)
        ]
        s3.client.put_object(Bucket=bucket, Key=key, Body=gz(lines))
        keys.update((key, n) for n in range(1, LINES + 1))
    return keys


@pytest.mark.parametrize("batch", [False, True], ids=["records", "batch"])
def test_kill_9_mid_run_then_rerun_loses_nothing(
    s3: S3Env, bucket: str, tmp_path: Path, batch: bool
) -> None:
    expected = seed(s3, bucket)
    cfg: dict[str, t.Any] = {"bucket": bucket, "state_every_objects": 1, "download_concurrency": 1}
    if batch:
        cfg["batch_config"] = batch_config(tmp_path / "batches", batch_size=100)

    proc = subprocess.Popen(
        tap_command(tmp_path, cfg, None),
        env=s3.env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    assert proc.stdout is not None
    lines: list[bytes] = []
    states = 0
    for line in proc.stdout:
        lines.append(line)
        if line.startswith(b'{"type":"STATE"'):
            states += 1
            if states == 3:
                # The pipe holds at most ~64 KB (~60 records) beyond what we read, so the
                # tap is stopped with most of its 3,600 lines still unwritten.
                os.kill(proc.pid, signal.SIGKILL)
                break
    lines.extend(proc.stdout.read().splitlines(keepends=True))
    proc.wait()
    assert proc.returncode == -signal.SIGKILL

    killed = parse_output(lines)
    first_keys = set(killed.keys("events"))
    assert len(first_keys) < len(expected), "the run must have been cut short"
    state = killed.last_state
    assert state is not None

    rerun = run_tap(s3, tmp_path, cfg, state)
    seen = first_keys | set(rerun.keys("events"))
    assert seen == expected
    assert "events_quarantine" not in rerun.records
    final = rerun.last_state
    assert final is not None
    done = final["bookmarks"]["events"]["done"]
    assert sum(len(names) for names in done.values()) == OBJECTS
    # Objects the killed run had finished are not read again.
    finished = {
        f"events/{p}/{n}"
        for p, names in state["bookmarks"]["events"]["done"].items()
        for n in names
    }
    assert finished.isdisjoint({k for k, _ in rerun.keys("events")})
