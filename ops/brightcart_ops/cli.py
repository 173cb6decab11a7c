"""The `brightcart` command: one entry point for running the pipeline.

Production's command has what a scheduled task and an operator need (`run`, `lane`, `transform`,
`status`, `publish`, finance operations, `env`, `lineage`). Commands of the local world (`world`,
`sources`, `demo`) are mounted from the `brightcart.commands` entry-point group, which only the
dev-only `brightcart-world` distribution registers: production's image simply lacks them. They
are imported only when a command line names one or the help lists them (`ExtensionGroup`): a lane
or transform run does not pay for the world generator's imports.
"""

from __future__ import annotations

import shlex
import sys
from functools import cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

import typer
from rich.console import Console
from rich.table import Table
from typer.core import TyperGroup

from brightcart_ops import cli_support, finance_cli, status
from brightcart_ops.diagnose import reason
from brightcart_ops.lanes import run_lane
from brightcart_ops.publish.cli import publish_app
from brightcart_ops.registry import registry
from brightcart_ops.review import cli as review_cli
from brightcart_ops.runner import run_job
from brightcart_ops.runtime import step_env
from brightcart_ops.settings import load as load_settings

COMMAND_GROUP = "brightcart.commands"


class Command(typer.Typer):
    """The `brightcart` app: run as a program, it follows the one error convention
    (brightcart_ops.cli_support: one line on stderr, exit 2 bad usage, 1 failed, 0 success)."""

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        sys.exit(cli_support.main(typer.main.get_command(self), kwargs.get("args")))


@cache
def extensions() -> dict[str, EntryPoint]:
    """The Typer apps other installed distributions register under COMMAND_GROUP, by name."""
    return {entry.name: entry for entry in entry_points(group=COMMAND_GROUP)}


class ExtensionGroup(TyperGroup):
    """`brightcart`'s command group: it lists the extensions' commands by name and imports one
    only when it is asked for it (a command line naming it, or the help listing the commands)."""

    def list_commands(self, ctx: Any) -> list[str]:
        names = super().list_commands(ctx)
        return [*names, *(name for name in extensions() if name not in names)]

    def get_command(self, ctx: Any, cmd_name: str) -> Any:
        command = super().get_command(ctx, cmd_name)
        if command is None and cmd_name in extensions():
            # the command Typer builds for the app mounted with add_typer under that name
            holder = typer.Typer()
            holder.add_typer(extensions()[cmd_name].load(), name=cmd_name)
            command = typer.main.get_group(holder).commands[cmd_name]
            self.add_command(command, cmd_name)
        return command


app = Command(
    cls=ExtensionGroup,
    help="BrightCart analytics pipeline. Errors: one line on stderr; exit 2 for bad usage, "
    "1 for a failed operation, 0 on success. Windows are end-exclusive UTC days.",
    no_args_is_help=True,
)
lane_app = typer.Typer(help="Run extraction lanes (Meltano jobs), locked and retried.")
app.add_typer(lane_app, name="lane")
app.add_typer(publish_app, name="publish")
app.command("status")(status.command)
finance_cli.register(app)
review_cli.register(app)
console = Console()

ENVIRONMENT = typer.Option(
    None,
    "--environment",
    "-e",
    help="Meltano environment: dev, ci, prod (default: MELTANO_ENVIRONMENT, else dev)",
)


@app.command("env")
def env_command(environment: str | None = ENVIRONMENT) -> None:
    """Print `export` lines so a shell can call meltano or sqlmesh directly.

    Only what Meltano and SQLMesh read: addresses, the local world's credentials and endpoints
    (from $BRIGHTCART_HOME/secrets/world.env), never an HTTP proxy or a CA bundle."""
    cli_support.check_environment(environment)
    for key, value in sorted(step_env(load_settings(), environment).items()):
        typer.echo(f"export {key}={shlex.quote(value)}")


@app.command("run")
def run_command(
    job: str = typer.Argument(..., help="a Meltano job of meltano.yml (shop-lane, transform, ...)"),
    environment: str | None = ENVIRONMENT,
    attempts: int | None = typer.Option(None, help="tries (default: the job's, meltano.yml)"),
    timeout: float | None = typer.Option(
        None, help="seconds one attempt may take (default: the job's, meltano.yml)"
    ),
) -> None:
    """Run one Meltano job as its schedule does: the command of every scheduled task.

    Lock, attempt timeout, retries with backoff, leftover sweep, run record, one alert per
    incident and the LaneFailed metric; exits 1 when the job failed."""
    settings = load_settings()
    known = registry(settings.meltano_yml)
    if job not in known.jobs:
        cli_support.usage(f"unknown job {job!r}; choose from {', '.join(known.jobs)}", "JOB")
    cli_support.check_environment(environment)
    result = run_job(settings, job, environment, attempts=attempts, timeout_seconds=timeout)
    console.print(
        f"{result.job}: {result.status} after {result.attempts} attempt(s), "
        f"{result.rows_loaded} rows, landed up to {result.high_water_mark or '-'}"
    )
    if result.error and result.status != "succeeded":
        console.print(result.error[-1500:], markup=False)
    lane = known.lane_of_job(job)
    why = reason(result.status, result.error, lane.source if lane else job)
    if result.exit_code:
        cli_support.fail(f"{job}: {why}")
    if why:
        typer.echo(f"{job}: {why}", err=True)


