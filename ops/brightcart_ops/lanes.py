"""Run one extraction lane as its schedule does: `run_lane` is `run_job` on a lane's job.

A lane is a Meltano job (`meltano run shop-lane`, ...) declared in the lane registry
(registry.py). Lanes are independent: each runs in its own process (its own Fargate task in
production), so one source's outage never stops another; the SQLMesh models that read a failed
lane wait through their signals, the rest go on. Everything a run does (lock, attempt timeout,
retries, sweeps, journal, run records, alert, metrics) is the job runner's (runner.py).
"""

from __future__ import annotations

from brightcart_ops.alerts import Alerter
from brightcart_ops.runner import JobResult, run_job
from brightcart_ops.settings import Settings
from brightcart_ops.warehouse import Warehouse

LaneResult = JobResult


def run_lane(
    settings: Settings,
    job: str,
    environment: str = "dev",
    attempts: int | None = None,
    backoff_seconds: float | None = None,
    warehouse: Warehouse | None = None,
    alerter: Alerter | None = None,
    timeout_seconds: float | None = None,
) -> LaneResult:
    """Run a lane's job once (with retries); never raises for a failed source or a locked
    warehouse. Attempts, backoff and each attempt's timeout default to the registry's."""
    return run_job(
        settings,
        job,
        environment,
        attempts=attempts,
        backoff_seconds=backoff_seconds,
        timeout_seconds=timeout_seconds,
        warehouse=warehouse,
        alerter=alerter,
    )
