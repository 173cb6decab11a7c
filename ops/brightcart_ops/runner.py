"""The job runner: every Meltano job runs through here, scheduled or bounded to a window.

`brightcart run <job>` is the command of every scheduled Fargate task; `brightcart lane run`,
backfills, reconciliation repairs and the demo call the same `run_job`. One run of a job:

* holds the job's lock (locks.py: a file lock locally, an advisory lock in production), so a
  doubled schedule or a retried task never runs a job twice at once; a busy lock skips the run;
* bounds each attempt (the registry's `timeout_seconds`, BRIGHTCART_<JOB>_TIMEOUT_SECONDS or an
  explicit override): past it the attempt's whole process group is killed and the attempt fails;
* retries failed attempts with exponential backoff (tenacity; the registry's `attempts` and
  `backoff_seconds`); a refusal by a lane guard (business hours, exit 75) is a rule, not a fault,
  and is not retried;
* sweeps plugin config files and BATCH files a killed run left (run_files.py), before every
  attempt and after the last;
* checks the warehouse before Meltano starts: locked past its wait bound, the attempt fails at
  once and its records wait in the local journal (journal.py) until a later run replays them;
* records each attempt in ops.pipeline_runs (a windowed run: one record for the whole run);
* for a scheduled run, raises one alert per incident (`lane_failure:<task>`) and resolves it on
  the next success, and emits LaneFailed and RowsLoaded (metrics.py).

A killed attempt is as safe as a kill -9: the loader commits a batch before Meltano records its
state, so the retry re-sends from the last recorded state and the loader's keys absorb the
re-sent rows.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tenacity import RetryCallState, RetryError, Retrying, stop_after_attempt, wait_exponential

from brightcart_ops import metrics
from brightcart_ops.alerts import Alert, Alerter
from brightcart_ops.journal import OpsJournal
from brightcart_ops.landed import high_water_mark, rows_loaded_since
from brightcart_ops.locks import LockBusy, lane_lock
from brightcart_ops.opslog import PipelineRun, record_run, replay_runs, utcnow
from brightcart_ops.registry import Job, Lane, Registry, registry
from brightcart_ops.run_files import sweep_leftovers
from brightcart_ops.runtime import (
    PROJECT_ROOT,
    RUNNER_JOB_VARIABLE,
    meltano_bin,
    run_logged,
    step_env,
)
from brightcart_ops.settings import Settings
from brightcart_ops.warehouse import Warehouse, WarehouseLocked

REFUSED_EXIT_CODE = 75  # the lane guard refused a heavy read inside business hours
WAREHOUSE_LOCKED_EXIT_CODE = 73  # EX_CANTCREAT: the warehouse file stayed locked


class StepFailed(RuntimeError):
    def __init__(self, code: int, tail: str) -> None:
        super().__init__(f"exit code {code}: {tail}")
        self.code = code
        self.tail = tail


class WindowRunFailed(RuntimeError):
    """A windowed Meltano run failed after its retries (or could not start)."""


@dataclass(frozen=True)
class Window:
    """A bounded run of a job beside its scheduled state (a backfill, a repair).

    `env` narrows the job through Meltano's environment overrides; `args` are extra `meltano run`
    arguments (e.g. `--full-refresh --state-id-suffix backfill`)."""

    label: str
    env: Mapping[str, str] = field(default_factory=dict)
    args: tuple[str, ...] = ()


@dataclass
class JobResult:
    lane: str  # the task the job runs in (a lane's name, or `transform`)
    job: str
    status: str  # succeeded, failed, refused, skipped
    attempts: int
    rows_loaded: int
    high_water_mark: datetime | None
    error: str | None = None

    @property
    def exit_code(self) -> int:
        """The process exit code of `brightcart run`: only a failure is non-zero."""
        return 1 if self.status == "failed" else 0


def timeout_variable(job: str) -> str:
    return "BRIGHTCART_" + job.upper().replace("-", "_") + "_TIMEOUT_SECONDS"


def attempt_timeout(job: Job, override: float | None = None) -> float:
    """Seconds one attempt may take: the argument, the job's variable, the registry's value."""
    if override is not None:
        return override
    value = os.environ.get(timeout_variable(job.name), "")
    return float(value) if value else job.timeout_seconds


def meltano_run_dir(env: Mapping[str, str]) -> Path:
    """Meltano's run folder for this environment (plugin config files are written there)."""
    root = env.get("MELTANO_SYS_DIR_ROOT") or str(PROJECT_ROOT / ".meltano")
    return Path(root) / "run"


