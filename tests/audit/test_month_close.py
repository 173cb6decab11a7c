"""Month close freezes revenue by day and channel; reproduce recomputes it from the recorded
model version (even after the model changed) and detects a tampered frozen figure."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from sqlmesh import Context
from typer.testing import CliRunner

from brightcart_ops.audit_trail import record_prod_event, state_snapshots
from brightcart_ops.finance_cli import app
from brightcart_ops.month_close import CloseError, close_month, reproduce
from brightcart_ops.warehouse import Warehouse
from brightcart_world.settings import Settings

MODEL_V1 = """MODEL (name marts_finance.revenue_daily, kind FULL, dialect duckdb);
SELECT revenue_date, channel, net_sales, refunds, net_sales - refunds AS net_revenue,
  commission_revenue FROM raw_fin.daily
"""
MODEL_V2 = MODEL_V1.replace("net_sales - refunds", "net_sales - 2 * refunds")

# (day, channel, net_sales, refunds, commission); November holds 3 days x 2 channels.
ROWS = [
    (f"2026-11-0{d}", ch, Decimal(100 * d + (7 if ch == "web" else 3)), Decimal(d), Decimal("1.10"))
    for d in (1, 2, 3)
    for ch in ("web", "ios")
] + [("2026-10-31", "web", Decimal("999.00"), Decimal("0"), Decimal("0"))]


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Settings]]:
    root = Path("/tmp/rec") / f"close-{uuid.uuid4().hex[:8]}"
    (root / "models").mkdir(parents=True)
    warehouse = root / "warehouse.duckdb"
    (root / "config.yaml").write_text(
        f"gateways:\n  local:\n    connection: {{type: duckdb, database: '{warehouse}'}}\n"
        f"    state_connection: {{type: duckdb, database: '{root / 'state.duckdb'}'}}\n"
        "default_gateway: local\nmodel_defaults: {dialect: duckdb, start: '2026-10-01'}\n"
    )
    (root / "models" / "revenue_daily.sql").write_text(MODEL_V1)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA raw_fin")
        con.execute(
            "CREATE TABLE raw_fin.daily (revenue_date DATE, channel VARCHAR, net_sales "
            "DECIMAL(12,2), refunds DECIMAL(12,2), commission_revenue DECIMAL(12,2))"
        )
        con.executemany("INSERT INTO raw_fin.daily VALUES (?, ?, ?, ?, ?)", ROWS)
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(warehouse))
    monkeypatch.setenv("BRIGHTCART_ACTOR", "controller")
    monkeypatch.delenv("BRIGHTCART_AUDIT_BUCKET", raising=False)
    apply_prod(root)
    yield root, Settings(home=root)
    shutil.rmtree(root, ignore_errors=True)


def apply_prod(root: Path) -> None:
    context = Context(paths=str(root), gateway="local")
    try:
        context.plan("prod", auto_apply=True, no_prompts=True)
    finally:
        context.close()


def test_close_then_reproduce_after_a_model_change(project: tuple[Path, Settings]) -> None:
    root, settings = project
    wh = Warehouse(settings, "local")
    close_id, digest = close_month("2026-11", wh, root, "local")
    frozen = wh.query(
        "SELECT count(*), sum(net_sales), sum(net_revenue) FROM ops.month_close_figures "
        "WHERE close_id = ?",
        (close_id,),
    )[0]
    # 6 figures; net sales 100*(1+2+3)*2 + 3*(7+3) = 1230; refunds 2*(1+2+3) = 12
    assert (frozen[0], Decimal(str(frozen[1])), Decimal(str(frozen[2]))) == (6, 1230, 1218)
    assert wh.query("SELECT count(*) FROM ops.audit_trail WHERE kind = 'close_month'")[0][0] == 1
    snapshots = state_snapshots(root, "local")  # what snapshots=None reads in the project
    event = record_prod_event("apply", "plan-x", "prod", snapshots, [], wh, settings)
    assert event is not None
    recorded = [s for s in event.snapshots if s["name"].endswith('"revenue_daily"')]
    assert len(recorded) == 1 and recorded[0]["fingerprint"]

    (root / "models" / "revenue_daily.sql").write_text(MODEL_V2)
    apply_prod(root)  # prod now shows other numbers; the closed version's table remains
    assert wh.query(
        "SELECT sum(net_revenue) FROM marts_finance.revenue_daily "
        "WHERE revenue_date >= '2026-11-01'"
    )[0][0] == Decimal("1206.00")
    result = reproduce("2026-11", wh)
    assert result.ok, result.diff
    assert result.recomputed_checksum == digest

    with pytest.raises(CloseError, match="already closed"):
        close_month("2026-11", wh, root, "local")


def test_a_tampered_frozen_figure_is_detected(project: tuple[Path, Settings]) -> None:
    root, settings = project
    wh = Warehouse(settings, "local")
    close_month("2026-11", wh, root, "local")
    wh.execute(
        "UPDATE ops.month_close_figures SET net_revenue = net_revenue + 0.01 "
        "WHERE revenue_date = '2026-11-02' AND channel = 'web'"
    )
    result = reproduce("2026-11", wh)
    assert not result.ok
    assert result.frozen_checksum != result.recorded_checksum
    assert result.recomputed_checksum == result.recorded_checksum
    assert [line.split(":")[0] for line in result.diff[1:]] == ["2026-11-02 web"]

    outcome = CliRunner().invoke(app, ["reproduce", "2026-11"])
    assert outcome.exit_code == 1
    assert "2026-11-02 web" in outcome.output
