"""Run one extraction lane: locked, retried with backoff, recorded, and alerted on failure.

A lane is a Meltano job (`meltano run shop-lane`, ...). Lanes are independent: each runs in its
own process (its own Fargate task in production), so one source's outage never stops another;
the SQLMesh models that read a failed lane wait through their signals, the rest go on.

Every attempt is bounded: past the lane's attempt timeout (`Lane.timeout_seconds`, or
BRIGHTCART_<JOB>_TIMEOUT_SECONDS such as BRIGHTCART_CRM_LANE_TIMEOUT_SECONDS) the attempt's whole
process group is killed and the attempt counts as failed, then is retried like any failure. A
killed attempt is as safe as a kill -9: the loader commits a batch before Meltano records its
state, so the retry re-sends from the last recorded state and the loader's keys absorb the
re-sent rows. Config and BATCH files the killed run left on disk are swept (run_files.py).

A warehouse locked past its wait bound fails the attempt before Meltano starts (the loader could
not write anyway); the runs and the alert are journaled (journal.py) and replayed into the ops
tables by the next run that reaches the warehouse.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from tenacity import RetryCallState, RetryError, Retrying, stop_after_attempt, wait_exponential

from brightcart_ops.alerts import Alert, Alerter
from brightcart_ops.journal import OpsJournal
from brightcart_ops.locks import LockBusy, lane_lock
from brightcart_ops.metrics import emit
from brightcart_ops.opslog import PipelineRun, record_run, replay_runs, utcnow
from brightcart_ops.run_files import sweep_leftovers
from brightcart_ops.runtime import PROJECT_ROOT, meltano_bin, run_logged, step_env
from brightcart_ops.warehouse import Warehouse, WarehouseLocked
from brightcart_world.settings import Settings

REFUSED_EXIT_CODE = 75  # the lane guard refused a heavy read inside business hours
WAREHOUSE_LOCKED_EXIT_CODE = 73  # EX_CANTCREAT: the warehouse file stayed locked


@dataclass(frozen=True)
class Lane:
    name: str
    job: str
    source: str
    # One attempt's limit. Hourly lanes: three attempts and their backoff fit in the hour.
    timeout_seconds: float = 900.0


LANES: dict[str, Lane] = {
    lane.name: lane
    for lane in (
        Lane("shop", "shop-lane", "PostgreSQL OLTP"),
        Lane("events", "events-lane", "S3 event logs"),
        Lane("marketing", "marketing-lane", "S3 ad-spend drops", 1800.0),
        Lane("crm", "crm-lane", "Salesforce"),
    )
}
JOBS = {lane.job: lane for lane in LANES.values()} | {
    "finance-full-extract": Lane("shop", "finance-full-extract", "PostgreSQL OLTP (full)", 7200.0)
}


def attempt_timeout(lane: Lane, override: float | None = None) -> float:
    """Seconds one attempt of the lane may take: the argument, the job's variable, the default."""
    if override is not None:
        return override
    name = "BRIGHTCART_" + lane.job.upper().replace("-", "_") + "_TIMEOUT_SECONDS"
    value = os.environ.get(name, "")
    return float(value) if value else lane.timeout_seconds


class StepFailed(RuntimeError):
    def __init__(self, code: int, tail: str) -> None:
        super().__init__(f"exit code {code}: {tail}")
        self.code = code
        self.tail = tail


@dataclass
class LaneResult:
    lane: str
    job: str
    status: str  # succeeded, failed, refused, skipped
    attempts: int
    rows_loaded: int
    high_water_mark: datetime | None
    error: str | None = None


def lane_high_water_mark(warehouse: Warehouse, lane: str) -> datetime | None:
    if not warehouse.table_exists("raw_meta", "load_log"):
        return None
    rows = warehouse.query(
        "SELECT max(high_water_mark) FROM raw_meta.load_log WHERE lane = ? AND status = ?",
        (lane, "succeeded"),
    )
    value = rows[0][0] if rows else None
    return value if isinstance(value, datetime) else None


def rows_loaded_since(warehouse: Warehouse, lane: str, since: datetime) -> int:
    if not warehouse.table_exists("raw_meta", "load_log"):
        return 0
    rows = warehouse.query(
        "SELECT coalesce(sum(rows_inserted), 0) FROM raw_meta.load_log "
        "WHERE lane = ? AND started_at >= ?",
        (lane, since),
    )
    return int(rows[0][0]) if rows else 0


def _run_meltano(
    job: str, env: dict[str, str], log_path: Path, timeout: float, lock_fd: int | None
) -> None:
    # --force: a run killed with -9 stays `running` in Meltano's system database for minutes and
    # would block this one; lane_lock already guarantees one run of a lane at a time.
    argv = [meltano_bin(), "--environment", env["MELTANO_ENVIRONMENT"], "run", "--force", job]
    keep = () if lock_fd is None else (lock_fd,)
    code, tail = run_logged(
        argv, {**os.environ, **env}, log_path, tail_lines=15, timeout_seconds=timeout, keep_fds=keep
    )
    if code != 0:
        raise StepFailed(code, tail)


def meltano_run_dir(env: dict[str, str]) -> Path:
    """Meltano's run folder for this environment (plugin config files are written there)."""
    root = env.get("MELTANO_SYS_DIR_ROOT") or str(PROJECT_ROOT / ".meltano")
    return Path(root) / "run"


def replay_journal(warehouse: Warehouse, journal: OpsJournal, alerter: Alerter) -> None:
    """Write ops records journaled while the warehouse was locked (raises WarehouseLocked)."""
    with journal.replaying() as entries:
        replay_runs(warehouse, entries)
        alerter.replay(entries)


