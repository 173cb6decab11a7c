"""Case 2: source and warehouse outages.

For each incident: the world advances (there is something to catch up), the outage starts, the
lane runs twice (once with a retry, once more as the next schedule would), the outage ends, the
lane runs again. Checked on data: every failed attempt is in ops.pipeline_runs, the incident sent
exactly one lane_failure alert and one resolution, and after recovery the warehouse equals the
source.
"""

from __future__ import annotations

import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import pytest
import requests

from brightcart_ops.lanes import LANES
from brightcart_world.generator import advance

from .harness import TALLY, RelWorld, utcnow


def _component(rel: RelWorld, name: str) -> object:
    (found,) = [c for c in rel.sources.components if c.name == name]
    return found


def _sf_faults(rel: RelWorld, method: str, body: dict[str, Any] | None = None) -> None:
    """Set (POST) or reset (DELETE) the Salesforce emulator's failure switches."""
    answer = requests.request(
        method, f"{rel.settings.sf_instance_url}/__emulator/faults", json=body, timeout=10
    )
    assert answer.status_code == 200, answer.text


def _incident(
    rel: RelWorld,
    lanes: tuple[str, ...],
    label: str,
    start: Callable[[], None],
    stop: Callable[[], None],
) -> None:
    advance(rel.settings, hours=1)
    since = utcnow()
    start()
    try:
        first = {lane: rel.lane(lane, attempts=2, backoff=0.2) for lane in lanes}
        again = {lane: rel.lane(lane, attempts=1, backoff=0.2) for lane in lanes}
    finally:
        stop()
    for lane in lanes:
        job = LANES[lane].job
        key = f"lane_failure:{lane}"
        assert (first[lane].status, first[lane].attempts) == ("failed", 2), first[lane]
        assert again[lane].status == "failed", again[lane]
        assert rel.pipeline_runs(job, since) == [("failed", 1), ("failed", 2), ("failed", 1)]
        assert rel.alerts_sent(key, since) == (1, 0), "one alert for the incident, not per run"
        assert rel.alert_rows(key, since) == 1
    for lane in lanes:
        job = LANES[lane].job
        key = f"lane_failure:{lane}"
        recovered = rel.lane(lane)
        assert recovered.status == "succeeded", f"{lane} after {label}: {recovered.error}"
        assert rel.pipeline_runs(job, since)[-1][0] == "succeeded"
        assert rel.alerts_sent(key, since) == (1, 1), "resolved once after recovery"
        rel.assert_lane_equals_source(lane, f"{lane} after {label}")
        TALLY.outages_survived += 1
        TALLY.note(
            f"outage {label}: {lane} failed 3 attempts over 2 runs, 1 alert, caught up after"
        )


def test_postgres_stopped(rel: RelWorld) -> None:
    postgres = _component(rel, "postgres")
    _incident(
        rel,
        ("shop",),
        "PostgreSQL stopped (private cluster)",
        lambda: postgres.stop(),  # type: ignore[attr-defined]
        lambda: postgres.start(),  # type: ignore[attr-defined]
    )


def test_s3_server_stopped(rel: RelWorld) -> None:
    """moto keeps objects in memory: they are saved before the stop and put back after it,
    as a restore of the landing bucket would (every object gets a new LastModified)."""
    s3 = _component(rel, "s3")
    saved: dict[str, bytes] = {}

    def start() -> None:
        saved.update(rel.bucket_objects(""))
        s3.stop()  # type: ignore[attr-defined]

    def stop() -> None:
        s3.start()  # type: ignore[attr-defined]
        client = rel.s3()
        for key in sorted(saved):
            client.put_object(Bucket=rel.settings.s3_bucket, Key=key, Body=saved[key])

    _incident(rel, ("marketing", "events"), "S3 server stopped", start, stop)


@pytest.mark.parametrize(
    ("label", "switches"),
    [
        ("Salesforce 503", {"unavailable": -1}),
        ("Salesforce expired token (invalid_grant)", {"invalid_grant": -1}),
        ("Salesforce API quota exceeded", {"api_limit": 10, "api_used": 10}),
    ],
)
def test_salesforce_failures(rel: RelWorld, label: str, switches: dict[str, Any]) -> None:
    _incident(
        rel,
        ("crm",),
        label,
        lambda: _sf_faults(rel, "POST", switches),
        lambda: _sf_faults(rel, "DELETE"),
    )