@lane_app.command("run")
def lane_run(
    lanes: list[str] = typer.Argument(None, help="lanes (or lane jobs) to run (all lanes)"),
    environment: str | None = ENVIRONMENT,
    attempts: int | None = typer.Option(None, help="tries before the lane is reported failed"),
    backoff: float | None = typer.Option(None, help="seconds before the first retry (doubling)"),
    timeout: float | None = typer.Option(
        None,
        help="seconds one attempt may take before its process group is killed "
        "(default: the lane's own limit, or BRIGHTCART_<JOB>_TIMEOUT_SECONDS)",
    ),
) -> None:
    """Run lanes one after another; a failed lane does not stop the others."""
    settings = load_settings()
    known = registry(settings.meltano_yml)
    names = lanes or list(known.lanes)
    lane_jobs = {n for n, j in known.jobs.items() if j.lane}
    unknown = [n for n in names if n not in known.lanes and n not in lane_jobs]
    if unknown:
        cli_support.usage(
            f"unknown lane {', '.join(unknown)}; choose from {', '.join(known.lanes)}", "LANES"
        )
    cli_support.check_environment(environment)
    table = Table("lane", "job", "status", "attempts", "rows", "landed up to", "why")
    failed: list[str] = []
    for name in names:
        job = known.lanes[name].job if name in known.lanes else name
        result = run_lane(
            settings,
            job,
            environment or settings.environment,
            attempts=attempts,
            backoff_seconds=backoff,
            timeout_seconds=timeout,
        )
        lane = known.lane_of_job(job)
        why = reason(result.status, result.error, lane.source if lane else job)
        if result.status == "failed":
            failed.append(f"{result.lane}: {why}")
        elif why:  # skipped or refused: not a failure, but the shell is told why
            typer.echo(f"{result.lane}: {why}", err=True)
        table.add_row(
            result.lane,
            result.job,
            result.status,
            str(result.attempts),
            str(result.rows_loaded),
            str(result.high_water_mark or "-"),
            why,
        )
    console.print(table)
    if failed:
        cli_support.fail("; ".join(failed))


@app.command("transform")
def transform_command(
    environment: str | None = ENVIRONMENT,
    check_slas: bool = typer.Option(
        True,
        "--check-slas/--no-check-slas",
        help="after the run, check freshness and SLAs: alerts, FreshnessLagMinutes, "
        "SourceUnreachable",
    ),
) -> None:
    """`sqlmesh run prod`: models wait for their lanes through signals; publish follows success.

    Then the freshness and SLA check (`brightcart status --check`), so the hourly run keeps the
    freshness metric the stack's alarms watch."""
    from brightcart_ops.transform import run_sqlmesh

    cli_support.check_environment(environment)
    settings = load_settings()
    result = run_sqlmesh(settings, ["run", "prod"], environment or settings.environment)
    console.print(result.output_tail, markup=False)
    if check_slas:
        from brightcart_ops.status import check_slas as check

        try:
            for key in check():
                console.print(f"alert raised: {key}", markup=False)
        except Exception as error:  # noqa: BLE001 - the run's outcome is the exit code
            console.print(f"the SLA check failed: {type(error).__name__}: {error}", markup=False)
    if result.exit_code:
        cli_support.fail(
            f"sqlmesh run prod failed (exit {result.exit_code}); "
            f"see {settings.home / 'logs' / 'transform.log'}"
        )


@app.command("lineage")
def lineage_command(
    model: str = typer.Argument("bi.executive_daily"),
    column: str = typer.Argument("net_revenue"),
) -> None:
    """Column lineage of a model's column down to the raw landing and its source."""
    from sqlmesh import Context

    from brightcart_ops.lineage import check_column, raw_columns, trace
    from brightcart_ops.runtime import PROJECT_ROOT

    context = Context(paths=str(PROJECT_ROOT))
    problem = check_column(context, model, column)
    if problem:
        cli_support.usage(problem)
    edges = trace(context, model, column)
    table = Table("model.column", "reads", title=f"lineage of {model}.{column}")
    for edge in edges:
        table.add_row(f"{edge.model}.{edge.column}", f"{edge.parent}.{edge.parent_column}")
    console.print(table)
    for raw_table, raw_column, origin in raw_columns(edges):
        console.print(f"{raw_table}.{raw_column} <- {origin}")


@app.command("ui")
def ui_command(
    port: int = typer.Option(8000, help="port on 127.0.0.1"),
    host: str = typer.Option("127.0.0.1", help="address to bind"),
    mode: str = typer.Option(
        "catalog",
        help="catalog: data catalog and column lineage, no plans (nothing re-checks signals); "
        "ide or plan: SQLMesh's full UI, which re-plans whenever a project file changes",
    ),
    project: str = typer.Option("", help="SQLMesh project folder (default: this repository)"),
) -> None:
    """SQLMesh's UI with column lineage drawn through CTEs (see brightcart_ops.lineage_ui)."""
    from brightcart_ops.lineage_ui import UI_MODES, serve
    from brightcart_ops.settings import PROJECT_ROOT

    if mode not in UI_MODES:
        raise typer.BadParameter(
            f"{mode!r}: expected one of {', '.join(UI_MODES)}", param_hint="--mode"
        )
    console.print(
        f"SQLMesh UI ({mode} mode) on http://{host}:{port}/ - column lineage: "
        f"http://{host}:{port}/data-catalog/models/bi.executive_daily"
    )
    from pathlib import Path

    serve(Path(project) if project else PROJECT_ROOT, host, port, mode)


if __name__ == "__main__":
    app()
