"""`brightcart publish` sub-commands and `status` on a published tiny project."""

from __future__ import annotations

import pytest
import typer
from sqlmesh import Context
from typer.testing import CliRunner

from brightcart_ops import status
from brightcart_ops.publish.cli import publish_app

from .conftest import World


def test_lineage_dry_run_and_status_commands(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BRIGHTCART_BI", "local")
    monkeypatch.setenv("COLUMNS", "200")
    Context(paths=str(world.project)).plan(
        "prod", auto_apply=True, no_prompts=True, execution_time="2026-11-02 00:00"
    )
    runner = CliRunner()
    lineage = runner.invoke(publish_app, ["lineage", "--dashboard", "operations"])
    assert lineage.exit_code == 0, lineage.output
    assert "bi.operations_hourly" in lineage.output
    assert "marts_finance.revenue_hourly" in lineage.output
    assert "raw_shop.orders" in lineage.output and "lanes: shop" in lineage.output
    reverse = runner.invoke(publish_app, ["lineage", "--model", "raw_shop.sellers"])
    assert "-> sellers -> " in reverse.output and "operations" not in reverse.output
    dry = runner.invoke(publish_app, ["run", "--dry-run"])
    assert dry.exit_code == 0, dry.output
    assert dry.output.count("unchanged since") == 3
    app = typer.Typer()
    app.command("status")(status.command)
    app.command("noop")(lambda: None)  # a group, as in the brightcart CLI
    shown = runner.invoke(app, ["status"])
    assert shown.exit_code == 0, shown.output
    assert "operations_hourly" in shown.output and "Sources at" in shown.output
