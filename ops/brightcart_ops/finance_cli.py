"""CLI commands for finance operations: reconcile, backfill, retention, close-month, reproduce.

Mounted on the `brightcart` command with `register(app)`; `app` here runs them on its own.
"""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

import typer
from rich.console import Console
from rich.table import Table

from brightcart_ops import cli_support as cli
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_ops.settings import load as load_settings
from brightcart_ops.warehouse import Warehouse

if TYPE_CHECKING:
    from brightcart_ops.closing.reproduce import MonthReproduction

app = typer.Typer(
    help="Finance operations: reconciliation, backfill, retention, month close. " + cli.WINDOW_HELP
)
console = Console()
ENVIRONMENT = typer.Option("dev", "--environment", "-e", help="Meltano environment: dev, ci, prod")
MONTH = typer.Argument(..., help="the month, YYYY-MM", metavar="MONTH")


def _window(start: str | None, end: str | None, *, allow_future: bool = False) -> tuple[date, date]:
    """--start and --end as [first, after), checked before anything runs."""
    if start is None or end is None:
        cli.usage("give both --start and --end, or neither (then --days before the cutoff)")
    return cli.check_window(
        cli.parse_day(start, "--start"), cli.parse_day(end, "--end"), allow_future=allow_future
    )


@app.command("reconcile")
def reconcile_command(
    start: str = typer.Option(None, help="first UTC day (default: --days before the cutoff)"),
    end: str = typer.Option(None, help="the day after the window (exclusive)"),
    days: int = typer.Option(7, min=1, help="days to check when --start/--end are not given"),
    repair: bool = typer.Option(True, help="re-extract, tombstone and restate mismatched days"),
    restate_models: bool = typer.Option(True, "--restate/--no-restate"),
    environment: str = ENVIRONMENT,
) -> None:
    """Compare source and warehouse per entity and day over [--start, --end); repair and
    re-check mismatches. Exit 1 when a mismatch stays unrepaired."""
    from brightcart_ops.reconcile import ReconcileError
    from brightcart_ops.reconcile_job import run_reconciliation

    cli.check_environment(environment)
    first: date | None = None
    last: date | None = None
    if start is not None or end is not None:
        first, after = _window(start, end)
        last = after - timedelta(days=1)  # reconciliation counts whole days, inclusive
    try:
        with cli.stages("reconciling") as stage:
            report = run_reconciliation(
                load_settings(),
                first,
                last,
                days=days,
                repair_drift=repair,
                restate_models=restate_models,
                environment=environment,
                stage=stage,
            )
    except ReconcileError as exc:
        cli.fail(str(exc))
    table = Table(
        "entity", "day", "source rows", "warehouse rows", "source sum", "wh sum", "status"
    )
    final = {(r.entity, r.day): r for r in report.rechecked}
    for r in report.checked:
        shown = final.get((r.entity, r.day), r)
        table.add_row(
            r.entity,
            str(r.day),
            str(r.source.count),
            str(r.warehouse.count),
            str(r.source.total),
            str(r.warehouse.total),
            shown.status,
        )
    console.print(table)
    console.print(f"run {report.run_id}, cutoff {report.cutoff.isoformat()}")
    for error in report.errors:
        console.print(f"[red]{error}[/red]")
    if report.unrepaired or (report.mismatches and not repair) or report.errors:
        left = len(report.unrepaired) if repair else len(report.mismatches)
        cli.fail(
            f"{left} entity-day(s) differ between source and warehouse"
            + (f", {len(report.errors)} error(s)" if report.errors else "")
            + "; see docs/runbooks/ for the reconciliation alert"
        )


@app.command("backfill")
def backfill_command(
    source: str = typer.Option(..., help="a lane's source (shop, events, crm, marketing) or all"),
    start: str = typer.Option(..., help="first UTC day of the window"),
    end: str = typer.Option(..., help="the day after the window (exclusive)"),
    restate_models: bool = typer.Option(True, "--restate/--no-restate"),
    environment: str = ENVIRONMENT,
) -> None:
    """Re-extract a source (or all) for [--start, --end), lane state untouched; restate the
    window."""
    from brightcart_ops.backfill import ALL, backfill, sources

    known = sources()
    if source != ALL and source not in known:
        choices = f"{', '.join(known)} or {ALL}"
        cli.usage(f"unknown source {source!r}; choose one of {choices}", "--source")
    first, after = _window(start, end)
    cli.check_environment(environment)
    try:
        result = backfill(
            load_settings(), source, first, after, environment, restate_models, Console(stderr=True)
        )
    except (ValueError, RuntimeError) as exc:
        cli.fail(str(exc))
    for name, inserted in result.inserted_by_source.items():
        note = "" if inserted else " (the window holds nothing the warehouse lacks)"
        console.print(f"{name}: {inserted} new versions landed{note}")


