"""One world for every finance test: a copy of the session's generated world, shared in order.

`finance_world` is a copy (tests/generated_world.py: source database, DuckDB warehouse and its
SQLMesh state, Meltano state) of the world the dashboard tests read: late, partial and cancelled
money from START to END, landed by the four real lanes and planned to prod by the real `sqlmesh`.
Building a world takes most of the time, so it is built once per session and copied here, since
these tests change it; the reconciliation test and the late-money test share the copy.

Both tests change the world, so they run in a fixed order (`pytest_collection_modifyitems`
below), whatever order pytest collects them in (alphabetically the late-money module would
come first):

1. test_reconcile_marts.py needs a clean world first: it checks that every day of the finance
   marts matches the source before it corrupts one old day and has `brightcart reconcile` repair
   it, which leaves the marts equal to the source again.
2. test_late_money.py writes late money into the source (a refund 10 days back, a chargeback 30
   days back, a correction of an old order) and runs one more hour. Run first, any day it touches
   that the marts had not caught up with would show in the reconciliation test as a mismatch
   that test did not make.

A module not listed in RUN_ORDER runs before both, on the untouched world.
"""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import generated_world as worlds
import psycopg
import pytest
from typer.testing import CliRunner

from brightcart_ops.finance_cli import app
from brightcart_world.settings import Settings

from .figures import END, FIRST, LAST

RUN_ORDER = ("test_reconcile_marts.py", "test_late_money.py")
HERE = Path(__file__).resolve().parent


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Put this package's tests in RUN_ORDER, in the places they were collected into."""
    slots = [n for n, item in enumerate(items) if item.path.parent == HERE]
    ours = [items[n] for n in slots]
    rank = {name: n for n, name in enumerate(RUN_ORDER)}
    ours.sort(key=lambda item: rank.get(item.path.name, -1))  # stable: test order within a file
    for slot, item in zip(slots, ours, strict=True):
        items[slot] = item


@dataclass
class FinanceWorld:
    settings: Settings

    def alerts(self) -> list[dict[str, Any]]:
        """The local alert sink's lines (the session's home: other worlds' alerts too)."""
        path = self.settings.home / "alerts.jsonl"
        lines = path.read_text().splitlines() if path.is_file() else []
        return [json.loads(line) for line in lines]

    def source(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.settings.pg_dsn, autocommit=True) as con:
            return list(con.execute(sql, {"end": END}).fetchall())

    def warehouse(self, sql: str, params: tuple[object, ...] = ()) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql, params).fetchall()

    def corrupt(self, view: str, sql: str, params: tuple[object, ...]) -> int:
        """Change the physical table behind a prod view; returns the rows changed (RETURNING)."""
        schema, name = view.split(".")
        with duckdb.connect(str(self.settings.warehouse)) as con:
            ((definition,),) = con.execute(
                "SELECT sql FROM duckdb_views() WHERE schema_name = ? AND view_name = ?",
                (schema, name),
            ).fetchall()
            found = re.search(r"FROM\s+(\S+?)\s*;?\s*$", definition.strip())
            assert found, definition
            return len(con.execute(sql.format(table=found.group(1)), params).fetchall())

    def reconcile(self) -> tuple[int, str]:
        """`brightcart reconcile` over every business day of the world."""
        after = (LAST + timedelta(days=1)).isoformat()
        outcome = CliRunner().invoke(
            app, ["reconcile", "--start", FIRST.isoformat(), "--end", after]
        )
        return outcome.exit_code, outcome.output

    def results(self) -> list[tuple[Any, ...]]:
        return self.warehouse(
            "SELECT run_id, phase, entity, day, status, source_count, warehouse_count, "
            "source_sum, warehouse_sum, detail FROM ops.reconciliation_results "
            "ORDER BY checked_at, entity, day"
        )


@pytest.fixture(scope="package")
def finance_world(generated_world: worlds.World) -> Iterator[FinanceWorld]:
    world = worlds.copy(generated_world)
    try:
        with pytest.MonkeyPatch.context() as patch:
            world.use(patch)
            yield FinanceWorld(world.settings)
    finally:
        worlds.drop(world)
