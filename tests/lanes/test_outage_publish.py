"""A Salesforce outage end to end: the shop and events marts go on and publish, the marketing
marts that read Salesforce wait, one alert is raised, and recovery catches up and publishes."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import datetime

import duckdb
import pytest
from conftest import LoadedWorld

from brightcart_ops.publish.state import open_state_reader, state_from_reader
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_ops.transform import run_sqlmesh
from brightcart_world.generator import advance


def _interval_end(model: str) -> datetime | None:
    reader = open_state_reader("local")
    try:  # closed at once: sqlmesh runs in another process and needs the state file's lock
        state = state_from_reader(reader)
    finally:
        reader.engine_adapter.close()
    assert state is not None
    return state.versions[model].interval_end


def _refreshed(world: LoadedWorld, since: datetime) -> set[str]:
    """Datasets refreshed since `since` because their data changed (not a first publish)."""
    with duckdb.connect(str(world.settings.warehouse), read_only=True) as wh:
        rows = wh.execute(
            "SELECT dataset FROM ops.publish_log WHERE decision = 'refresh' "
            "AND status = 'succeeded' AND published_at >= ? AND reason <> 'first publish'",
            [since],
        ).fetchall()
    return {str(row[0]) for row in rows}


def _reasons(world: LoadedWorld) -> list[tuple[str, str, str]]:
    with duckdb.connect(str(world.settings.warehouse), read_only=True) as wh:
        rows = wh.execute(
            "SELECT dataset, decision, reason FROM ops.publish_log ORDER BY published_at"
        ).fetchall()
    return [(str(a), str(b), str(c)) for a, b, c in rows]


def _open_incidents(world: LoadedWorld) -> list[str]:
    with duckdb.connect(str(world.settings.warehouse), read_only=True) as wh:
        rows = wh.execute(
            "SELECT incident_key FROM ops.alerts WHERE resolved_at IS NULL ORDER BY raised_at"
        ).fetchall()
    return [str(row[0]) for row in rows]


@pytest.fixture(scope="module")
def built(loaded_world: LoadedWorld) -> Iterator[LoadedWorld]:
    # Hours pass in seconds here: the map's coalescing window (5 min) would hold every refresh.
    dataset_map = loaded_world.settings.home / "bi_datasets.yaml"
    text = (PROJECT_ROOT / "ops" / "bi_datasets.yaml").read_text()
    dataset_map.write_text(re.sub(r"coalesce_minutes: *[0-9.]+", "coalesce_minutes: 0", text))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTCART_WAREHOUSE_START", "2026-11-01")
        patch.setenv("BRIGHTCART_BI", "local")
        patch.setenv("BRIGHTCART_BI_DATASETS", str(dataset_map))
        result = run_sqlmesh(
            loaded_world.settings, ["plan", "prod", "--auto-apply", "--no-prompts"], job="plan"
        )
        assert result.exit_code == 0, result.output_tail
        yield loaded_world


@pytest.mark.full
def test_salesforce_outage_holds_back_only_what_reads_it(built: LoadedWorld) -> None:
    hourly, attribution = "marts_finance.revenue_hourly", "marts_marketing.attribution"
    before_hourly, before_attribution = _interval_end(hourly), _interval_end(attribution)
    assert before_hourly is not None and before_attribution is not None

    built.set_salesforce_faults({"unavailable": 1_000_000})
    try:
        advance(built.settings, hours=1)
        first = built.run_all()
        assert first["crm"].status == "failed"
        assert {first[lane].status for lane in ("shop", "events")} == {"succeeded"}
        outage_started = datetime.now().astimezone()
        run = run_sqlmesh(built.settings, ["run", "prod"])
        assert run.exit_code == 0, run.output_tail
        assert _interval_end(hourly) > before_hourly  # type: ignore[operator]
        assert _interval_end(attribution) == before_attribution  # waits for Salesforce
        # The shop/events datasets publish the new hour. (The attribution dataset may refresh
        # for hours of its lookback window recomputed with late events, never for the new one.)
        assert "operations_hourly" in _refreshed(built, outage_started), _reasons(built)

        second = built.run_all()  # the next hourly attempt during the same outage
        assert second["crm"].status == "failed"
        assert _open_incidents(built).count("lane_failure:crm") == 1
    finally:
        built.set_salesforce_faults({"unavailable": 0})

    recovered = built.run_all()
    assert recovered["crm"].status == "succeeded"
    assert "lane_failure:crm" not in _open_incidents(built)
    recovery_started = datetime.now().astimezone()
    run = run_sqlmesh(built.settings, ["run", "prod"])
    assert run.exit_code == 0, run.output_tail
    assert _interval_end(attribution) == _interval_end(hourly)  # caught up, no manual step
    assert "marketing_attribution" in _refreshed(built, recovery_started)
