"""The transformation step: `sqlmesh run` of prod, recorded like every other step.

Models wait for their lanes through signals, so this runs on its own schedule; a lane that failed
only holds back the models that read it. Publishing to the BI tool happens in SQLMesh's
notification target after a successful run, never here.
"""

from __future__ import annotations

import os
import sys
from dataclasses import dataclass
from datetime import UTC
from pathlib import Path

from brightcart_ops.journal import OpsJournal
from brightcart_ops.opslog import PipelineRun, business_clock, business_now, record_run, utcnow
from brightcart_ops.runtime import RUNNER_JOB_VARIABLE, run_logged, step_env
from brightcart_ops.settings import Settings
from brightcart_ops.warehouse import Warehouse


@dataclass
class StepResult:
    status: str
    exit_code: int
    output_tail: str


# The sqlmesh commands whose "now" decides what is due, and the option that sets it: `plan` takes
# an execution time (what is due, and what the freshness audit measures), `run` has no such option
# and takes the end of the intervals it may run.
CLOCK_OPTION = {"plan": "--execution-time", "run": "--end"}


def on_business_clock(args: list[str]) -> list[str]:
    """`sqlmesh plan` / `run` at the business clock's time.

    Production runs on the wall clock, SQLMesh's default, and gets the arguments unchanged. A
    local world (BRIGHTCART_CLOCK=world) lives days behind the wall clock: without its own time
    as the execution time, the freshness audit (`assert_source_fresh`, against @execution_ts)
    would find every lane weeks late and alert, and a run would take every interval up to the
    wall clock as due. An explicit clock option wins."""
    if business_clock() != "world" or not args or args[0] not in CLOCK_OPTION:
        return args
    option = CLOCK_OPTION[args[0]]
    if any(arg == option or arg.startswith(f"{option}=") for arg in args):
        return args
    now = business_now().astimezone(UTC)
    return [*args, option, now.strftime("%Y-%m-%d %H:%M:%S")]


def sqlmesh_bin() -> str:
    beside = Path(sys.executable).parent / "sqlmesh"
    return str(beside) if beside.exists() else "sqlmesh"


def run_sqlmesh(
    settings: Settings, args: list[str], environment: str = "dev", job: str = "transform"
) -> StepResult:
    """Run a sqlmesh command in the project, log it, record it in ops.pipeline_runs.

    Under the job runner (`brightcart run transform`), the runner records the job's attempts:
    this step then records nothing itself, so one run is one row."""
    env = {**os.environ, **step_env(settings, environment)}
    gateway = env.get("BRIGHTCART_GATEWAY", "local")
    log_path = settings.home / "logs" / f"{job}.log"
    run = PipelineRun(job, None, environment, 1, utcnow())
    command = [sqlmesh_bin(), "--gateway", gateway, *on_business_clock(args)]
    code, tail = run_logged(command, env, log_path, 40)
    run.finished_at = utcnow()
    run.status = "succeeded" if code == 0 else "failed"
    run.error = None if code == 0 else tail[-2000:]
    if os.environ.get(RUNNER_JOB_VARIABLE) != job:
        # a warehouse locked past its wait bound: the record waits in the journal for the next
        # lane
        record_run(Warehouse(settings), run, OpsJournal(settings.home))
    return StepResult(run.status, code, tail)
