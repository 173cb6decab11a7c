"""The generated world the dashboards and finance packages share: built once per test session.

`build` starts local sources of its own (its database on the session's PostgreSQL server, an S3
server, and a Salesforce emulator serving that database's CRM objects), generates a world with
late, partial and cancelled money from START to END into them, lands it with the four real lanes
(`run_lane`, as the schedule runs them) into a DuckDB warehouse and a Meltano state of its own,
plans prod with the real `sqlmesh` (`brightcart_ops.transform.run_sqlmesh`), which publishes the
local dashboard pages, and keeps a copy of those pages. The cost of a world is mostly process
start-ups (four lanes, one plan), not rows, so it is built once and each package that changes it
works on a `copy`: the warehouse and its SQLMesh state file, the Meltano system database, and the
source database (PostgreSQL's `CREATE DATABASE ... TEMPLATE`).

START lies more than 30 days before END, so money dated 30 days back still falls on a business
day of the world; END is not on a day boundary, and the hour before it holds paid orders (the
operations page shows the latest complete hour). At this scale (about 30 orders a day) refunds
land days to weeks after payment, and the October cohort is seen in its second month.
"""

from __future__ import annotations

import shutil
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from brightcart_ops.lanes import run_lane
from brightcart_ops.registry import registry
from brightcart_ops.transform import run_sqlmesh
from brightcart_sqlmesh.gateways import state_path
from brightcart_world.generator import generate
from brightcart_world.settings import Settings
from brightcart_world.sources import LocalSources
from brightcart_world.sources.isolation import (
    dispose,
    isolated_settings,
    make_home,
    unique_db_name,
)
from brightcart_world.sources.pgdb import clone_database, connect, drop_database

START = datetime(2026, 9, 28, tzinfo=UTC)
END = datetime(2026, 11, 4, 16, tzinfo=UTC)
SEED = 11
SCALE = 0.0003  # about 30 orders a day
# The plan skips the project's YAML unit tests and its linter: tests/warehouse and `make lint`
# run them once.
PLAN = ["plan", "prod", "--auto-apply", "--no-prompts", "--skip-tests", "--skip-linter"]


@dataclass(frozen=True)
class World:
    """One world: the local sources it was generated into (an S3 server and a Salesforce emulator
    of its own; its own database on the session's PostgreSQL server), the source database it
    reads (settings.pg_db: the sources' own, or a copy's), and its folder (warehouse, SQLMesh
    state, Meltano system database, the dashboard pages its prod plan published)."""

    sources: LocalSources
    settings: Settings
    folder: Path

    @property
    def warehouse(self) -> Path:
        return self.folder / "warehouse.duckdb"

    @property
    def meltano_db(self) -> Path:
        return self.folder / "meltano.db"

    @property
    def pages(self) -> Path:
        return self.folder / "pages"

    def use(self, patch: pytest.MonkeyPatch) -> None:
        """Point the tools (lanes, sqlmesh, the CLI, the publisher) at this world."""
        for name, value in self.sources.env().items():
            patch.setenv(name, value)
        patch.setenv("BRIGHTCART_PG_DB", self.settings.pg_db)
        patch.setenv("BRIGHTCART_WAREHOUSE", str(self.warehouse))
        patch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{self.meltano_db}")
        patch.setenv("BRIGHTCART_WAREHOUSE_START", START.date().isoformat())
        patch.setenv("BRIGHTCART_CLOCK", "world")
        patch.setenv("BRIGHTCART_BI", "local")
        for name in ("BRIGHTCART_BI_DATASETS", "BRIGHTCART_ALERT_TOPIC_ARN", "BRIGHTCART_LOCK_DSN"):
            patch.delenv(name, raising=False)


def build() -> World:
    """Start the world's sources, then generate, land and plan it."""
    sources = LocalSources(isolated_settings(make_home("bc_world_"), db_prefix="world"))
    world = World(sources, sources.settings, sources.settings.home / "world")
    try:
        sources.up()
        world.folder.mkdir()
        with pytest.MonkeyPatch.context() as patch:
            world.use(patch)
            generate(world.settings, seed=SEED, start=START, end=END, scale=SCALE)
            with connect(world.settings) as con:
                last_hour = con.execute(
                    "SELECT count(*) FROM shop.orders WHERE paid_at >= %s AND paid_at < %s",
                    (END - timedelta(hours=1), END),
                ).fetchone()
            assert last_hour and last_hour[0], "no paid order in the world's last hour"
            for name, lane in registry().lanes.items():
                result = run_lane(world.settings, lane.job, "dev", attempts=1)
                assert result.status == "succeeded", f"{name} lane: {result.error}"
            planned = run_sqlmesh(world.settings, PLAN, job="plan")
            assert planned.exit_code == 0, planned.output_tail
        published = world.settings.home / "dashboards"
        assert any(published.glob("*.html")), f"the prod plan published no page into {published}"
        shutil.copytree(published, world.pages)
    except BaseException:
        dispose(sources)
        raise
    return world


def copy(world: World) -> World:
    """A copy of `world` to change at will: its own source database (the Salesforce emulator and
    the S3 server stay the world's) and its own folder."""
    settings = clone_database(world.settings, unique_db_name("copy"))
    twin = World(world.sources, settings, world.folder.with_name(settings.pg_db))
    twin.folder.mkdir()
    for path in (world.warehouse, state_path(world.warehouse), world.meltano_db):
        shutil.copy2(path, twin.folder / path.name)
    shutil.copytree(world.pages, twin.pages)
    return twin


def drop(world: World) -> None:
    """Drop a copy's database and folder; for the world itself, stop its sources and remove all."""
    if world.settings.pg_db == world.sources.settings.pg_db:
        dispose(world.sources)
    else:
        drop_database(world.settings)
        shutil.rmtree(world.folder, ignore_errors=True)
