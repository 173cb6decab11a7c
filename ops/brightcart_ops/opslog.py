"""The ops tables: an append-only record of what the pipeline did.

Each table belongs to one module (pipeline runs here, alerts in alerts.py, publishes in publish,
reconciliation in reconcile, the audit trail in audit_trail); every module declares its DDL with
`ensure()` so that a fresh warehouse needs no migration step.
"""

from __future__ import annotations

import os
import uuid
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from datetime import UTC, datetime
from typing import Any

from brightcart_ops.journal import OpsJournal, from_json_time
from brightcart_ops.warehouse import Warehouse, WarehouseLocked

SCHEMA = "ops"

PIPELINE_RUNS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.pipeline_runs (
    run_id VARCHAR NOT NULL,          -- one per attempt of a step
    job VARCHAR NOT NULL,             -- shop-lane, events-lane, transform, reconcile, ...
    lane VARCHAR,                     -- source lane, null for transform/publish steps
    environment VARCHAR NOT NULL,     -- dev, ci, prod
    attempt INTEGER NOT NULL,         -- 1 for the first try, then retries
    started_at TIMESTAMPTZ NOT NULL,
    finished_at TIMESTAMPTZ,
    duration_s DOUBLE PRECISION,
    status VARCHAR NOT NULL,          -- succeeded, failed, refused, skipped
    rows_loaded BIGINT,               -- rows the loader inserted during the attempt
    window_start TIMESTAMPTZ,         -- the lane's high-water mark before the attempt
    window_end TIMESTAMPTZ,           -- ... and after it
    error VARCHAR(65535)              -- last lines of the failure, secrets masked
)
"""


def utcnow() -> datetime:
    return datetime.now(UTC)


def business_clock() -> str:
    """Which clock business_now() reads: 'world' (a local world's) or 'wall'.

    BRIGHTCART_CLOCK from the process environment, else from the world's `world.env` (so a new
    shell's `brightcart status` reads the same clock as the demo's dashboards)."""
    if "BRIGHTCART_CLOCK" in os.environ:
        return "world" if os.environ["BRIGHTCART_CLOCK"] == "world" else "wall"
    from brightcart_ops.settings import load

    return load().clock


def business_now() -> datetime:
    """'Now' for freshness and SLAs: the wall clock, or a local world's simulated clock.

    A local world (BRIGHTCART_CLOCK=world, which `brightcart demo` writes into world.env) lives
    on the generator's clock, days behind the wall clock; measured against the wall clock every
    SLA would read breached. Production never sets it.
    """
    if business_clock() == "world":
        import psycopg

        from brightcart_ops.settings import load

        with psycopg.connect(load().pg_dsn) as con:
            row = con.execute("SELECT now FROM generator.clock").fetchone()
        if row and isinstance(row[0], datetime):
            return row[0]
    return utcnow()


def new_id() -> str:
    return uuid.uuid4().hex


def ensure(warehouse: Warehouse, ddl: Sequence[str]) -> None:
    warehouse.executescript([f"CREATE SCHEMA IF NOT EXISTS {SCHEMA}", *ddl])


@dataclass
class PipelineRun:
    job: str
    lane: str | None
    environment: str
    attempt: int
    started_at: datetime
    run_id: str = ""
    finished_at: datetime | None = None
    status: str = "running"
    rows_loaded: int | None = None
    window_start: datetime | None = None
    window_end: datetime | None = None
    error: str | None = None

    def __post_init__(self) -> None:
        self.run_id = self.run_id or new_id()

    @property
    def duration_s(self) -> float | None:
        if self.finished_at is None:
            return None
        return (self.finished_at - self.started_at).total_seconds()


def record_run(warehouse: Warehouse, run: PipelineRun, journal: OpsJournal | None = None) -> None:
    """Insert the run into ops.pipeline_runs; with a journal, a locked warehouse journals it."""
    try:
        ensure(warehouse, [PIPELINE_RUNS_DDL])
        _insert_run(warehouse, run)
    except WarehouseLocked:
        if journal is None:
            raise
        journal.append("pipeline_run", asdict(run))


def _insert_run(warehouse: Warehouse, run: PipelineRun) -> None:
    warehouse.execute(
        f"INSERT INTO {SCHEMA}.pipeline_runs VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            run.run_id,
            run.job,
            run.lane,
            run.environment,
            run.attempt,
            run.started_at,
            run.finished_at,
            run.duration_s,
            run.status,
            run.rows_loaded,
            run.window_start,
            run.window_end,
            run.error,
        ),
    )


def replay_runs(warehouse: Warehouse, entries: Sequence[dict[str, Any]]) -> int:
    """Insert journaled runs that ops.pipeline_runs does not hold yet. Returns how many."""
    runs = [e for e in entries if e.get("kind") == "pipeline_run"]
    if not runs:
        return 0
    ensure(warehouse, [PIPELINE_RUNS_DDL])
    inserted = 0
    for entry in runs:
        if warehouse.query(
            f"SELECT 1 FROM {SCHEMA}.pipeline_runs WHERE run_id = ?", (entry["run_id"],)
        ):
            continue
        started = from_json_time(entry["started_at"])
        assert started is not None, entry
        run = PipelineRun(
            job=entry["job"],
            lane=entry["lane"],
            environment=entry["environment"],
            attempt=int(entry["attempt"]),
            started_at=started,
            run_id=entry["run_id"],
            finished_at=from_json_time(entry["finished_at"]),
            status=entry["status"],
            rows_loaded=entry["rows_loaded"],
            window_start=from_json_time(entry["window_start"]),
            window_end=from_json_time(entry["window_end"]),
            error=entry["error"],
        )
        _insert_run(warehouse, run)
        inserted += 1
    return inserted
