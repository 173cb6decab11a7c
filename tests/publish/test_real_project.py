"""The real SQLMesh project: every mapped dataset has its bi view, lineage reaches the lanes,
and a prod plan publishes every dataset once. A project that does not load or plan fails here."""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import duckdb
import pytest
import yaml
from sqlmesh import Context
from sqlmesh.core.snapshot.definition import SnapshotIntervals
from sqlmesh.utils.date import to_timestamp
from sqlmesh.utils.errors import ConfigError

from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.lineage import dag_from_context, dashboard_lineage, dashboards_fed_by
from brightcart_ops.publish.log import PublishLog
from brightcart_ops.publish.state import (
    ProdState,
    snapshots_digest,
    state_from_reader,
    state_from_snapshots,
)
from brightcart_ops.warehouse import Warehouse

from .conftest import ROOT

REPO = Path(__file__).resolve().parents[2]
MAP = REPO / "ops" / "bi_datasets.yaml"


@pytest.fixture
def real_home(monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    ROOT.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="real-", dir=ROOT))
    for name, value in {
        "BRIGHTCART_HOME": str(home),
        "BRIGHTCART_WAREHOUSE": str(home / "warehouse.duckdb"),
        "BRIGHTCART_GATEWAY": "local",
        "BRIGHTCART_BI": "local",
        "BRIGHTCART_BI_DATASETS": str(MAP),
        "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
    }.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("BRIGHTCART_ALERT_TOPIC_ARN", raising=False)
    monkeypatch.delenv("BRIGHTCART_NOTIFY", raising=False)
    try:
        yield home
    finally:
        shutil.rmtree(home, ignore_errors=True)


def _load_project() -> Context:
    try:
        return Context(paths=str(REPO))
    except ConfigError as error:
        pytest.fail(f"the real SQLMesh project does not load: {error}", pytrace=False)


def test_map_and_lineage_against_the_real_project(real_home: Path) -> None:
    maps = load_map(MAP)
    context = _load_project()
    dag = dag_from_context(context)
    missing = sorted(d.view for d in maps.datasets.values() if d.view not in dag)
    assert missing == [], f"bi views named in {MAP.name} but not in models/: {missing}"
    models = {n for n in dag if not n.startswith("raw_")}
    executive = dashboard_lineage(maps, dag, "executive", models)
    assert "marts_finance.revenue_ledger" in executive.models
    assert "shop" in executive.lanes
    attribution = dashboard_lineage(maps, dag, "marketing_attribution", models)
    assert "events" in attribution.lanes
    fed = dashboards_fed_by(maps, dag, "raw_shop.orders")
    assert {"executive", "operations"} <= set(fed)


def test_real_project_prod_plan_publishes_every_dataset(real_home: Path) -> None:
    con = duckdb.connect(str(real_home / "warehouse.duckdb"))
    declared = yaml.safe_load((REPO / "external_models.yaml").read_text())
    for table in declared:
        schema, name = table["name"].split(".")
        columns = ", ".join(f'"{c}" {t}' for c, t in table["columns"].items())
        con.execute(f"CREATE SCHEMA IF NOT EXISTS {schema}")
        con.execute(f"CREATE TABLE IF NOT EXISTS {schema}.{name} ({columns})")
    con.close()
    context = _load_project()
    try:
        context.plan("prod", auto_apply=True, no_prompts=True)
    except Exception as error:  # noqa: BLE001 - any planning error fails, with its likely cause
        raw = {n for n in dag_from_context(context) if n.startswith("raw_")}
        undeclared = sorted(raw - {t["name"] for t in declared})
        pytest.fail(
            f"the real project does not plan on an empty warehouse ({error!r}); raw tables "
            f"read by models but not declared in external_models.yaml: {undeclared}",
            pytrace=False,
        )
    rows = PublishLog(Warehouse()).rows()
    maps = load_map(MAP)
    assert {r["dataset"] for r in rows if r["status"] == "succeeded"} == set(maps.datasets)
    assert {r["reason"] for r in rows} == {"first publish"}
    assert (real_home / "dashboards" / "executive.html").exists()
    assert (real_home / "dashboards" / "operations.html").exists()
    _assert_light_state_read_matches_the_snapshots(context, real_home / "prod.dag.json")


def _assert_light_state_read_matches_the_snapshots(context: Context, cache: Path) -> None:
    """The publish reads prod from the environment and the interval records; the full snapshots
    (SQLMesh's own merge of their intervals) must give the same versions, interval ends, kinds
    and DAG, also when a version holds intervals recorded under another identifier."""
    # The state sync under the Context's cache, as the publish opens it (the cache would keep
    # a snapshot's intervals from before the records this test adds).
    reader = context.state_sync.state_sync  # type: ignore[attr-defined]
    env = reader.get_environment("prod")
    assert env is not None

    def full() -> ProdState:
        return state_from_snapshots(reader.get_snapshots(env.snapshots).values())

    # A cache of another environment (another digest) is not used; the full read replaces it.
    cache.write_text(json.dumps({"key": "another", "dag": {"bi.cohorts": []}}), encoding="utf-8")
    first = state_from_reader(reader, dag_cache=cache)
    assert first is not None and first == full()
    assert json.loads(cache.read_text(encoding="utf-8"))["key"] == snapshots_digest(env.snapshots)
    light = state_from_reader(reader, dag_cache=cache)  # the cached DAG, no full read
    assert light is not None and light == full()
    assert {m.kind for m in light.versions.values()} >= {"VIEW", "EXTERNAL"}
    assert "raw_shop.orders" in light.dag["staging.stg_shop__orders"]

    def record(model: str, identifier: str | None, start: str) -> tuple[str, int]:
        info = next(s for s in env.snapshots if s.name.endswith(f'"{model}"'))
        begin = to_timestamp(start)
        reader.add_snapshots_intervals(
            [
                SnapshotIntervals(
                    name=info.name,
                    identifier=identifier or info.identifier,
                    version=info.version,
                    dev_version=None,
                    intervals=[(begin, begin + 3_600_000)],
                    last_altered_ts=begin,
                )
            ]
        )
        return info.name, begin + 3_600_000

    # Intervals under the snapshot's own identifier (read from the records alone), and under
    # another identifier of the same version (SQLMesh's merge of the full snapshot decides).
    record("stg_shop__orders", None, "2098-01-01")
    record("revenue_ledger", "another-identifier", "2099-01-01")
    changed = state_from_reader(reader, dag_cache=cache)
    assert changed is not None and changed == full()
    for model, year in (("staging.stg_shop__orders", 2098), ("marts_finance.revenue_ledger", 2099)):
        end = changed.versions[model].interval_end
        assert end is not None and end.year == year, model
        assert changed.versions[model].altered_ms is not None
