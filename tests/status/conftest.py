"""A private warehouse with a load log, a publish log and pipeline runs for status tests."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from brightcart_ops.warehouse import Warehouse

ROOT = Path("/tmp/pub")


@pytest.fixture
def warehouse(monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    ROOT.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="status-", dir=ROOT))
    monkeypatch.setenv("BRIGHTCART_HOME", str(home))
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("BRIGHTCART_GATEWAY", "local")
    monkeypatch.delenv("BRIGHTCART_ALERT_TOPIC_ARN", raising=False)
    wh = Warehouse()
    wh.executescript(
        [
            "CREATE SCHEMA raw_meta",
            "CREATE TABLE raw_meta.load_log (load_id VARCHAR, lane VARCHAR, stream VARCHAR, "
            "started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, rows_received BIGINT, "
            "rows_inserted BIGINT, rows_duplicate BIGINT, high_water_mark TIMESTAMPTZ, "
            "status VARCHAR)",
        ]
    )
    try:
        yield wh
    finally:
        shutil.rmtree(home, ignore_errors=True)
