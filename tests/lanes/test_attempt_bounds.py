"""The pieces that bound a lane attempt, on real processes, files and DuckDB.

- run_logged's timeout kills the whole process group of the command (a child that forked its own
  worker included) and reports TIMED_OUT_EXIT_CODE;
- the lane lock handed to a command stays held while the command lives;
- the sweep removes only config files of the job's own plugins, and leaves a plugin that a
  running job shares alone;
- a warehouse file held past the wait bound raises WarehouseLocked once, then at once; the ops
  records journaled meanwhile are replayed into ops.* idempotently, with one alert.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import psutil
import pytest

from brightcart_ops.alerts import Alert, Alerter, LocalSink
from brightcart_ops.journal import OpsJournal
from brightcart_ops.locks import LockBusy, lane_lock
from brightcart_ops.opslog import PipelineRun, record_run, replay_runs
from brightcart_ops.run_files import job_plugins, sweep_leftovers, sweep_stale_configs
from brightcart_ops.runtime import TIMED_OUT_EXIT_CODE, run_logged
from brightcart_ops.warehouse import Warehouse, WarehouseLocked
from brightcart_world.settings import Settings

HOLD = (
    "import duckdb, sys, time\n"
    "con = duckdb.connect(sys.argv[1])\n"
    "print('held', flush=True)\n"
    "time.sleep(600)\n"
)


def test_timeout_kills_the_whole_process_group(tmp_path: Path) -> None:
    pids = tmp_path / "pids"
    script = f"sleep 600 & echo $! > {pids}; echo $$ >> {pids}; echo started; wait"
    code, tail = run_logged(
        ["sh", "-c", script], dict(os.environ), tmp_path / "x.log", timeout_seconds=2
    )
    assert code == TIMED_OUT_EXIT_CODE
    assert "timed out after 2 s" in tail and "started" in tail
    started = [int(p) for p in pids.read_text().split()]
    assert len(started) == 2
    alive = _survivors(started)
    assert alive == [], "a process of the timed-out group survived"
    assert "timed out after 2 s" in (tmp_path / "x.log").read_text()


def test_a_command_that_ends_in_time_keeps_its_exit_code(tmp_path: Path) -> None:
    code, tail = run_logged(
        ["sh", "-c", "echo done; exit 3"], dict(os.environ), tmp_path / "y.log", timeout_seconds=60
    )
    assert (code, tail) == (3, "done")


LOCK_AND_SPAWN = (
    "import subprocess, sys, time\n"
    "from pathlib import Path\n"
    "from brightcart_ops.locks import lane_lock\n"
    "with lane_lock('shop-lane', Path(sys.argv[1])) as fd:\n"
    "    child = subprocess.Popen(['sleep', '600'], pass_fds=(fd,))\n"
    "    print(child.pid, flush=True)\n"
    "    time.sleep(600)\n"
)


def test_lane_lock_handed_to_a_command_outlives_a_killed_runner(tmp_path: Path) -> None:
    runner = subprocess.Popen(
        [sys.executable, "-c", LOCK_AND_SPAWN, str(tmp_path)], stdout=subprocess.PIPE, text=True
    )
    assert runner.stdout is not None
    child = int(runner.stdout.readline())
    runner.kill()  # kill -9 of the runner alone: its command lives on
    runner.wait()
    try:
        with pytest.raises(LockBusy), lane_lock("shop-lane", tmp_path):
            pass
    finally:
        os.kill(child, signal.SIGKILL)
        while _not_zombie(child):
            time.sleep(0.05)
    with lane_lock("shop-lane", tmp_path):
        pass


def _config(run_dir: Path, plugin: str, name: str) -> Path:
    path = run_dir / plugin / name
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text('{"client_secret": "s3cr3t-value"}')
    return path


def test_sweep_removes_only_leftover_configs_of_the_jobs_own_plugins(tmp_path: Path) -> None:
    assert job_plugins()["crm-lane"] == ("tap-salesforce", "target-redshift--crm")
    run_dir = tmp_path / "run"
    tap = _config(run_dir, "tap-salesforce", "tap.0193a1b2-0000-7000-8000-000000000001.config.json")
    target = _config(run_dir, "target-redshift--crm", "target.0193a1b2.config.json")
    catalog = _config(run_dir, "tap-salesforce", "tap.properties.json")
    other_lane = _config(run_dir, "tap-postgres", "tap.0193a1b2.config.json")
    with lane_lock("crm-lane", tmp_path):
        removed = sweep_stale_configs("crm-lane", run_dir, tmp_path)
    assert sorted(removed) == sorted([tap, target])
    assert not tap.exists() and not target.exists()
    assert catalog.exists() and other_lane.exists()


def test_sweep_leaves_a_plugin_that_a_running_job_shares(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    shared = _config(run_dir, "target-redshift--shop", "target.0193a1b2.config.json")
    own = _config(run_dir, "tap-postgres", "tap.0193a1b2.config.json")
    with lane_lock("finance-full-extract", tmp_path):  # a full extract runs the same target
        with lane_lock("shop-lane", tmp_path):
            removed = sweep_stale_configs("shop-lane", run_dir, tmp_path)
    assert removed == [own] and shared.exists()
    with lane_lock("shop-lane", tmp_path):
        assert sweep_stale_configs("shop-lane", run_dir, tmp_path) == [shared]


def _survivors(pids: list[int]) -> list[int]:
    """The pids still running a few seconds after the kill (SIGKILL is delivered at once, but a
    loaded machine may take a moment to schedule the exit; a zombie awaiting its reaper is dead)."""
    procs = []
    for pid in pids:
        try:
            procs.append(psutil.Process(pid))
        except psutil.NoSuchProcess:
            continue
    _, alive = psutil.wait_procs(procs, timeout=10)
    return [p.pid for p in alive if _not_zombie(p.pid)]


def _not_zombie(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def test_locked_warehouse_records_go_to_the_journal_and_are_replayed_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE_LOCK_WAIT_SECONDS", "1")
    settings = Settings(home=tmp_path)
    warehouse = Warehouse(settings, "local")
    journal = OpsJournal(tmp_path)
    alerter = Alerter(warehouse, LocalSink(tmp_path / "alerts.jsonl"), journal)
    holder = subprocess.Popen(
        [sys.executable, "-c", HOLD, str(settings.warehouse)], stdout=subprocess.PIPE, text=True
    )
    try:
        assert holder.stdout is not None and holder.stdout.readline().strip() == "held"
        run = PipelineRun("shop-lane", "shop", "dev", 1, datetime.now(UTC), status="failed")
        record_run(warehouse, run, journal)
        assert isinstance(warehouse.locked, WarehouseLocked)
        alert = Alert(kind="lane_failure", key="shop", subject="shop-lane failed")
        assert alerter.raise_(alert) is True
        assert alerter.raise_(alert) is False, "the journal knows the incident is open"
    finally:
        holder.kill()
        holder.wait()
    kinds = [e["kind"] for e in journal.entries()]
    assert kinds == ["pipeline_run", "alert_raised"]
    sent = (tmp_path / "alerts.jsonl").read_text().splitlines()
    assert len(sent) == 1

    warehouse.recheck()
    for _ in range(2):  # a replay cut short is replayed again: nothing doubles
        entries = journal.entries()
        assert replay_runs(warehouse, entries) in (0, 1)
        alerter.replay(entries)
    with journal.replaying() as entries:
        assert len(entries) == 2
    assert journal.entries() == []
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        runs = con.execute("SELECT run_id, status FROM ops.pipeline_runs").fetchall()
        alerts = con.execute("SELECT incident_key, resolved_at FROM ops.alerts").fetchall()
    assert runs == [(run.run_id, "failed")]
    assert alerts == [("lane_failure:shop", None)]


def test_sweep_removes_the_lanes_leftover_batch_files_and_only_those(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    config = _config(run_dir, "tap-brightcart-events", "tap.0193a1b2.config.json")
    batches = tmp_path / "batches"
    (batches / "events").mkdir(parents=True)
    (batches / "shop").mkdir(parents=True)
    stale = [batches / "events" / f"events-{n}.json.gz" for n in range(3)]
    for path in stale:
        path.write_bytes(b"\x1f\x8b")
    other = batches / "shop" / "shop-0.json.gz"
    other.write_bytes(b"\x1f\x8b")
    with lane_lock("events-lane", tmp_path):
        removed = sweep_leftovers("events-lane", "events", run_dir, tmp_path)
    assert sorted(removed) == sorted([config, *stale])
    assert list((batches / "events").iterdir()) == []
    assert other.exists()
