"""`brightcart world ...` commands."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import datetime, timedelta
from typing import Annotated, NoReturn

import typer
from rich.console import Console
from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn, TimeRemainingColumn
from rich.table import Table

from brightcart_ops import cli_support
from brightcart_world import settings as settings_module
from brightcart_world.generator import api
from brightcart_world.generator.database import SourceDatabaseError
from brightcart_world.generator.faults import FAULT_KINDS, FaultError, FaultSpec
from brightcart_world.generator.manifest import Manifest
from brightcart_world.generator.volumes import Volumes

app = typer.Typer(help="Generate BrightCart data and advance its clock.", no_args_is_help=True)
console = Console()

FaultOption = Annotated[
    list[str] | None,
    typer.Option("--fault", help="source:kind[:count], e.g. events:malformed_json:3 (repeatable)"),
]


def _parse_time(text: str, name: str) -> datetime:
    return cli_support.parse_moment(text, name)


def _check_hours(hours: int, what: str) -> None:
    if not 1 <= hours <= api.MAX_HOURS:
        cli_support.usage(f"{what} covers {hours} hours; give 1 to {api.MAX_HOURS} whole hours")


def _check_scale(scale: float) -> None:
    try:
        Volumes(scale)
    except ValueError as exc:
        cli_support.usage(str(exc), "--scale")


@contextmanager
def _progress(hours: int, what: str) -> Iterator[Callable[[datetime], object]]:
    """A bar on stderr, one step per simulated hour written."""
    columns = (
        TextColumn("{task.description}"),
        BarColumn(),
        TextColumn("{task.completed}/{task.total} h"),
        TimeElapsedColumn(),
        TimeRemainingColumn(),
    )
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(what, total=hours)

        def step(hour: datetime) -> None:
            progress.update(task, advance=1, description=f"{what}: {hour:%Y-%m-%d %H}:00")

        yield step


def _faults(texts: list[str] | None) -> list[FaultSpec]:
    try:
        return [FaultSpec.parse(t) for t in texts or []]
    except (FaultError, ValueError) as exc:
        raise typer.BadParameter(str(exc)) from exc


def _show(summary: api.RunSummary, title: str) -> None:
    table = Table(title=title)
    table.add_column("what")
    table.add_column("count", justify="right")
    for name, count in sorted(summary.rows.items()):
        table.add_row(name, str(count))
    table.add_row("event lines", str(summary.event_lines))
    table.add_row("  late events", str(summary.late_events))
    table.add_row("  duplicate lines", str(summary.duplicate_lines))
    table.add_row("S3 objects", str(summary.objects))
    console.print(table)
    rate = summary.total_rows / summary.seconds if summary.seconds else 0.0
    console.print(
        f"{summary.start:%Y-%m-%d %H:%M} → {summary.end:%Y-%m-%d %H:%M} UTC in "
        f"{summary.seconds:.1f}s ({rate:,.0f} rows/s)"
    )


def _fail(exc: Exception) -> NoReturn:
    cli_support.fail(str(exc))


@app.command()
def generate(
    seed: Annotated[int, typer.Option(help="seed of every random stream")] = 42,
    start: Annotated[str, typer.Option(help="window start, UTC (e.g. 2026-11-01)")] = "2026-11-01",
    end: Annotated[str, typer.Option(help="window end, exclusive, UTC")] = "2026-11-03",
    scale: Annotated[float, typer.Option(help="1.0 = 1:100 of production")] = 0.002,
    fault: FaultOption = None,
) -> None:
    """Rebuild all three sources from scratch for the window [start, end) (end-exclusive)."""
    specs = _faults(fault)
    first, after = _parse_time(start, "--start"), _parse_time(end, "--end")
    if after <= first:
        cli_support.usage(f"the window [{start}, {end}) is empty: --end is exclusive", "--end")
    _check_hours(int((after - first) / timedelta(hours=1)), f"[{start}, {end})")
    _check_scale(scale)
    hours = int((after - first) / timedelta(hours=1))
    try:
        with _progress(hours, "generating") as step:
            summary = api.generate(
                settings_module.load(), seed, first, after, scale, specs, on_hour=step
            )
    except (SourceDatabaseError, ValueError, RuntimeError) as exc:
        _fail(exc)
    _show(summary, f"generated seed={seed} scale={scale}")


@app.command()
def advance(
    hours: Annotated[int, typer.Option(help="simulated hours to add")] = 1,
    fault: FaultOption = None,
) -> None:
    """Continue from the stored clock: new orders, status changes, refunds, events, CRM edits."""
    specs = _faults(fault)
    _check_hours(hours, "--hours")
    try:
        with _progress(hours, "advancing") as step:
            summary = api.advance(settings_module.load(), hours, specs, on_hour=step)
    except (SourceDatabaseError, ValueError, RuntimeError) as exc:
        _fail(exc)
    _show(summary, f"advanced {hours} hour(s)")


@app.command("fault")
def fault_cmd(
    source: Annotated[str, typer.Argument(help=f"one of {', '.join(FAULT_KINDS)}")],
    kind: Annotated[str, typer.Argument(help="fault kind, see `brightcart world faults`")],
    count: Annotated[int, typer.Option(help="how many bad lines/rows")] = 1,
) -> None:
    """Request a fault; the next generate/advance applies it in its first hour and records it."""
    specs = _faults([f"{source}:{kind}:{count}"])
    try:
        api.request_faults(settings_module.load(), specs)
    except SourceDatabaseError as exc:
        _fail(exc)
    console.print(f"fault {source}:{kind} x{count} is pending; run `brightcart world advance`")


@app.command()
def faults() -> None:
    """List the fault kinds per source."""
    for source, kinds in FAULT_KINDS.items():
        console.print(f"[bold]{source}[/bold]: {', '.join(kinds)}")


@app.command()
def reset() -> None:
    """Drop and recreate the shop, sfdc and generator schemas and clear the S3 prefixes."""
    try:
        api.reset(settings_module.load())
    except SourceDatabaseError as exc:
        _fail(exc)
    console.print("source schemas recreated and S3 prefixes cleared")


@app.command()
def status() -> None:
    """Show the clock, what was written and the faults applied so far."""
    try:
        m = Manifest.load(settings_module.load())
    except SourceDatabaseError as exc:
        _fail(exc)
    console.print(
        f"clock {m.clock.now:%Y-%m-%d %H:%M} UTC, window from "
        f"{m.clock.window_start:%Y-%m-%d %H:%M}, seed {m.clock.seed}, "
        f"scale {m.clock.scale}"
    )
    console.print(
        f"{len(m.events_objects())} event objects, {len(m.events)} event lines, "
        f"{len(m.late())} late, {len(m.duplicates())} duplicates, "
        f"{m.pending_events} events still in flight"
    )
    for f in m.faults:
        console.print(
            f"fault {f.fault_id} {f.source}:{f.kind} {f.status} "
            f"{f.applied_hour or ''} count={f.applied_count}"
        )