@app.command("retention")
def retention_command(
    as_of: str = typer.Option(None, help="reference time (ISO 8601, default now)"),
) -> None:
    """Remove raw rows past 90 days (superseded versions only for version logs)."""
    from brightcart_ops.retention import apply_retention

    moment = cli.parse_moment(as_of, "--as-of") if as_of else datetime.now(UTC)
    if moment > datetime.now(UTC):
        cli.usage(f"{as_of} is in the future; retention removes only what has aged", "--as-of")
    removals = apply_retention(Warehouse(load_settings()), moment)
    table = Table("table", "rule", "rows before", "rows deleted")
    for r in removals:
        table.add_row(r.table, r.rule, str(r.rows_before), str(r.rows_deleted))
    console.print(table)


@app.command("close-month")
def close_month_command(
    month: str = MONTH,
    gateway: str = typer.Option("local", help="SQLMesh gateway holding the prod state"),
) -> None:
    """Freeze the month's revenue by day and channel with a checksum and model versions."""
    from brightcart_ops.month_close import CloseError, close_month

    cli.parse_month(month)
    try:
        close_id, digest = close_month(month, Warehouse(load_settings()), PROJECT_ROOT, gateway)
    except CloseError as exc:
        cli.fail(str(exc))
    console.print(f"{month} closed: close {close_id}, checksum {digest}")


@app.command("reproduce")
def reproduce_command(
    month: str = MONTH,
    gateway: str = typer.Option("local", help="SQLMesh gateway holding the prod state"),
    project: Path = typer.Option(PROJECT_ROOT, help="the SQLMesh project (like sqlmesh --paths)"),
) -> None:
    """Rebuild a closed month's finance marts from raw with the model versions recorded at close
    and compare the artifacts byte for byte; check the frozen figures. Exit 1 on any difference."""
    from brightcart_ops.closing.reproduce import ReproduceError, reproduce_month
    from brightcart_ops.month_close import CloseError, reproduce

    cli.parse_month(month)
    warehouse = Warehouse(load_settings())
    try:
        frozen = reproduce(month, warehouse)
    except CloseError as exc:
        cli.usage(str(exc))
    console.print(
        f"frozen figures: recorded {frozen.recorded_checksum}\n"
        f"                frozen   {frozen.frozen_checksum}\n"
        f"                recomputed {frozen.recomputed_checksum}"
    )
    for line in frozen.diff:
        console.print(f"[red]{line}[/red]", soft_wrap=True)
    try:
        rebuilt = reproduce_month(month, warehouse, project=project, gateway=gateway)
    except ReproduceError as exc:
        cli.fail(f"rebuild from raw not possible: {exc}")
    _print_rebuild(rebuilt)
    if not (frozen.ok and rebuilt.identical):
        cli.fail(f"{month} does not reproduce: the differences are listed above")
    console.print(f"{month} reproduces exactly")


def _print_rebuild(rebuilt: MonthReproduction) -> None:
    console.print(f"{rebuilt.month} rebuilt from raw with the versions of close {rebuilt.close_id}")
    for m in rebuilt.models:
        verdict = "identical" if m.identical else "[red]DIFFERENT[/red]"
        console.print(
            f"  {m.model}: rows {m.recorded_rows} at close, {m.reproduced_rows} rebuilt; sha256 "
            f"{m.recorded_sha256} at close, {m.reproduced_sha256} rebuilt: {verdict}",
            soft_wrap=True,
        )
    for m in rebuilt.models:
        for line in m.differences[:50]:
            console.print(f"[red]{m.model}: {line}[/red]", soft_wrap=True)
        if len(m.differences) > 50:
            console.print(f"[red]{m.model}: ... {len(m.differences) - 50} more[/red]")
    for raw, rows in sorted(rebuilt.late_raw_rows.items()):
        console.print(f"{raw}: {rows} rows landed after the close", soft_wrap=True)
    console.print(f"artifacts and differences: {rebuilt.folder}", soft_wrap=True)


def register(parent: typer.Typer) -> None:
    """Mount the commands on the `brightcart` app (brightcart reconcile, backfill, ...)."""
    parent.command("reconcile")(reconcile_command)
    parent.command("backfill")(backfill_command)
    parent.command("retention")(retention_command)
    parent.command("close-month")(close_month_command)
    parent.command("reproduce")(reproduce_command)


if __name__ == "__main__":
    app()
