"""The `brightcart` command: one entry point for running the pipeline."""

from __future__ import annotations

import shlex

import typer
from rich.console import Console
from rich.table import Table

from brightcart_ops.lanes import JOBS, LANES, run_lane
from brightcart_ops.runtime import step_env
from brightcart_world.generator.cli import app as world_app
from brightcart_world.settings import load as load_settings
from brightcart_world.sources.cli import app as sources_app

app = typer.Typer(help="BrightCart analytics pipeline.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(world_app, name="world")
lane_app = typer.Typer(help="Run extraction lanes (Meltano jobs), locked and retried.")
app.add_typer(lane_app, name="lane")
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
        result = run_lane(settings, job, environment, attempts=attempts, backoff_seconds=backoff)
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


if __name__ == "__main__":
    app()
