"""The 40-per-hour cap, the per-dataset daily quota and coalescing, on a real ops.publish_log
(DuckDB) and real QuickSight ingestions on moto's server."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from brightcart_ops.publish import publish
from brightcart_ops.publish.adapters.quicksight import QuickSightAdapter
from brightcart_ops.publish.datasets import DatasetMap
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.log import PublishLog
from brightcart_ops.publish.policy import Candidate, decide
from brightcart_ops.publish.state import ModelVersion, ProdState
from brightcart_ops.warehouse import Warehouse

from .conftest import World

T0 = datetime(2026, 11, 2, 10, 0, tzinfo=UTC)


def _map(path: Path, token: str, count: int, coalesce: float = 5) -> DatasetMap:
    lines = [
        "version: 1",
        f"limits: {{max_refreshes_per_hour: 40, daily_quota_per_dataset: 32, "
        f"coalesce_minutes: {coalesce}}}",
        "dashboards: {board: {title: Board, charts: []}}",
        "datasets:",
    ]
    for i in range(count):
        mode = "ops-hourly" if i % 2 else "exec-daily"
        lines.append(
            f"  d{i:02d}: {{view: bi.v{i:02d}, quicksight_id: d{i:02d}-{token}, "
            f"dashboards: [board], refresh: {mode}}}"
        )
    path.write_text("\n".join(lines) + "\n")
    return load_map(path)


def _state(count: int, hour: int, bump: set[int] | None = None) -> ProdState:
    """Views v00.. each over model mNN whose latest interval ends at `hour` (+1 if bumped)."""
    versions: dict[str, ModelVersion] = {}
    dag: dict[str, set[str]] = {}
    for i in range(count):
        end = T0.replace(hour=hour) + timedelta(hours=1 if bump and i in bump else 0)
        versions[f"marts.m{i:02d}"] = ModelVersion(
            f"marts.m{i:02d}", f"f{i}", f"v{i}", end, 1, "INCREMENTAL_BY_TIME_RANGE"
        )
        versions[f"bi.v{i:02d}"] = ModelVersion(f"bi.v{i:02d}", f"g{i}", f"w{i}", None, 1, "VIEW")
        dag[f"bi.v{i:02d}"] = {f"marts.m{i:02d}"}
        dag[f"marts.m{i:02d}"] = {"raw_shop.orders"}
    return ProdState(versions, dag)


@pytest.fixture
def quicksight(world: World) -> QuickSightAdapter:
    return QuickSightAdapter()


def test_forty_refreshes_per_rolling_hour(world: World, quicksight: QuickSightAdapter) -> None:
    maps = _map(world.home / "many.yaml", world.token, 50)
    wh = Warehouse()
    before = world.moto.ingestions()
    report = publish(
        "run_end", maps=maps, warehouse=wh, adapter=quicksight, state=_state(50, 9), now=T0
    )
    assert len(world.ingested(before)) == 40
    assert len(report.refreshed) == 40 and len(report.by_status("deferred")) == 10
    deferred = [d for d in report.decisions if d.status == "deferred"]
    assert all(d.reason.startswith("hourly cap") for d in deferred)
    # ops-hourly datasets (odd numbers) have the nearer deadline, so none of them waits
    assert all(int(d.dataset[1:]) % 2 == 0 for d in deferred)

    # 30 minutes later the same hour is still full: the ten pending ones keep waiting.
    before = world.moto.ingestions()
    report = publish(
        "run_end",
        maps=maps,
        warehouse=wh,
        adapter=quicksight,
        state=_state(50, 9),
        now=T0 + timedelta(minutes=30),
    )
    assert world.ingested(before) == set()
    assert len(report.by_status("deferred")) == 10 and len(report.by_status("skipped")) == 40

    # Once the first forty leave the rolling hour, the pending ten go, and only them.
    before = world.moto.ingestions()
    report = publish(
        "run_end",
        maps=maps,
        warehouse=wh,
        adapter=quicksight,
        state=_state(50, 9),
        now=T0 + timedelta(minutes=61),
    )
    assert world.ingested(before) == {d.dataset for d in deferred}
    counted = PublishLog(wh).refreshes_since(T0 - timedelta(days=1))
    assert sum(counted.values()) == 50 and set(counted.values()) == {1}


def test_coalescing_and_unchanged(world: World, quicksight: QuickSightAdapter) -> None:
    maps = _map(world.home / "few.yaml", world.token, 3, coalesce=5)
    wh = Warehouse()
    before = world.moto.ingestions()
    publish("run_end", maps=maps, warehouse=wh, adapter=quicksight, state=_state(3, 9), now=T0)
    assert world.ingested(before) == {"d00", "d01", "d02"}

    # Two minutes later d01's model gets a new interval: it waits (coalesced), others unchanged.
    before = world.moto.ingestions()
    report = publish(
        "run_end",
        maps=maps,
        warehouse=wh,
        adapter=quicksight,
        state=_state(3, 9, {1}),
        now=T0 + timedelta(minutes=2),
    )
    assert world.ingested(before) == set()
    assert report.by_status("deferred") == ["d01"]
    assert report.by_status("skipped") == ["d00", "d02"]

    # Past the window the pending change goes, exactly once.
    before = world.moto.ingestions()
    publish(
        "run_end",
        maps=maps,
        warehouse=wh,
        adapter=quicksight,
        state=_state(3, 9, {1}),
        now=T0 + timedelta(minutes=6),
    )
    assert world.ingested(before) == {"d01"}
    before = world.moto.ingestions()
    publish(
        "run_end",
        maps=maps,
        warehouse=wh,
        adapter=quicksight,
        state=_state(3, 9, {1}),
        now=T0 + timedelta(minutes=20),
    )
    assert world.ingested(before) == set()


def test_daily_quota_per_dataset(world: World) -> None:
    maps = _map(world.home / "one.yaml", world.token, 1)
    candidate = [Candidate(maps.datasets["d00"], _state(1, 9).upstream("bi.v00"))]
    ok = decide(candidate, {}, 0, {"d00": 31}, maps, T0)
    full = decide(candidate, {}, 0, {"d00": 32}, maps, T0)
    assert [d.status for d in ok] == ["pending"]
    assert [d.status for d in full] == ["deferred"] and full[0].reason.startswith("daily quota")


def test_dev_never_publishes_even_with_pending_changes(
    world: World, quicksight: QuickSightAdapter
) -> None:
    maps = _map(world.home / "dev.yaml", world.token, 2)
    wh = Warehouse()
    before = world.moto.ingestions()
    dev = publish(
        "apply_end", "dev", maps=maps, warehouse=wh, adapter=quicksight, state=_state(2, 9), now=T0
    )
    assert dev.decisions == [] and world.ingested(before) == set()
    assert not wh.table_exists("ops", "publish_log") or PublishLog(wh).rows() == []
    prod = publish(
        "apply_end", "prod", maps=maps, warehouse=wh, adapter=quicksight, state=_state(2, 9), now=T0
    )
    assert prod.refreshed == ["d00", "d01"] and world.ingested(before) == {"d00", "d01"}
