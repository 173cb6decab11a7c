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
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime
from typing import Any

import psutil
import pytest
import requests

from brightcart_ops.journal import OpsJournal
from brightcart_ops.registry import registry
from brightcart_world.generator import advance

from .harness import TALLY, RelWorld, Size, utcnow

# Each attempt against a Salesforce that never answers is cut here (a lane's own default is far
# longer); every call waits an hour, so the attempt cannot succeed whatever the machine's speed.
HUNG_ATTEMPT_TIMEOUT = 8.0


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
    timeout: float | None = None,
    during: Callable[[str], None] = lambda lane: None,
) -> None:
    """The outage from start() to stop(); `during(lane)` checks more while it lasts."""
    advance(rel.settings, hours=1)
    since = utcnow()
    start()
    try:
        first = {lane: rel.lane(lane, attempts=2, backoff=0.2, timeout=timeout) for lane in lanes}
        again = {lane: rel.lane(lane, attempts=1, backoff=0.2, timeout=timeout) for lane in lanes}
        for lane in lanes:
            during(lane)
    finally:
        stop()
    for lane in lanes:
        job = registry().lane(lane).job
        key = f"lane_failure:{lane}"
        assert (first[lane].status, first[lane].attempts) == ("failed", 2), first[lane]
        assert again[lane].status == "failed", again[lane]
        assert rel.alerts_sent(key, since) == (1, 0), "one alert for the incident, not per run"
    for lane in lanes:
        job = registry().lane(lane).job
        key = f"lane_failure:{lane}"
        recovered = rel.lane(lane)
        assert recovered.status == "succeeded", f"{lane} after {label}: {recovered.error}"
        # every failed attempt is recorded (a locked warehouse: replayed by the recovered run)
        runs = rel.pipeline_runs(job, since)
        assert runs[:3] == [("failed", 1), ("failed", 2), ("failed", 1)], runs
        assert [s for s, _ in runs[3:]] in (["succeeded"], ["failed", "succeeded"]), runs
        assert rel.alert_rows(key, since) == 1
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


@pytest.mark.parametrize("lane", ["events", pytest.param("marketing", marks=pytest.mark.full)])
def test_s3_server_stopped(rel: RelWorld, monkeypatch: pytest.MonkeyPatch, lane: str) -> None:
    """moto keeps objects in memory: they are saved before the stop and put back after it,
    as a restore of the landing bucket would (every object gets a new LastModified). The S3
    clients' own retries are cut from 8 tries to 2 (AWS_MAX_ATTEMPTS, read by boto3 and by
    tap-brightcart-events): a refused connection fails each lane attempt in seconds instead of
    ~40 s of SDK backoff; the lane's attempts, records and alert are what this case checks.
    One lane per outage: events (its own tap) in `make test`, marketing (tap-s3-csv) as well in
    `make test-full`."""
    monkeypatch.setenv("AWS_MAX_ATTEMPTS", "2")
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

    _incident(rel, (lane,), "S3 server stopped", start, stop)


@pytest.mark.parametrize(
    ("label", "switches"),
    [
        # The Salesforce component's outage in `make test` is the hung one below (an attempt
        # timeout and an alert); its error answers run in `make test-full`.
        pytest.param("Salesforce 503", {"unavailable": -1}, marks=pytest.mark.full),
        pytest.param(
            "Salesforce expired token (invalid_grant)",
            {"invalid_grant": -1},
            marks=pytest.mark.full,
        ),
        pytest.param(
            "Salesforce API quota exceeded",
            {"api_limit": 10, "api_used": 10},
            marks=pytest.mark.full,
        ),
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


@pytest.mark.full
def test_salesforce_slow_answers_within_the_client_timeout(rel: RelWorld) -> None:
    advance(rel.settings, hours=1)
    since = utcnow()
    _sf_faults(rel, "POST", {"delay_calls": 3, "delay_seconds": 2.0})
    try:
        _survived(rel, "crm", "Salesforce slow answers (delay switch)", since)
    finally:
        _sf_faults(rel, "DELETE")


def _hold_warehouse(rel: RelWorld, seconds: float = 3600) -> subprocess.Popen[str]:
    """Another process holding the DuckDB warehouse open for write (until released)."""
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
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    return holder


def _release(holder: subprocess.Popen[str]) -> None:
    holder.kill()
    holder.wait()
    if holder.stdout is not None:
        holder.stdout.close()


@contextmanager
def _warehouse_held(rel: RelWorld, seconds: float) -> Iterator[subprocess.Popen[str]]:
    """Another process holding the DuckDB warehouse open for write for `seconds`."""
    holder = _hold_warehouse(rel, seconds)
    try:
        yield holder
    finally:
        _release(holder)


@pytest.mark.full
def test_warehouse_locked_for_less_than_the_retry_window(rel: RelWorld) -> None:
    advance(rel.settings, hours=1)
    since = utcnow()
    seconds = round(rel.rng.uniform(3, 8), 1)
    with _warehouse_held(rel, seconds):
        _survived(rel, "shop", f"warehouse locked {seconds}s by another writer", since)


def test_warehouse_locked_past_the_wait_bound(
    rel: RelWorld, size: Size, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Held for longer than every bounded wait of three attempts: each attempt fails before
    Meltano starts, the runs and the one alert wait in the ops journal (the alert is sent at once)
    and the first run after the release replays them into ops.* and catches up. CI size shortens
    the wait bound; the large size keeps the production default of 120 s."""
    if not size.large:
        monkeypatch.setenv("BRIGHTCART_WAREHOUSE_LOCK_WAIT_SECONDS", "2")
    holder: list[subprocess.Popen[str]] = []
    journal = OpsJournal(rel.settings.home)

    def start() -> None:
        holder.append(_hold_warehouse(rel))

    def stop() -> None:
        for proc in holder:
            _release(proc)

    def during(lane: str) -> None:
        kinds = [e["kind"] for e in journal.entries() if e.get("lane", lane) == lane]
        assert kinds.count("pipeline_run") == 3 and kinds.count("alert_raised") == 1, kinds

    _incident(rel, ("shop",), "warehouse locked past the wait bound", start, stop, None, during)
    assert journal.entries() == [], "the journal was replayed and emptied"


def test_salesforce_hung_fails_each_attempt_at_its_timeout(rel: RelWorld) -> None:
    """Salesforce accepts the connection and never answers: no client timeout fires, the lane's
    attempt timeout kills the attempt's process group; no process of it survives and no config
    file with a secret stays behind."""
    run_dir = rel.settings.home / "meltano" / "run"

    def during(lane: str) -> None:
        survivors = [
            p.info["pid"]
            for p in psutil.process_iter(["pid", "cmdline"])
            if str(run_dir) in " ".join(p.info["cmdline"] or [])
        ]
        assert survivors == [], "a process of a timed-out attempt is still running"
        assert list((run_dir / "tap-salesforce").glob("*.config.json")) == []
        errors = rel.wh_rows(
            "SELECT error FROM ops.pipeline_runs WHERE job = 'crm-lane' ORDER BY started_at DESC "
            "LIMIT 3"
        )
        assert all("timed out after" in str(e[0]) for e in errors), errors

    _incident(
        rel,
        ("crm",),
        "Salesforce hung (no answer, no client timeout)",
        lambda: _sf_faults(rel, "POST", {"delay_calls": -1, "delay_seconds": 3600.0}),
        lambda: _sf_faults(rel, "DELETE"),
        timeout=HUNG_ATTEMPT_TIMEOUT,
        during=during,
    )
