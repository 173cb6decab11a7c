"""A source database of our own (rec_*) with the hand-countable shop, landed by the real
shop lane into a DuckDB warehouse under /tmp/rec/."""

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
from brightcart_world.sources.pgdb import drop_database, ensure_database

from .shop_rows import insert_shop


@dataclass
class ShopWorld:
    settings: Settings
    warehouse: Warehouse
    alerter: Alerter

    @property
    def alerts_file(self) -> Path:
        return self.settings.home / "alerts.jsonl"


@pytest.fixture
def shop_world(sources: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[ShopWorld]:
    home = Path("/tmp/rec") / f"world-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True)
    settings = sources.model_copy(update={"home": home, "pg_db": unique_db_name("rec")})
    monkeypatch.setenv("BRIGHTCART_HOME", str(home))
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("BRIGHTCART_PG_DB", settings.pg_db)
    monkeypatch.delenv("MELTANO_DATABASE_URI", raising=False)
    ensure_database(settings)
    try:
        insert_shop(settings)
        warehouse = Warehouse(settings, "local")
        result = run_lane(
            settings, "shop-lane", "dev", attempts=3, backoff_seconds=2, warehouse=warehouse
        )
        assert result.status == "succeeded", result.error
        yield ShopWorld(settings, warehouse, Alerter(warehouse, LocalSink(home / "alerts.jsonl")))
    finally:
        drop_database(settings)
        shutil.rmtree(home, ignore_errors=True)
