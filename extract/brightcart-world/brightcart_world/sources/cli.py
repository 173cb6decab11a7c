"""`brightcart sources ...` commands."""

from __future__ import annotations

import json
import sys

import typer
from rich.console import Console
from rich.table import Table

from brightcart_world import settings as settings_module
from brightcart_world.sources.manager import LocalSources
from brightcart_world.sources.model import ComponentStatus, Outcome, SourcesError

app = typer.Typer(help="Start, stop and check the local sources.", no_args_is_help=True)
# A table piped to a file or a CI log is not cut to 80 columns.
out = Console(width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, soft_wrap=True)

STATE_STYLE = {"up": "green", "down": "red", "unhealthy": "yellow", "skipped": "dim"}


def _sources() -> LocalSources:
    try:
        return LocalSources(settings_module.load())
    except ValueError as exc:
        err.print(f"[red]error:[/red] a BRIGHTCART_* port is not a number ({exc})")
        raise typer.Exit(2) from exc


def _print_outcomes(outcomes: list[Outcome]) -> None:
    for outcome in outcomes:
        detail = f" ({outcome.detail})" if outcome.detail else ""
        if outcome.action == "skipped":
            err.print(f"[yellow]warning:[/yellow] {outcome.label}: skipped{detail}")
        else:
            out.print(f"{outcome.label}: {outcome.action}{detail}")


def _table(statuses: list[ComponentStatus]) -> Table:
    table = Table(title="BrightCart local sources")
    table.add_column("source", no_wrap=True)
    table.add_column("address", no_wrap=True)
    table.add_column("pid", no_wrap=True)
    table.add_column("state", no_wrap=True)
    table.add_column("ours", no_wrap=True)
    table.add_column("detail")
    for s in statuses:
        style = STATE_STYLE.get(s.state, "")
        table.add_row(
            s.name,
            s.address,
            str(s.pid) if s.pid else "-",
            f"[{style}]{s.state}[/{style}]",
            "yes" if s.managed else "no",
            s.detail,
        )
    return table


@app.command()
def up() -> None:
    """Start every local source that is not running (idempotent)."""
    sources = _sources()
    try:
        outcomes = sources.up()
    except SourcesError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    _print_outcomes(outcomes)
    out.print(_table(sources.status()))


@app.command()
def down() -> None:
    """Stop the sources `up` started (never a server it did not start). Safe to run twice."""
    sources = _sources()
    try:
        outcomes = sources.down()
    except SourcesError as exc:
        err.print(f"[red]error:[/red] {exc}", highlight=False)
        raise typer.Exit(1) from exc
    _print_outcomes(outcomes)


@app.command()
def status(
    as_json: bool = typer.Option(False, "--json", help="Print JSON for machines."),
) -> None:
    """Show each source, its address, pid and state; exit 1 when one is not up."""
    sources = _sources()
    statuses = sources.status()
    if as_json:
        payload = {
            "home": str(sources.settings.home),
            "components": [s.to_dict() for s in statuses],
        }
        typer.echo(json.dumps(payload, indent=2))
    else:
        out.print(_table(statuses))
    if any(s.state not in ("up", "skipped") for s in statuses):
        raise typer.Exit(1)
