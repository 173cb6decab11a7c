"""One small world built once for the dashboard tests: generated, landed by the four real lanes,
planned to prod by the real `sqlmesh` command (which publishes the local dashboard pages), then
every page photographed by headless Chromium.

The window runs from 2026-10-13 to 2026-11-04 06:00 at a small scale (about 30 orders a day):
long enough for refunds, which land days to weeks after payment (11 of them), two cohort months
(the October cohort seen in its second month), and a clock that is not on a day boundary. The
cost of a world is mostly process start-ups (four lanes, one plan), not rows.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from brightcart_ops.lanes import run_lane
from brightcart_ops.publish.datasets import DatasetMap
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.screenshots import ChromiumMissing, Shot, screenshot_pages
from brightcart_ops.registry import registry
from brightcart_ops.settings import PROJECT_ROOT
from brightcart_ops.transform import run_sqlmesh
from brightcart_world.generator import generate
from brightcart_world.settings import Settings

START = datetime(2026, 10, 13, tzinfo=UTC)
END = datetime(2026, 11, 4, 6, tzinfo=UTC)
SCALE = 0.0003
SCREENSHOTS = Path(
    os.environ.get("BRIGHTCART_SCREENSHOTS") or PROJECT_ROOT / ".local" / "screenshots"
)


@dataclass
class DashboardWorld:
    settings: Settings
    maps: DatasetMap
    pages_dir: Path

    def warehouse(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.warehouse), read_only=True)


@pytest.fixture(scope="package")
def dashboard_world(sources: Settings) -> Iterator[DashboardWorld]:
    own = sources.home / "dashboard_world"
    own.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTCART_WAREHOUSE", str(own / "warehouse.duckdb"))
        patch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{own / 'meltano.db'}")
        patch.setenv("BRIGHTCART_WAREHOUSE_START", START.date().isoformat())
        patch.setenv("BRIGHTCART_BI", "local")
        patch.setenv("BRIGHTCART_CLOCK", "world")
        patch.delenv("BRIGHTCART_BI_DATASETS", raising=False)
        generate(sources, seed=11, start=START, end=END, scale=SCALE)
        for name, lane in registry().lanes.items():
            result = run_lane(sources, lane.job, "dev", attempts=1)
            assert result.status == "succeeded", f"{name} lane: {result.error}"
        # The YAML unit tests and the linter run once elsewhere (tests/warehouse, `make lint`).
        plan = ["plan", "prod", "--auto-apply", "--no-prompts", "--skip-tests", "--skip-linter"]
        planned = run_sqlmesh(sources, plan, job="plan")
        assert planned.exit_code == 0, planned.output_tail
        yield DashboardWorld(sources, load_map(), sources.home / "dashboards")


@pytest.fixture(scope="package")
def shots(dashboard_world: DashboardWorld) -> dict[str, Shot]:
    """Every page photographed (PNG under SCREENSHOTS), with its rendered DOM."""
    pages = sorted(dashboard_world.pages_dir.glob("*.html"))
    assert pages, f"the prod plan published no page into {dashboard_world.pages_dir}"
    try:
        taken = screenshot_pages(pages, SCREENSHOTS)
    except ChromiumMissing as error:
        pytest.fail(str(error))
    return {shot.page.stem: shot for shot in taken}
