"""The dashboard tests read the session's generated world (tests/generated_world.py): generated,
landed by the four real lanes, planned to prod by the real `sqlmesh` command (which published the
local dashboard pages), then every page photographed by headless Chromium. They only read it, so
they use the world itself, not a copy.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import duckdb
import generated_world as worlds
import pytest

from brightcart_ops.publish.datasets import DatasetMap
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.screenshots import ChromiumMissing, Shot, screenshot_pages
from brightcart_ops.settings import PROJECT_ROOT
from brightcart_world.settings import Settings

END = worlds.END
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
def dashboard_world(generated_world: worlds.World) -> Iterator[DashboardWorld]:
    with pytest.MonkeyPatch.context() as patch:
        generated_world.use(patch)
        yield DashboardWorld(generated_world.settings, load_map(), generated_world.pages)


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