def _survived(rel: RelWorld, lane: str, label: str, since: datetime) -> None:
    result = rel.lane(lane)
    assert result.status == "succeeded", f"{lane} through {label}: {result.error}"
    assert rel.alerts_sent(f"lane_failure:{lane}", since) == (0, 0)
    rel.assert_lane_equals_source(lane, f"{lane} through {label}")
    TALLY.outages_survived += 1
    TALLY.note(f"outage {label}: {lane} rode it out, no alert, warehouse equals source")


def test_salesforce_slow_answers_within_the_client_timeout(rel: RelWorld) -> None:
    advance(rel.settings, hours=1)
    since = utcnow()
    _sf_faults(rel, "POST", {"delay_calls": 3, "delay_seconds": 2.0})
    try:
        _survived(rel, "crm", "Salesforce slow answers (delay switch)", since)
    finally:
        _sf_faults(rel, "DELETE")


@contextmanager
def _warehouse_held(rel: RelWorld, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the DuckDB warehouse open for write for `seconds`."""
    code = (
        "import duckdb, sys, time\n"
        "con = duckdb.connect(sys.argv[1])\n"
        "con.execute('CREATE SCHEMA IF NOT EXISTS rel_holder')\n"
        "print('held', flush=True)\n"
        "time.sleep(float(sys.argv[2]))\n"
        "con.close()\n"
    )
    holder = subprocess.Popen(
        [sys.executable, "-c", code, str(rel.settings.warehouse), str(seconds)],
        stdout=subprocess.PIPE,
        text=True,
    )
    try:
        assert holder.stdout is not None
        assert holder.stdout.readline().strip() == "held"
        yield holder
    finally:
        holder.kill()
        holder.wait()


def test_warehouse_locked_for_less_than_the_retry_window(rel: RelWorld) -> None:
    advance(rel.settings, hours=1)
    since = utcnow()
    seconds = round(rel.rng.uniform(3, 8), 1)
    with _warehouse_held(rel, seconds):
        _survived(rel, "shop", f"warehouse locked {seconds}s by another writer", since)


@pytest.mark.large
@pytest.mark.xfail(
    strict=True,
    reason=(
        "run_lane keeps ops.pipeline_runs and ops.alerts in the warehouse file itself: with the "
        "file locked past Warehouse's 120 s retry, run_lane raises duckdb.IOException and records "
        "neither the failure nor the alert (needs an ops store outside the locked file)"
    ),
)
def test_warehouse_locked_past_every_retry(rel: RelWorld, large_only: None) -> None:
    advance(rel.settings, hours=1)
    since = utcnow()
    with _warehouse_held(rel, 400):
        first = rel.lane("shop", attempts=2, backoff=0.2)
    assert first.status == "failed"
    assert [s for s, _ in rel.pipeline_runs("shop-lane", since)] == ["failed", "failed"]
    assert rel.alerts_sent("lane_failure:shop", since) == (1, 0)
    assert rel.lane("shop").status == "succeeded"
    rel.assert_lane_equals_source("shop", "after a long warehouse lock")


@pytest.mark.large
@pytest.mark.xfail(
    strict=True,
    reason=(
        "run_lane waits for `meltano run` without a time limit and tap-salesforce's request "
        "timeout is a hard-coded 300 s (then backoff): a hung Salesforce holds the lane and its "
        "lock with nothing recorded (needs a per-attempt timeout that kills the process group)"
    ),
)
def test_salesforce_hung_fails_the_lane_in_bounded_time(rel: RelWorld, large_only: None) -> None:
    since = utcnow()
    _sf_faults(rel, "POST", {"delay_calls": -1, "delay_seconds": 3600.0})
    proc = rel.lane_cli("crm")
    try:
        deadline = time.monotonic() + 10 * rel.durations.get("crm", 30.0)
        while proc.poll() is None and time.monotonic() < deadline:
            time.sleep(1)
        finished = proc.poll() is not None
    finally:
        if proc.poll() is None:
            rel.kill_at("crm", proc, 0)
        _sf_faults(rel, "DELETE")
    assert finished, "the lane was still waiting on Salesforce"
    assert rel.pipeline_runs("crm-lane", since)[-1][0] == "failed"