def run_lane(
    settings: Settings,
    job: str,
    environment: str = "dev",
    attempts: int = 3,
    backoff_seconds: float = 5.0,
    warehouse: Warehouse | None = None,
    alerter: Alerter | None = None,
    timeout_seconds: float | None = None,
) -> LaneResult:
    """Run a lane job once (with retries); never raises for a failed source or a locked warehouse.

    `timeout_seconds` bounds each attempt (default: see attempt_timeout)."""
    lane = JOBS[job]
    warehouse = warehouse or Warehouse(settings)
    journal = OpsJournal(settings.home)
    alerter = alerter or Alerter(warehouse, journal=journal)
    if alerter.journal is None:
        alerter.journal = journal
    env = step_env(settings, environment)
    log_path = settings.home / "logs" / f"{job}.log"
    try:
        with lane_lock(job, settings.home) as lock_fd:
            run_dir = meltano_run_dir({**os.environ, **env})
            try:
                return _run_locked(
                    lane,
                    environment,
                    attempts,
                    backoff_seconds,
                    warehouse,
                    alerter,
                    journal,
                    env,
                    log_path,
                    attempt_timeout(lane, timeout_seconds),
                    lock_fd,
                    lambda: sweep_leftovers(job, lane.name, run_dir, settings.home),
                )
            finally:
                sweep_leftovers(job, lane.name, run_dir, settings.home)
    except LockBusy as busy:
        return LaneResult(lane.name, job, "skipped", 0, 0, None, str(busy))


def _run_locked(
    lane: Lane,
    environment: str,
    attempts: int,
    backoff_seconds: float,
    warehouse: Warehouse,
    alerter: Alerter,
    journal: OpsJournal,
    env: dict[str, str],
    log_path: Path,
    timeout: float,
    lock_fd: int | None,
    sweep: Callable[[], object],
) -> LaneResult:
    hwm_before: datetime | None = None
    known_before = False
    attempt_no = 0
    total_rows = 0
    last_error: StepFailed | None = None
    succeeded = False

    def one_attempt() -> None:
        nonlocal attempt_no, total_rows, last_error, succeeded, hwm_before, known_before
        attempt_no += 1
        run = PipelineRun(lane.job, lane.name, environment, attempt_no, utcnow())
        warehouse.recheck()  # an earlier attempt may have found it locked
        reachable = True
        try:
            sweep()
            # The warehouse first: with the file held past its wait bound the loader could not
            # write either, and nothing of the source has moved yet.
            replay_journal(warehouse, journal, alerter)
            landed = lane_high_water_mark(warehouse, lane.name)
            if not known_before:
                hwm_before, known_before = landed, True
            run.window_start = hwm_before
            _run_meltano(lane.job, env, log_path, timeout, lock_fd)
            run.status = "succeeded"
            succeeded = True
        except WarehouseLocked as locked:
            reachable = False
            last_error = StepFailed(WAREHOUSE_LOCKED_EXIT_CODE, str(locked))
            run.status = "failed"
            run.error = last_error.tail[-2000:]
            raise last_error from locked
        except StepFailed as failed:
            last_error = failed
            run.status = "refused" if failed.code == REFUSED_EXIT_CODE else "failed"
            run.error = failed.tail[-2000:]
            raise
        finally:
            run.finished_at = utcnow()
            if reachable:
                try:
                    run.rows_loaded = rows_loaded_since(warehouse, lane.name, run.started_at)
                    total_rows += run.rows_loaded
                    run.window_end = lane_high_water_mark(warehouse, lane.name)
                except WarehouseLocked:
                    pass  # recorded through the journal below
            record_run(warehouse, run, journal)

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff_seconds, max=backoff_seconds * 8),
        retry=_retryable,  # a refusal is a rule, not a fault: it is not retried
        reraise=False,
    )
    try:
        retrying(one_attempt)
    except (RetryError, StepFailed):
        pass
    try:
        hwm_after = lane_high_water_mark(warehouse, lane.name)
    except WarehouseLocked:
        hwm_after = None
    emit("LaneFailed", 0 if succeeded or _refused(last_error) else 1, {"Lane": lane.name})
    emit("RowsLoaded", total_rows, {"Lane": lane.name})
    if succeeded:
        alerter.resolve("lane_failure", lane.name, note=f"{lane.job} succeeded")
        return LaneResult(lane.name, lane.job, "succeeded", attempt_no, total_rows, hwm_after)
    assert last_error is not None
    if last_error.code == REFUSED_EXIT_CODE:
        return LaneResult(
            lane.name, lane.job, "refused", attempt_no, total_rows, hwm_after, last_error.tail
        )
    alerter.raise_(
        Alert(
            kind="lane_failure",
            key=lane.name,
            subject=f"{lane.job} failed {attempt_no} times ({lane.source})",
            detail=f"last error:\n{last_error.tail[-1500:]}\nlog: {log_path}",
        )
    )
    return LaneResult(
        lane.name, lane.job, "failed", attempt_no, total_rows, hwm_after, last_error.tail
    )


def _refused(error: StepFailed | None) -> bool:
    return error is not None and error.code == REFUSED_EXIT_CODE


def _retryable(retry_state: RetryCallState) -> bool:
    outcome = retry_state.outcome
    if outcome is None or not outcome.failed:
        return False
    exc = outcome.exception()
    return isinstance(exc, StepFailed) and exc.code != REFUSED_EXIT_CODE