def replay_journal(warehouse: Warehouse, journal: OpsJournal, alerter: Alerter) -> None:
    """Write ops records journaled while the warehouse was locked (raises WarehouseLocked)."""
    with journal.replaying() as entries:
        replay_runs(warehouse, entries)
        alerter.replay(entries)


@dataclass
class _Run:
    """What one run of a job needs, resolved once."""

    settings: Settings
    job: Job
    lane: Lane | None
    environment: str
    window: Window | None
    warehouse: Warehouse
    alerter: Alerter
    journal: OpsJournal
    env: dict[str, str]
    log_path: Path
    timeout: float
    lock_fd: int | None = None

    @property
    def record_name(self) -> str:
        return f"{self.job.name}:{self.window.label}" if self.window else self.job.name

    @property
    def argv(self) -> list[str]:
        extra = list(self.window.args) if self.window else []
        # --force: a run killed with -9 stays `running` in Meltano's system database for minutes
        # and would block this one; the job lock already guarantees one run at a time.
        return [meltano_bin(), "--environment", self.environment, "run", "--force", *extra]

    def meltano(self) -> None:
        keep = () if self.lock_fd is None else (self.lock_fd,)
        code, tail = run_logged(
            [*self.argv, self.job.name],
            self.env,
            self.log_path,
            tail_lines=15,
            timeout_seconds=self.timeout,
            keep_fds=keep,
            cwd=self.settings.project_root,
        )
        if code != 0:
            raise StepFailed(code, tail)

    def mark(self) -> datetime | None:
        return high_water_mark(self.warehouse, self.lane.name) if self.lane else None


def run_job(
    settings: Settings,
    job: str,
    environment: str | None = None,
    *,
    window: Window | None = None,
    attempts: int | None = None,
    backoff_seconds: float | None = None,
    timeout_seconds: float | None = None,
    warehouse: Warehouse | None = None,
    alerter: Alerter | None = None,
    jobs: Registry | None = None,
) -> JobResult:
    """Run a Meltano job once (with retries). Never raises for a failed source or a locked
    warehouse: the result says what happened. Defaults come from the lane registry."""
    known = jobs or registry(settings.meltano_yml)
    spec = known.job(job)
    environment = environment or settings.environment
    warehouse = warehouse or Warehouse(settings)
    journal = OpsJournal(settings.home)
    alerter = alerter or Alerter(warehouse, journal=journal)
    if alerter.journal is None:
        alerter.journal = journal
    env = {
        **os.environ,
        **step_env(settings, environment),
        **(dict(window.env) if window else {}),
        RUNNER_JOB_VARIABLE: job,
    }
    name = f"{job}.{window.label}" if window else job
    run = _Run(
        settings=settings,
        job=spec,
        lane=known.lane_of_job(job),
        environment=environment,
        window=window,
        warehouse=warehouse,
        alerter=alerter,
        journal=journal,
        env=env,
        log_path=settings.home / "logs" / f"{name}.log",
        timeout=attempt_timeout(spec, timeout_seconds),
    )
    lane_name = run.lane.name if run.lane else None
    run_dir = meltano_run_dir(env)
    try:
        with lane_lock(job, settings.home) as lock_fd:
            run.lock_fd = lock_fd
            try:
                return _attempts(
                    run,
                    attempts or spec.attempts,
                    spec.backoff_seconds if backoff_seconds is None else backoff_seconds,
                    lambda: sweep_leftovers(job, lane_name, run_dir, settings.home),
                )
            finally:
                sweep_leftovers(job, lane_name, run_dir, settings.home)
    except LockBusy as busy:
        return JobResult(spec.task, job, "skipped", 0, 0, None, str(busy))


