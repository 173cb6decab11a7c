"""One generated world for every finance test: built once per package, shared in a fixed order.

`finance_world` generates the world of tests/finance/figures.py (late, partial and cancelled
money from START to END) into a source database of its own, lands it with the four real lanes
(`run_lane`, as the schedule runs them) into a DuckDB warehouse and a Meltano state of its own,
and plans prod with the real `sqlmesh` (`brightcart_ops.transform.run_sqlmesh`). Building it takes
most of the package's time, so the reconciliation test and the late-money test share it.

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
import shutil
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import pytest
from typer.testing import CliRunner

from brightcart_ops.finance_cli import app
from brightcart_ops.lanes import run_lane
from brightcart_ops.registry import registry
from brightcart_ops.transform import run_sqlmesh
from brightcart_world.generator import generate
from brightcart_world.settings import Settings
from brightcart_world.sources.isolation import unique_db_name
from brightcart_world.sources.pgdb import drop_database, ensure_database

from .figures import END, FIRST, LAST, SCALE, SEED, START

RUN_ORDER = ("test_reconcile_marts.py", "test_late_money.py")
HERE = Path(__file__).resolve().parent
# The plan skips the project's YAML unit tests and its linter: tests/warehouse and `make lint`
# run them once.
PLAN = ["plan", "prod", "--auto-apply", "--no-prompts", "--skip-tests", "--skip-linter"]


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
def finance_world(sources: Settings) -> Iterator[FinanceWorld]:
    own = sources.home / f"finance-{uuid.uuid4().hex[:8]}"
    own.mkdir(parents=True)
    settings = sources.model_copy(update={"pg_db": unique_db_name("fin")})
    with pytest.MonkeyPatch.context() as patch:  # the session's home: the sources' TLS files
        patch.setenv("BRIGHTCART_PG_DB", settings.pg_db)
        patch.setenv("BRIGHTCART_WAREHOUSE", str(own / "warehouse.duckdb"))
        patch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{own / 'meltano.db'}")
        patch.setenv("BRIGHTCART_WAREHOUSE_START", START.date().isoformat())
        patch.setenv("BRIGHTCART_CLOCK", "world")
        patch.delenv("BRIGHTCART_ALERT_TOPIC_ARN", raising=False)
        ensure_database(settings)
        try:
            generate(settings, seed=SEED, start=START, end=END, scale=SCALE)
            for name, lane in registry().lanes.items():
                result = run_lane(settings, lane.job, "dev", attempts=1)
                assert result.status == "succeeded", f"{name} lane: {result.error}"
            plan = run_sqlmesh(settings, PLAN, job="plan")
            assert plan.exit_code == 0, plan.output_tail
            yield FinanceWorld(settings)
        finally:
            drop_database(settings)
            shutil.rmtree(own, ignore_errors=True)
