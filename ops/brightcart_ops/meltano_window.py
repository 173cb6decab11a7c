"""Run a Meltano job over a bounded window without touching the lane's incremental state.

Reconciliation repairs and backfills narrow an existing job through Meltano's environment
overrides (checked with `meltano config list`):

* `<PLUGIN>__SELECT` (JSON list) narrows the streams, e.g. `TAP_POSTGRES__FINANCE_FULL__SELECT`;
* `<PLUGIN>_STREAM_OPTIONS` (JSON object) gives tap-postgres `custom_where_clauses` per stream;
* `<PLUGIN>_STREAM_MAPS` (JSON object): the inherited aliases of streams that are NOT selected
  get `__key_properties__: []`, because singer-sdk rejects an alias map whose key column is not
  in a deselected stream's (empty) schema.

Backfills also pass `--full-refresh --state-id-suffix <name>`: Meltano then ignores and writes
a separate state id, so the hourly lane's bookmark is never moved back.

Taps that only know a start (tap-salesforce, tap-s3-csv) are bounded at the loader instead:
`<LOADER>_STREAM_MAPS` with a singer-sdk `__filter__` per stream keeps the records whose bound
column falls in the window (`loader_window`); the others are read but never reach a table.
"""

from __future__ import annotations

import json
import os
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path

from tenacity import Retrying, retry_if_exception_type, stop_after_attempt, wait_exponential

from brightcart_ops.lanes import JOBS, Lane, attempt_timeout, meltano_run_dir
from brightcart_ops.locks import lane_lock
from brightcart_ops.opslog import PipelineRun, record_run, utcnow
from brightcart_ops.run_files import sweep_leftovers
from brightcart_ops.runtime import meltano_bin, run_logged, step_env
from brightcart_ops.warehouse import Warehouse
from brightcart_world.settings import Settings

SHOP_TABLES = (
    "customers",
    "sellers",
    "products",
    "orders",
    "order_items",
    "payments",
    "refunds",
    "heartbeat",
)


class WindowRunFailed(RuntimeError):
    """A windowed Meltano run failed after its retries."""


@dataclass
class WindowRun:
    job: str
    env: dict[str, str] = field(default_factory=dict)
    args: list[str] = field(default_factory=list)
    label: str = ""
    lane: str = "shop"


def env_prefix(plugin: str) -> str:
    """Meltano's environment prefix of a plugin name: tap-postgres--finance-full -> ..."""
    return plugin.upper().replace("-", "_")


def iso(moment: datetime) -> str:
    return moment.isoformat()


def range_clause(column: str, windows: list[tuple[datetime, datetime]]) -> str:
    """A WHERE clause selecting rows whose `column` falls in any half-open window."""
    return " OR ".join(
        f"({column} >= '{iso(start)}' AND {column} < '{iso(end)}')" for start, end in windows
    )


def postgres_window(plugin: str, clauses: dict[str, str]) -> dict[str, str]:
    """Overrides that make a tap-postgres plugin read only the given tables, filtered."""
    prefix = env_prefix(plugin)
    options = {f"shop-{t}": {"custom_where_clauses": [clause]} for t, clause in clauses.items()}
    maps = {
        f"shop-{t}": {"__alias__": t}
        if t in clauses
        else {"__alias__": t, "__key_properties__": []}
        for t in SHOP_TABLES
    }
    return {
        f"{prefix}__SELECT": json.dumps([f"shop-{t}.*" for t in clauses]),
        f"{prefix}_STREAM_OPTIONS": json.dumps(options),
        f"{prefix}_STREAM_MAPS": json.dumps(maps),
    }


def _attempt(
    command: list[str], env: dict[str, str], log_path: Path, timeout: float, lock_fd: int | None
) -> None:
    keep = () if lock_fd is None else (lock_fd,)
    code, tail = run_logged(command, env, log_path, timeout_seconds=timeout, keep_fds=keep)
    if code != 0:
        raise WindowRunFailed(
            f"`{' '.join(command[1:])}` exited with {code}; see {log_path}. Last lines:\n" + tail
        )


def run_window(
    settings: Settings, run: WindowRun, environment: str = "dev", attempts: int = 3
) -> None:
    """Run the job once under the job's lock, retried with backoff; recorded in pipeline_runs."""
    env = {**os.environ, **step_env(settings, environment), **run.env}
    command = [meltano_bin(), "--environment", environment, "run", *run.args, run.job]
    log_path = settings.home / "logs" / f"{run.job}.{run.label or 'window'}.log"
    log_path.parent.mkdir(parents=True, exist_ok=True)
    record = PipelineRun(f"{run.job}:{run.label or 'window'}", run.lane, environment, 1, utcnow())
    lane = JOBS.get(run.job) or Lane(run.lane, run.job, run.lane)
    timeout = attempt_timeout(lane)
    run_dir = meltano_run_dir(env)
    try:
        with lane_lock(run.job, settings.home) as lock_fd:
            try:
                for attempt in Retrying(
                    stop=stop_after_attempt(attempts),
                    wait=wait_exponential(multiplier=2, max=30),
                    retry=retry_if_exception_type(WindowRunFailed),
                    reraise=True,
                ):
                    with attempt:
                        record.attempt = attempt.retry_state.attempt_number
                        sweep_leftovers(run.job, lane.name, run_dir, settings.home)
                        _attempt(command, env, log_path, timeout, lock_fd)
            finally:
                sweep_leftovers(run.job, lane.name, run_dir, settings.home)
        record.status = "succeeded"
    except Exception as exc:
        record.status = "failed"
        record.error = str(exc)[-2000:]
        raise
    finally:
        record.finished_at = utcnow()
        record_run(Warehouse(settings), record)


def text_range_filter(column: str, start: str, end: str) -> str:
    """A stream-map `__filter__` keeping records whose `column` text sorts in [start, end).

    ISO-8601 UTC text sorts like the time it names, and a bound given to the second (or as a
    date) compares correctly with values carrying fractions or a `Z`. A record without the
    column is kept: it cannot be placed in a window, and landing it again adds no version.
    """
    value = f"record.get({column!r})"
    return f"not {value} or {start!r} <= str({value}) < {end!r}"


def loader_window(plugin: str, columns: dict[str, str], start: str, end: str) -> dict[str, str]:
    """Overrides that make a singer-sdk loader drop records outside [start, end) per stream.

    `columns` maps each stream the tap emits to its bound column. The loader plugin must not
    rely on stream maps of its own in meltano.yml: the override replaces them.
    """
    maps = {
        stream: {"__filter__": text_range_filter(column, start, end)}
        for stream, column in columns.items()
    }
    return {f"{env_prefix(plugin)}_STREAM_MAPS": json.dumps(maps)}