def _attempts(run: _Run, attempts: int, backoff: float, sweep: Callable[[], object]) -> JobResult:
    job, lane = run.job, run.lane
    hwm_before: datetime | None = None
    known_before = False
    attempt_no = 0
    total_rows = 0
    last_error: StepFailed | None = None
    succeeded = False
    window_record = PipelineRun(
        run.record_name, lane.name if lane else None, run.environment, 1, utcnow()
    )

    def one_attempt() -> None:
        nonlocal attempt_no, total_rows, last_error, succeeded, hwm_before, known_before
        attempt_no += 1
        record = PipelineRun(
            run.record_name, lane.name if lane else None, run.environment, attempt_no, utcnow()
        )
        run.warehouse.recheck()  # an earlier attempt may have found it locked
        reachable = True
        try:
            sweep()
            # The warehouse first: with the file held past its wait bound the loader could not
            # write either, and nothing of the source has moved yet.
            replay_journal(run.warehouse, run.journal, run.alerter)
            if not known_before:
                hwm_before, known_before = run.mark(), True
            record.window_start = hwm_before
            run.meltano()
            record.status = "succeeded"
            succeeded = True
        except WarehouseLocked as locked:
            reachable = False
            last_error = StepFailed(WAREHOUSE_LOCKED_EXIT_CODE, str(locked))
            record.status = "failed"
            record.error = last_error.tail[-2000:]
            raise last_error from locked
        except StepFailed as failed:
            last_error = failed
            record.status = "refused" if failed.code == REFUSED_EXIT_CODE else "failed"
            record.error = failed.tail[-2000:]
            raise
        finally:
            record.finished_at = utcnow()
            if reachable and lane is not None:
                try:
                    record.rows_loaded = rows_loaded_since(
                        run.warehouse, lane.name, record.started_at
                    )
                    total_rows += record.rows_loaded
                    record.window_end = run.mark()
                except WarehouseLocked:
                    pass  # recorded through the journal below
            if run.window is None:
                record_run(run.warehouse, record, run.journal)
            else:
                window_record.attempt = record.attempt
                window_record.status = record.status
                window_record.error = record.error

    retrying = Retrying(
        stop=stop_after_attempt(attempts),
        wait=wait_exponential(multiplier=backoff, max=backoff * 8),
        retry=_retryable,  # a refusal is a rule, not a fault: it is not retried
        reraise=False,
    )
    try:
        retrying(one_attempt)
    except (RetryError, StepFailed):
        pass
    try:
        hwm_after = run.mark()
    except WarehouseLocked:
        hwm_after = None
    refused = last_error is not None and last_error.code == REFUSED_EXIT_CODE
    status = "succeeded" if succeeded else "refused" if refused else "failed"
    error = None if succeeded or last_error is None else last_error.tail
    result = JobResult(job.task, job.name, status, attempt_no, total_rows, hwm_after, error)
    if run.window is not None:
        window_record.finished_at = utcnow()
        record_run(run.warehouse, window_record, run.journal)
        return result
    metrics.emit(metrics.LANE_FAILED, 1 if status == "failed" else 0, {"Lane": job.task})
    if lane is not None:
        metrics.emit(metrics.ROWS_LOADED, total_rows, {"Lane": lane.name})
    if succeeded:
        run.alerter.resolve("lane_failure", job.task, note=f"{job.name} succeeded")
    elif status == "failed":
        assert last_error is not None
        source = lane.source if lane else "SQLMesh and operations"
        run.alerter.raise_(
            Alert(
                kind="lane_failure",
                key=job.task,
                subject=f"{job.name} failed {attempt_no} times ({source})",
                detail=f"last error:\n{last_error.tail[-1500:]}\nlog: {run.log_path}",
            )
        )
    return result


def _retryable(retry_state: RetryCallState) -> bool:
    outcome = retry_state.outcome
    if outcome is None or not outcome.failed:
        return False
    exc = outcome.exception()
    return isinstance(exc, StepFailed) and exc.code != REFUSED_EXIT_CODE


def run_window(
    settings: Settings,
    job: str,
    window: Window,
    environment: str | None = None,
    attempts: int = 3,
    backoff_seconds: float = 2.0,
) -> JobResult:
    """A bounded run of `job` (run_job with a window); raises WindowRunFailed unless it succeeds."""
    result = run_job(
        settings,
        job,
        environment,
        window=window,
        attempts=attempts,
        backoff_seconds=backoff_seconds,
    )
    if result.status != "succeeded":
        log = settings.home / "logs" / f"{job}.{window.label}.log"
        raise WindowRunFailed(
            f"`meltano run {job}` ({window.label}) {result.status} after {result.attempts} "
            f"attempt(s); see {log}. Last lines:\n{result.error or ''}"
        )
    return result
