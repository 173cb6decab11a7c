"""`brightcart demo`: the whole pipeline, end to end, on a fresh local world.

Starts the three sources, generates a few days of BrightCart, lands them through the four lanes,
builds prod with `sqlmesh plan`, then runs hourly cycles (clock advance, lanes, `sqlmesh run`)
with publishing after each successful prod apply or run. It prints where the dashboard snapshot
and the lineage are, and stops everything it started.
"""

from __future__ import annotations

import os
import shutil
from datetime import UTC, datetime, time, timedelta

import typer
from rich.console import Console
from rich.table import Table

from brightcart_ops import cli_support
from brightcart_ops.lanes import run_lane
from brightcart_ops.registry import registry
from brightcart_ops.transform import run_sqlmesh
from brightcart_world.generator import advance, generate
from brightcart_world.settings import Settings, load, write_world_env
from brightcart_world.sources import LocalSources

console = Console()

# What a fresh demo world removes before it starts (it never touches the source servers' data
# directories: the generator rebuilds the sources itself).
DERIVED = ("warehouse.duckdb", "warehouse.state.duckdb", "meltano.db", "dashboards", "alerts.jsonl")


def _fresh(settings: Settings) -> None:
    for name in DERIVED:
        path = settings.home / name
        if path.is_dir():
            shutil.rmtree(path)
        elif path.exists():
            path.unlink()
    if settings.warehouse.exists():
        settings.warehouse.unlink()


def _lanes(settings: Settings, title: str) -> None:
    table = Table("lane", "status", "rows landed", "landed up to", title=title)
    for name, lane in registry().lanes.items():
        result = run_lane(settings, lane.job, "dev", attempts=2, backoff_seconds=2)
        table.add_row(name, result.status, str(result.rows_loaded), str(result.high_water_mark))
    console.print(table)


def _sqlmesh(settings: Settings, args: list[str], job: str) -> None:
    result = run_sqlmesh(settings, args, job=job)
    status = "[green]ok[/green]" if result.exit_code == 0 else "[red]failed[/red]"
    console.print(f"sqlmesh {' '.join(args)}: {status}")
    if result.exit_code != 0:
        console.print(result.output_tail)
        raise SystemExit(f"sqlmesh {args[0]} failed; see {settings.home / 'logs' / (job + '.log')}")


def run_demo(
    settings: Settings, start: datetime, days: int, hours: int, scale: float, seed: int
) -> None:
    os.environ.setdefault("BRIGHTCART_WAREHOUSE_START", start.date().isoformat())
    os.environ.setdefault("BRIGHTCART_CLOCK", "world")  # freshness against the simulated clock
    sources = LocalSources(settings)
    for key, value in sources.env().items():
        os.environ[key] = value
    _fresh(settings)
    try:
        console.rule("1. sources")
        sources.up()
        console.rule(f"2. generate {days} days from {start:%Y-%m-%d} (seed {seed}, scale {scale})")
        generate(settings, seed=seed, start=start, end=start + timedelta(days=days), scale=scale)
        # `eval "$(brightcart env)"` then gives a shell the same warehouse start as this demo,
        # and `brightcart status` the same clock as the dashboards.
        write_world_env(
            settings,
            {
                "BRIGHTCART_WAREHOUSE_START": os.environ["BRIGHTCART_WAREHOUSE_START"],
                "BRIGHTCART_CLOCK": os.environ["BRIGHTCART_CLOCK"],
            },
        )
        console.rule("3. land all four lanes")
        _lanes(settings, "first load")
        console.rule("4. build prod: sqlmesh plan (publishes after a successful apply)")
        _sqlmesh(settings, ["plan", "prod", "--auto-apply", "--no-prompts"], "plan-prod")
        for hour in range(1, hours + 1):
            console.rule(f"5.{hour} hourly cycle: clock +1 h, lanes, sqlmesh run")
            advance(settings, hours=1)
            _lanes(settings, f"hour {hour}")
            _sqlmesh(settings, ["run", "prod"], "transform")
        console.rule("6. where to look")
        _summary(settings)
    finally:
        console.rule("stopping the sources")
        sources.down()


def _summary(settings: Settings) -> None:
    from sqlmesh import Context  # imported here: every `brightcart` command would pay for it

    from brightcart_ops.lineage import raw_columns, trace
    from brightcart_ops.settings import PROJECT_ROOT

    dashboards = settings.home / "dashboards" / "index.html"
    shown = f"file://{dashboards}" if dashboards.exists() else "not written"
    console.print(f"dashboard snapshot: {shown}")
    console.print(f"warehouse (DuckDB): {settings.warehouse}")
    context = Context(paths=str(PROJECT_ROOT))
    edges = trace(context, "bi.executive_daily", "net_revenue")
    table = Table("raw column", "comes from", title="lineage of bi.executive_daily.net_revenue")
    for raw_table, column, origin in raw_columns(edges):
        table.add_row(f"{raw_table}.{column}", origin)
    console.print(table)
    console.print(
        "column lineage in the UI: `.venv/bin/brightcart ui` then open "
        "http://127.0.0.1:8000/data-catalog/models/bi.executive_daily and click net_revenue "
        "(SQLMesh's UI, CTEs folded so the edges reach the raw tables; no plan loop)"
    )
    console.print(
        "screenshots of every dashboard page: `.venv/bin/brightcart publish screenshots` "
        f"(PNGs in {settings.home / 'screenshots'})"
    )
    console.print(f"logs: {settings.home / 'logs'}   alerts: {settings.home / 'alerts.jsonl'}")


def default_start() -> datetime:
    return datetime(2026, 11, 1, tzinfo=UTC)


app = typer.Typer(help="Run the pipeline end to end on a fresh local world, then stop everything.")


@app.callback(invoke_without_command=True)
def demo_command(
    start: str = typer.Option("2026-11-01", help="first generated day (UTC)"),
    days: int = typer.Option(7, min=1, max=120, help="days of history to generate"),
    hours: int = typer.Option(2, min=0, help="hourly cycles to run after the first build"),
    scale: float = typer.Option(0.002, help="1.0 = 1:100 of production"),
    seed: int = typer.Option(42, help="generator seed"),
) -> None:
    """Run the pipeline end to end on a fresh local world, then stop everything."""
    from brightcart_world.generator.volumes import Volumes

    first = datetime.combine(cli_support.parse_day(start, "--start"), time.min, UTC)
    if first.date() + timedelta(days=days) > cli_support.today() + timedelta(days=1):
        cli_support.usage(
            f"{days} days from {start} run past today ({cli_support.today()} UTC); "
            "start earlier or generate fewer days",
            "--start",
        )
    try:
        Volumes(scale)
    except ValueError as exc:
        cli_support.usage(str(exc), "--scale")
    run_demo(load(), first, days, hours, scale, seed)
