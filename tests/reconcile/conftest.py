"""A source database of our own (rec_*) with the hand-countable shop, landed by the real
shop lane into a DuckDB warehouse under /tmp/rec/.

The shop is inserted and landed once per package (`landed_shop`); each test gets a copy of its
own (`shop_world`): the source database cloned by PostgreSQL (`CREATE DATABASE ... TEMPLATE`)
and the home folder (DuckDB warehouse, Meltano system database) copied, so a test may change
either without another test seeing it."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from brightcart_ops.alerts import Alerter, LocalSink
from brightcart_ops.lanes import run_lane
from brightcart_ops.warehouse import Warehouse
from brightcart_world.settings import Settings
from brightcart_world.sources.isolation import unique_db_name
from brightcart_world.sources.pgdb import clone_database, drop_database, ensure_database

from .shop_rows import insert_shop


@dataclass
class ShopWorld:
    settings: Settings
    warehouse: Warehouse
    alerter: Alerter

    @property
    def alerts_file(self) -> Path:
        return self.settings.home / "alerts.jsonl"


def _home() -> Path:
    home = Path("/tmp/rec") / f"world-{uuid.uuid4().hex[:8]}"
    home.parent.mkdir(parents=True, exist_ok=True)
    return home


@pytest.fixture(scope="package")
def landed_shop(sources: Settings) -> Iterator[Settings]:
    """The hand-countable shop in a database of its own, landed once by the real shop lane."""
    home = _home()
    home.mkdir()
    settings = sources.model_copy(update={"home": home, "pg_db": unique_db_name("rec")})
    ensure_database(settings)
    try:
        with pytest.MonkeyPatch.context() as patch:
            patch.setenv("BRIGHTCART_HOME", str(home))
            patch.setenv("BRIGHTCART_WAREHOUSE", str(home / "warehouse.duckdb"))
            patch.setenv("BRIGHTCART_PG_DB", settings.pg_db)
            patch.delenv("MELTANO_DATABASE_URI", raising=False)
            insert_shop(settings)
            warehouse = Warehouse(settings, "local")
            result = run_lane(
                settings, "shop-lane", "dev", attempts=3, backoff_seconds=2, warehouse=warehouse
            )
            assert result.status == "succeeded", result.error
        yield settings
    finally:
        drop_database(settings)
        shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def shop_world(landed_shop: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopWorld]:
    home = _home()
    shutil.copytree(landed_shop.home, home, symlinks=True)  # the plugin folders are links
    copy = clone_database(landed_shop, unique_db_name("rec"))
    settings = copy.model_copy(update={"home": home})
    monkeypatch.setenv("BRIGHTCART_HOME", str(home))
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("BRIGHTCART_PG_DB", settings.pg_db)
    monkeypatch.delenv("MELTANO_DATABASE_URI", raising=False)
    try:
        warehouse = Warehouse(settings, "local")
        yield ShopWorld(settings, warehouse, Alerter(warehouse, LocalSink(home / "alerts.jsonl")))
    finally:
        drop_database(settings)
        shutil.rmtree(home, ignore_errors=True)
