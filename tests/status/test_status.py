"""`status` reports breached SLAs from a stale load log; check_slas alerts once per incident."""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime, timedelta
from pathlib import Path

from brightcart_ops.alerts import Alerter
from brightcart_ops.opslog import PipelineRun, record_run
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.log import Decision, PublishLog
from brightcart_ops.publish.state import ModelVersion, ProdState
from brightcart_ops.status import check_slas, collect, daily_state, render
from brightcart_ops.warehouse import Warehouse

NOW = datetime(2026, 11, 2, 7, 30, tzinfo=UTC)
MAP = Path(__file__).resolve().parents[2] / "ops" / "bi_datasets.yaml"


def _load(wh: Warehouse, lane: str, hwm: datetime, status: str = "succeeded") -> None:
    wh.execute(
        "INSERT INTO raw_meta.load_log VALUES (?, ?, 'x', ?, ?, 1, 1, 0, ?, ?)",
        (f"l-{lane}-{hwm:%H%M}", lane, hwm, hwm, hwm, status),
    )


def _prod_state() -> ProdState:
    """operations_hourly reads raw_shop (shop lane); executive_daily reads raw_shop and raw_crm."""
    v = {
        "bi.operations_hourly": ModelVersion("bi.operations_hourly", "a", "1", None, 1, "VIEW"),
        "bi.executive_daily": ModelVersion("bi.executive_daily", "b", "2", None, 1, "VIEW"),
        "marts.ledger": ModelVersion("marts.ledger", "c", "3", NOW, 1, "INCREMENTAL_BY_TIME_RANGE"),
    }
    dag = {
        "bi.operations_hourly": {"marts.ledger"},
        "bi.executive_daily": {"marts.ledger", "raw_crm.account"},
        "marts.ledger": {"raw_shop.orders"},
    }
    return ProdState(v, dag)


def _published(wh: Warehouse, dataset: str, view: str, through: datetime) -> None:
    log = PublishLog(wh)
    with log.recorder(
        batch_id="b",
        trigger="run_end",
        plan_id=None,
        environment="prod",
        adapter="local",
        at=through,
    ) as record:
        record(
            Decision(
                dataset,
                view,
                ("x",),
                "refresh",
                "first publish",
                "succeeded",
                digest="d",
                versions={},
                data_through=through,
            )
        )


def test_stale_load_log_breaches_slas(warehouse: Warehouse) -> None:
    maps = load_map(MAP)
    _load(warehouse, "shop", NOW - timedelta(hours=5))  # stale: 300 min > 90
    _load(warehouse, "events", NOW - timedelta(minutes=20))
    _load(warehouse, "crm", NOW - timedelta(minutes=70))  # at risk: 70 >= 0.75 * 90
    _load(warehouse, "marketing", NOW - timedelta(hours=3))
    _published(warehouse, "operations_hourly", "bi.operations_hourly", NOW - timedelta(hours=5))
    _published(warehouse, "executive_daily", "bi.executive_daily", NOW.replace(hour=0))
    record_run(
        warehouse,
        PipelineRun(
            "shop-lane",
            "shop",
            "prod",
            3,
            NOW - timedelta(minutes=10),
            finished_at=NOW,
            status="failed",
            error="connection refused",
        ),
    )
    report = collect(warehouse=warehouse, maps=maps, state=_prod_state(), now=NOW)
    sources = {s.lane: s.state for s in report.sources}
    assert sources == {"shop": "breached", "events": "ok", "crm": "at_risk", "marketing": "ok"}
    datasets = {d.dataset: d for d in report.datasets}
    assert datasets["operations_hourly"].state == "breached"
    assert "upstream outage: shop" in datasets["operations_hourly"].detail
    assert datasets["operations_hourly"].lanes == ("shop",)
    assert datasets["executive_daily"].state == "ok"  # yesterday complete before 06:00
    assert datasets["executive_daily"].lanes == ("crm", "shop")
    assert datasets["refunds"].state == "breached"  # never published, 06:00 passed
    assert [f["job"] for f in report.recent_failures] == ["shop-lane"]
    assert not report.healthy
    render(report)  # the rich renderer runs on real data


def test_check_slas_alerts_once_per_incident_and_resolves(warehouse: Warehouse) -> None:
    maps = load_map(MAP)
    _load(warehouse, "shop", NOW - timedelta(hours=5))
    for lane in ("events", "crm", "marketing"):
        _load(warehouse, lane, NOW - timedelta(minutes=5))
    for name in maps.datasets:
        if name != "operations_hourly":
            _published(warehouse, name, maps.datasets[name].view, NOW - timedelta(minutes=10))
    _published(warehouse, "operations_hourly", "bi.operations_hourly", NOW - timedelta(minutes=80))
    state = _prod_state()
    first = check_slas(warehouse=warehouse, maps=maps, state=state, now=NOW)
    assert sorted(first) == ["sla_at_risk:operations_hourly", "upstream_outage:shop"]
    again = check_slas(warehouse=warehouse, maps=maps, state=state, now=NOW + timedelta(minutes=1))
    assert again == []  # same incidents: nothing new is sent
    later = check_slas(warehouse=warehouse, maps=maps, state=state, now=NOW + timedelta(minutes=15))
    assert later == ["sla_breached:operations_hourly"]  # escalated: 95 min > 90
    sent = [
        json.loads(line)
        for line in (Path(os.environ["BRIGHTCART_HOME"]) / "alerts.jsonl").read_text().splitlines()
    ]
    raised = [a["incident_key"] for a in sent if not a["resolved"]]
    assert sorted(raised) == sorted([*first, *later])
    # the shop lane lands and a fresh publish happens: incidents close
    _load(warehouse, "shop", NOW + timedelta(minutes=14))
    _published(warehouse, "operations_hourly", "bi.operations_hourly", NOW + timedelta(minutes=14))
    assert (
        check_slas(warehouse=warehouse, maps=maps, state=state, now=NOW + timedelta(minutes=16))
        == []
    )
    assert Alerter(warehouse).open_incidents() == []


def test_exec_daily_due_at_six() -> None:
    sla = load_map(MAP).slas["exec-daily"]
    midnight = NOW.replace(hour=0)
    yesterday = midnight - timedelta(days=1)
    assert daily_state(sla, yesterday, NOW.replace(hour=4))[0] == "ok"
    assert daily_state(sla, yesterday, NOW.replace(hour=5, minute=10))[0] == "at_risk"
    assert daily_state(sla, yesterday, NOW.replace(hour=6, minute=1))[0] == "breached"
    assert daily_state(sla, midnight, NOW.replace(hour=6, minute=1))[0] == "ok"
    assert daily_state(sla, None, NOW.replace(hour=3))[0] == "breached"
