"""Publish fires for a prod success only, and refreshes exactly the affected datasets.

Everything is real: SQLMesh Context.plan/run on a DuckDB file, the project's notification target
loaded from config.py, and QuickSight ingestions observed on moto's server over HTTP.
"""

from __future__ import annotations

import json

from sqlmesh import Context

from brightcart_ops.alerts import Alerter
from brightcart_ops.publish.log import PublishLog
from brightcart_ops.warehouse import Warehouse
from brightcart_sqlmesh.notify import PublishNotificationTarget

from .conftest import World

ALL = {"ops", "exec", "sellers"}


def _open_incidents() -> set[str]:
    return {key for key, _, _ in Alerter(Warehouse()).open_incidents()}


def test_publish_only_after_prod_success_and_only_affected(world: World) -> None:
    ctx = Context(paths=str(world.project))
    target = next(t for t in ctx.config.notification_targets)
    assert isinstance(target, PublishNotificationTarget)

    # 1. First prod plan: every dataset gets its first ingestion.
    before = world.moto.ingestions()
    ctx.plan("prod", auto_apply=True, no_prompts=True, execution_time="2026-11-02 00:00")
    assert world.ingested(before) == ALL
    log = PublishLog(Warehouse())
    reasons = {r["dataset"]: r["reason"] for r in log.rows() if r["status"] == "started"}
    assert set(reasons.values()) == {"first publish"}

    # 2. A run with nothing due, and a run_end that fires with nothing new: no ingestion.
    before = world.moto.ingestions()
    ctx.run("prod", execution_time="2026-11-02 00:00")
    target.notify_run_end(environment="prod")
    assert world.ingested(before) == set()
    skipped = [r for r in log.rows() if r["status"] == "skipped"]
    assert {r["dataset"] for r in skipped} == {"operations_hourly", "executive_daily", "sellers"}

    # 3. A dev plan with a changed model never publishes.
    sellers = world.project / "models" / "sellers.sql"
    original = sellers.read_text()
    sellers.write_text(
        original.replace("SELECT seller_id, name", "SELECT seller_id, UPPER(name) AS name")
    )
    ctx.load()
    before = world.moto.ingestions()
    ctx.plan("dev", auto_apply=True, no_prompts=True, execution_time="2026-11-02 00:00")
    assert world.ingested(before) == set()
    sellers.write_text(original)
    ctx.load()

    # 4. New hourly data and a prod run three hours later: only the hourly dataset refreshes.
    world.sql(
        "INSERT INTO raw_shop.orders VALUES (5, 13, 'web', 70.00, 0, '2026-11-02 01:15:00+00')"
    )
    before = world.moto.ingestions()
    ctx.run("prod", execution_time="2026-11-02 03:00")
    assert world.ingested(before) == {"ops"}
    latest = log.rows(1)[0]
    assert latest["dataset"] in {"operations_hourly", "executive_daily", "sellers"}
    ops_rows = [r for r in log.rows() if r["dataset"] == "operations_hourly"]
    assert ops_rows[0]["status"] == "started"
    assert "new intervals: marts_finance.revenue_hourly" in ops_rows[0]["reason"]
    versions = json.loads(ops_rows[0]["upstream_versions"])
    assert set(versions) == {"bi.operations_hourly", "marts_finance.revenue_hourly"}
    assert versions["marts_finance.revenue_hourly"]["interval_end"].startswith("2026-11-02T03:00")

    # 5. A blocking audit fails: nothing is published, alerts are raised once.
    world.sql(
        "INSERT INTO raw_shop.orders VALUES (6, 14, 'web', NULL, 0, '2026-11-02 03:20:00+00')"
    )
    before = world.moto.ingestions()
    ctx.run("prod", execution_time="2026-11-02 05:00")
    assert world.ingested(before) == set()
    incidents = _open_incidents()
    assert "audit_failure:marts_finance.revenue_hourly.not_null" in incidents
    assert "lane_failure:transform" in incidents

    # 6. Data fixed, next run succeeds: the hourly dataset refreshes, incidents close.
    world.sql("DELETE FROM raw_shop.orders WHERE order_id = 6")
    before = world.moto.ingestions()
    ctx.run("prod", execution_time="2026-11-02 06:00")
    assert world.ingested(before) == {"ops"}
    incidents = _open_incidents()
    assert "audit_failure:marts_finance.revenue_hourly.not_null" not in incidents
    assert "lane_failure:transform" not in incidents

    # 7. A new model version promoted to prod: only the dataset that reads it refreshes.
    sellers.write_text(
        original.replace("SELECT seller_id, name", "SELECT seller_id, TRIM(name) AS name")
    )
    ctx.load()
    before = world.moto.ingestions()
    ctx.plan("prod", auto_apply=True, no_prompts=True, execution_time="2026-11-02 06:00")
    assert world.ingested(before) == {"sellers"}
    sellers_row = next(r for r in log.rows() if r["dataset"] == "sellers")
    assert sellers_row["reason"].startswith("new versions: ")
    assert "marts_sellers.sellers" in sellers_row["reason"]
