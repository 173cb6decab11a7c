"""A small landed world for the `brightcart` command's tests, and a way to run the command.

Six generated hours at a tiny scale, landed by the real shop lane (`meltano run shop-lane`) into
a warehouse and a Meltano state database of the package's own: raw rows, Meltano state and ops
records exist, so a test can show that a command refused before it changed any of them.
"""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest

from brightcart_ops.lanes import run_lane
from brightcart_world.generator import generate
from brightcart_world.settings import Settings

BRIGHTCART = Path(sys.executable).with_name("brightcart")
START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 1, 6, tzinfo=UTC)


@dataclass
class CliWorld:
    settings: Settings
    warehouse: Path
    meltano_db: Path

    def run(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """`brightcart <args>` in a process of its own, as a shell runs it."""
        return subprocess.run(
            [str(BRIGHTCART), *args],
            env={**os.environ, "COLUMNS": "200", **(env or {})},
            capture_output=True,
            text=True,
            timeout=600,
            stdin=subprocess.DEVNULL,
        )

    def snapshot(self) -> dict[str, Any]:
        """What a refused command must leave as it was: raw and ops tables (row counts and
        their contents' hash), Meltano's state, alerts, the sources' rows and clock, run logs."""
        seen: dict[str, Any] = {}
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            tables = con.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_schema LIKE 'raw_%' OR table_schema = 'ops' ORDER BY 1, 2"
            ).fetchall()
            for schema, table in tables:
                row = con.execute(
                    f'SELECT count(*), sum(hash(t)) FROM "{schema}"."{table}" AS t'
                ).fetchone()
                seen[f"{schema}.{table}"] = tuple(row) if row else None
        with sqlite3.connect(self.meltano_db) as con:
            seen["meltano state"] = con.execute(
                "SELECT state_id, partial_state, completed_state FROM state ORDER BY state_id"
            ).fetchall()
        alerts = self.settings.home / "alerts.jsonl"
        seen["alerts"] = alerts.read_text() if alerts.exists() else ""
        with psycopg.connect(self.settings.pg_dsn) as pg:
            seen["source"] = pg.execute(
                "SELECT (SELECT count(*) FROM shop.orders), (SELECT now FROM generator.clock)"
            ).fetchone()
        logs = self.settings.home / "logs"
        seen["logs"] = sorted(
            (p.name, p.stat().st_size) for p in logs.glob("*.log") if p.name != "cli.log"
        )
        return seen

    def states(self) -> dict[str, Any]:
        with sqlite3.connect(self.meltano_db) as con:
            rows = con.execute("SELECT state_id, completed_state FROM state").fetchall()
        return {state_id: json.loads(value) for state_id, value in rows}


@pytest.fixture(scope="package")
def cli_world(sources: Settings) -> Iterator[CliWorld]:
    own = sources.home / "cli_world"
    own.mkdir(parents=True, exist_ok=True)
    warehouse, meltano_db = own / "warehouse.duckdb", own / "meltano.db"
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTCART_WAREHOUSE", str(warehouse))
        patch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{meltano_db}")
        patch.setenv("BRIGHTCART_WAREHOUSE_START", START.date().isoformat())
        generate(sources, seed=3, start=START, end=END, scale=0.0003)
        landed = run_lane(sources, "shop-lane", "dev", attempts=1)
        assert landed.status == "succeeded", landed.error
        assert landed.rows_loaded > 0
        yield CliWorld(sources, warehouse, meltano_db)
