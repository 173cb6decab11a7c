"""A generated world loaded through the real Meltano lanes, shared by the lane tests."""

from __future__ import annotations

import json
import os
import subprocess
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime

import duckdb
import psycopg
import pytest

from brightcart_ops.lanes import LaneResult, run_lane
from brightcart_ops.registry import registry
from brightcart_ops.runtime import PROJECT_ROOT, meltano_bin, step_env
from brightcart_world.generator import generate
from brightcart_world.settings import Settings

SHOP_KEYS = {
    "customers": "customer_id",
    "sellers": "seller_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "payments": "payment_id",
    "refunds": "refund_id",
    "heartbeat": "writer",
}
CRM_OBJECTS = ["Account", "Contact", "Lead", "Campaign", "CampaignMember", "Opportunity"]


def meltano(
    settings: Settings,
    *args: str,
    env: dict[str, str] | None = None,
    timeout: float | None = None,
    check: bool = False,
) -> subprocess.CompletedProcess[str]:
    """`meltano --environment dev <args>` in the project, with the step environment of
    `settings`'s world (as the runner builds it) and `env` on top; output captured."""
    return subprocess.run(
        [meltano_bin(), "--environment", "dev", *args],
        cwd=PROJECT_ROOT,
        env={**os.environ, **step_env(settings, "dev"), **(env or {})},
        capture_output=True,
        text=True,
        timeout=timeout,
        check=check,
    )


@dataclass
class LoadedWorld:
    settings: Settings
    runs: list[dict[str, LaneResult]] = field(default_factory=list)
    started: list[datetime] = field(default_factory=list)

    def run_all(self) -> dict[str, LaneResult]:
        self.started.append(datetime.now(UTC))
        results = {
            name: run_lane(self.settings, lane.job, "dev", attempts=1)
            for name, lane in registry().lanes.items()
        }
        self.runs.append(results)
        return results

    def set_salesforce_faults(self, faults: dict[str, object]) -> None:
        """Switch the Salesforce emulator's failure modes (POST /__emulator/faults)."""
        request = urllib.request.Request(
            f"{self.settings.sf_instance_url}/__emulator/faults",
            data=json.dumps(faults).encode(),
            headers={"Content-Type": "application/json"},
            method="POST",
        )
        with urllib.request.urlopen(request, timeout=10) as response:
            assert response.status == 200

    def warehouse(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.warehouse), read_only=True)

    def source(self) -> psycopg.Connection[tuple[object, ...]]:
        return psycopg.connect(self.settings.pg_dsn, autocommit=True)

    def inserted(self, run: int, lane: str) -> dict[str, int]:
        """rows_inserted per stream in the load log during the given run of all lanes."""
        return self._logged(run, lane, "rows_inserted")

    def received(self, run: int, lane: str) -> dict[str, int]:
        """rows_received (sent by the tap) per stream in the load log during the given run."""
        return self._logged(run, lane, "rows_received")

    def _logged(self, run: int, lane: str, column: str) -> dict[str, int]:
        result = self.runs[run][lane]
        assert result.status == "succeeded", result.error
        until = self.started[run + 1] if run + 1 < len(self.started) else datetime.now(UTC)
        with self.warehouse() as wh:
            rows = wh.execute(
                f"SELECT stream, sum({column}) FROM raw_meta.load_log "
                "WHERE lane = ? AND started_at >= ? AND started_at < ? GROUP BY stream",
                [lane, self.started[run], until],
            ).fetchall()
        return {str(stream): int(count) for stream, count in rows}


@pytest.fixture(scope="module")
def loaded_world(sources: Settings, request: pytest.FixtureRequest) -> Iterator[LoadedWorld]:
    """A world generated and loaded once per module, into a warehouse and Meltano state of its
    own (the sources are shared by the whole test run)."""
    own = sources.home / request.module.__name__.rpartition(".")[2]
    own.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTCART_WAREHOUSE", str(own / "warehouse.duckdb"))
        patch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{own / 'meltano.db'}")
        yield from _loaded(sources)


def _loaded(sources: Settings) -> Iterator[LoadedWorld]:
    generate(
        sources,
        seed=7,
        start=datetime(2026, 11, 1, tzinfo=UTC),
        end=datetime(2026, 11, 2, tzinfo=UTC),
        scale=0.002,
    )
    world = LoadedWorld(sources)
    world.run_all()
    yield world
