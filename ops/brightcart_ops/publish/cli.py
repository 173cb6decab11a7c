"""`brightcart publish ...`: publish by hand, explain decisions, trace dashboard lineage.

Mount with ``app.add_typer(publish_app, name="publish")`` in brightcart_ops.cli.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from brightcart_ops import cli_support as cli
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.lineage import dag_from_context, dashboard_lineage, dashboards_fed_by
from brightcart_ops.publish.log import PublishLog
from brightcart_ops.publish.publisher import publish
from brightcart_ops.publish.state import read_prod_state
from brightcart_ops.warehouse import Warehouse

RAW_SCHEMAS = ("raw_shop", "raw_events", "raw_marketing", "raw_crm", "raw_meta")
publish_app = typer.Typer(help="Refresh BI datasets after prod changes; lineage to dashboards.")
console = Console()


@publish_app.command("run")
def run_command(
    dataset: Annotated[list[str] | None, typer.Option(help="Only these datasets")] = None,
    force: Annotated[bool, typer.Option("--force", help="Refresh even if unchanged")] = False,
    dry_run: Annotated[
        bool, typer.Option("--dry-run", help="Decide and show, refresh nothing")
    ] = False,
) -> None:
    """Publish prod now (what the SQLMesh notification target does after apply/run)."""
    report = publish("manual", force=force, only=set(dataset) if dataset else None, dry_run=dry_run)
    if report.note:
        console.print(report.note)
    table = Table(title=f"publish {report.batch_id} via {report.adapter}")
    for column in ("dataset", "decision", "status", "reason", "ingestion"):
        table.add_column(column)
    for d in report.decisions:
        table.add_row(d.dataset, d.decision, d.status, d.reason, d.ingestion_id or "")
    console.print(table)
    if report.failed:
        cli.fail(f"{len(report.failed)} dataset(s) failed to refresh (listed above)")


@publish_app.command("screenshots")
def screenshots_command(
    out: Annotated[
        Path | None, typer.Option(help="Folder for the PNGs (default $BRIGHTCART_HOME/screenshots)")
    ] = None,
) -> None:
    """PNG of every local dashboard page, taken by headless Chromium."""
    from brightcart_ops.publish.screenshots import ChromiumMissing, screenshot_pages
    from brightcart_ops.settings import load as load_settings

    home = load_settings().home
    pages_dir = home / "dashboards"
    pages = sorted(pages_dir.glob("*.html"))
    if not pages:
        cli.fail(f"no dashboard pages in {pages_dir}: run `brightcart publish run` first")
    target = out or home / "screenshots"
    try:
        shots = screenshot_pages(pages, target)
    except ChromiumMissing as error:
        cli.fail(str(error))
    for shot in shots:
        console.print(f"{shot.png}  ({shot.width}x{shot.height})")


@publish_app.command("datasets")
def datasets_command(
    apply: Annotated[
        bool,
        typer.Option(
            "--apply", help="Create or update the data sets in QuickSight (else only list)"
        ),
    ] = False,
    owner: Annotated[
        str | None, typer.Option(help="QuickSight group or user ARN that owns new data sets")
    ] = None,
) -> None:
    """The QuickSight SPICE data sets of ops/bi_datasets.yaml (the CDK stack defines the same)."""
    from brightcart_ops.publish.adapters.quicksight import QuickSightAdapter
    from brightcart_ops.publish.quicksight_datasets import (
        data_set_definitions,
        data_source_arn,
        view_columns,
    )
    from brightcart_ops.settings import PROJECT_ROOT

    maps = load_map()
    columns = view_columns(maps, PROJECT_ROOT)
    table = Table(title="QuickSight data sets (SPICE)")
    for column in ("data set id", "view", "columns", "dashboards"):
        table.add_column(column, overflow="fold")
    for ds in maps.datasets.values():
        table.add_row(
            ds.quicksight_id, ds.view, str(len(columns[ds.view])), ", ".join(ds.dashboards)
        )
    console.print(table)
    if not apply:
        return
    adapter = QuickSightAdapter()
    source = data_source_arn(adapter.region, adapter.account_id)
    for data_set, outcome in adapter.apply_data_sets(
        data_set_definitions(maps, columns, source, owner_arn=owner)
    ):
        console.print(f"{data_set}: {outcome}")


@publish_app.command("log")
def log_command(limit: int = 30) -> None:
    """The latest publish decisions (ops.publish_log)."""
    columns = ("published_at", "dataset", "status", "reason", "adapter", "ingestion_id")
    table = Table(title="ops.publish_log")
    for column in columns:
        table.add_column(column)
    for row in PublishLog(Warehouse()).rows(limit):
        table.add_row(*(str(row[c] or "") for c in columns))
    console.print(table)


@publish_app.command("lineage")
def lineage_command(
    dashboard: Annotated[str | None, typer.Option(help="Dashboard -> models")] = None,
    model: Annotated[str | None, typer.Option(help="Model or raw table -> dashboards")] = None,
    project: Annotated[
        Path | None, typer.Option(help="Use this SQLMesh project's DAG instead of prod's state")
    ] = None,
) -> None:
    """Lineage through ops/bi_datasets.yaml: dashboard <-> datasets <-> views <-> models."""
    maps = load_map()
    if not dashboard and not model:
        cli.usage("give --dashboard or --model")
    if dashboard and dashboard not in maps.dashboards:
        choices = ", ".join(sorted(maps.dashboards))
        cli.usage(f"unknown dashboard {dashboard!r}; choose one of {choices}", "--dashboard")
    known: set[str] | None
    if project is not None:
        from sqlmesh import Context

        context = Context(paths=str(project))
        dag = dag_from_context(context)
        known = {name for name in dag if name.split(".")[0] not in RAW_SCHEMAS}
    else:
        try:
            state = read_prod_state()
        except Exception as error:  # noqa: BLE001 - a missing state reads as "no prod yet"
            cli.fail(f"SQLMesh state unreadable ({cli.describe(error)}); pass --project")
        if state is None:
            cli.usage("prod does not exist yet; pass --project to use the DAG")
        dag, known = state.dag, set(state.versions)
    if dashboard:
        lineage = dashboard_lineage(maps, dag, dashboard, known)
        for ds in lineage.datasets:
            console.print(f"[bold]{dashboard}[/] <- {ds.dataset} <- {ds.view}")
            console.print("  models:  " + ", ".join(ds.models))
            console.print(
                "  sources: " + ", ".join(ds.sources) + f"  (lanes: {', '.join(ds.lanes)})"
            )
    if model:
        for name, datasets in dashboards_fed_by(maps, dag, model).items():
            console.print(f"{model} -> {', '.join(datasets)} -> [bold]{name}[/]")
