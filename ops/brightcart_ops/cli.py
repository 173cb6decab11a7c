"""The `brightcart` command: one entry point for running the pipeline."""

from __future__ import annotations

import shlex

import typer
from rich.console import Console
from rich.table import Table

from brightcart_ops import finance_cli, status
from brightcart_ops.lanes import JOBS, LANES, run_lane
from brightcart_ops.publish.cli import publish_app
from brightcart_ops.review import cli as review_cli
from brightcart_ops.runtime import step_env
from brightcart_world.generator.cli import app as world_app
from brightcart_world.settings import load as load_settings
from brightcart_world.sources.cli import app as sources_app

app = typer.Typer(help="BrightCart analytics pipeline.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(world_app, name="world")
lane_app = typer.Typer(help="Run extraction lanes (Meltano jobs), locked and retried.")
app.add_typer(lane_app, name="lane")
app.add_typer(publish_app, name="publish")
app.command("status")(status.command)
finance_cli.register(app)
review_cli.register(app)
console = Console()

LANE_NAMES = ", ".join(LANES)
ENVIRONMENT = typer.Option("dev", "--environment", "-e", help="Meltano environment: dev, ci, prod")


@app.command("env")
def env_command(environment: str = ENVIRONMENT) -> None:
    """Print `export` lines so a shell can call meltano or sqlmesh directly."""
    for key, value in sorted(step_env(load_settings(), environment).items()):
        typer.echo(f"export {key}={shlex.quote(value)}")


@lane_app.command("run")
def lane_run(
    lanes: list[str] = typer.Argument(None, help=f"lanes to run: {LANE_NAMES} (all)"),
    environment: str = ENVIRONMENT,
    attempts: int = typer.Option(3, help="tries before the lane is reported failed"),
    backoff: float = typer.Option(5.0, help="seconds before the first retry (then doubling)"),
    timeout: float | None = typer.Option(
        None,
        help="seconds one attempt may take before its process group is killed "
        "(default: the lane's own limit, or BRIGHTCART_<JOB>_TIMEOUT_SECONDS)",
    ),
) -> None:
    """Run lanes one after another; a failed lane does not stop the others."""
    settings = load_settings()
    names = lanes or list(LANES)
    unknown = [n for n in names if n not in LANES and n not in JOBS]
    if unknown:
        raise typer.BadParameter(f"unknown lane {unknown}; choose from {', '.join(LANES)}")
    table = Table("lane", "job", "status", "attempts", "rows", "landed up to")
    failed = False
    for name in names:
        job = LANES[name].job if name in LANES else name
        result = run_lane(
            settings,
            job,
            environment,
            attempts=attempts,
            backoff_seconds=backoff,
            timeout_seconds=timeout,
        )
        failed |= result.status == "failed"
        table.add_row(
            result.lane,
            result.job,
            result.status,
            str(result.attempts),
            str(result.rows_loaded),
            str(result.high_water_mark or "-"),
        )
    console.print(table)
    if failed:
        raise typer.Exit(1)


@app.command("transform")
def transform_command(environment: str = ENVIRONMENT) -> None:
    """`sqlmesh run prod`: models wait for their lanes through signals; publish follows success."""
    from brightcart_ops.transform import run_sqlmesh

    result = run_sqlmesh(load_settings(), ["run", "prod"], environment)
    console.print(result.output_tail)
    raise typer.Exit(result.exit_code)


@app.command("demo")
def demo_command(
    start: str = typer.Option("2026-11-01", help="first generated day (UTC)"),
    days: int = typer.Option(7, help="days of history to generate"),
    hours: int = typer.Option(2, help="hourly cycles to run after the first build"),
    scale: float = typer.Option(0.002, help="1.0 = 1:100 of production"),
    seed: int = typer.Option(42, help="generator seed"),
) -> None:
    """Run the pipeline end to end on a fresh local world, then stop everything."""
    from datetime import UTC, datetime

    from brightcart_ops.demo import run_demo

    first = datetime.fromisoformat(start).replace(tzinfo=UTC)
    run_demo(load_settings(), first, days, hours, scale, seed)


@app.command("lineage")
def lineage_command(
    model: str = typer.Argument("bi.executive_daily"),
    column: str = typer.Argument("net_revenue"),
) -> None:
    """Column lineage of a model's column down to the raw landing and its source."""
    from sqlmesh import Context

    from brightcart_ops.lineage import raw_columns, trace
    from brightcart_ops.runtime import PROJECT_ROOT

    edges = trace(Context(paths=str(PROJECT_ROOT)), model, column)
    table = Table("model.column", "reads", title=f"lineage of {model}.{column}")
    for edge in edges:
        table.add_row(f"{edge.model}.{edge.column}", f"{edge.parent}.{edge.parent_column}")
    console.print(table)
    for raw_table, raw_column, origin in raw_columns(edges):
        console.print(f"{raw_table}.{raw_column} <- {origin}")


if __name__ == "__main__":
    app()
