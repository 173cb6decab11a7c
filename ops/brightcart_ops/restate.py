"""Restate SQLMesh models in prod for a window of UTC days (and, by SQLMesh, their downstream)."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date
from pathlib import Path

from brightcart_ops.settings import Settings
from brightcart_ops.transform import StepResult, run_sqlmesh


class RestateFailed(RuntimeError):
    """`sqlmesh plan prod --restate-model ...` did not succeed."""


def restate_command(
    models: Sequence[str], first_day: date, last_day: date, project: Path | None = None
) -> list[str]:
    """The sqlmesh arguments; `--end` is the last day, inclusive, as SQLMesh reads a date."""
    args = ["--paths", str(project)] if project else []
    args += ["plan", "prod"]
    for model in models:
        args += ["--restate-model", model]
    return [
        *args,
        "--start",
        first_day.isoformat(),
        "--end",
        last_day.isoformat(),
        "--auto-apply",
        "--no-prompts",
    ]


def restate(
    settings: Settings,
    models: Sequence[str],
    first_day: date,
    last_day: date,
    environment: str = "dev",
    project: Path | None = None,
) -> StepResult:
    """Restate in prod; `project` defaults to the repository's SQLMesh project."""
    result = run_sqlmesh(
        settings, restate_command(models, first_day, last_day, project), environment, "restate"
    )
    if result.exit_code != 0:
        raise RestateFailed(
            f"restating {', '.join(models)} for {first_day}..{last_day} failed "
            f"(exit {result.exit_code}); see {settings.home / 'logs' / 'restate.log'} and rerun "
            f"the same command once the cause is fixed (restating is idempotent):\n"
            + result.output_tail[-1500:]
        )
    return result
