"""Restating through the real sqlmesh command recomputes exactly the chosen days in prod."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import date
from decimal import Decimal
from pathlib import Path

import duckdb
import pytest
from sqlmesh import Context

from brightcart_ops.restate import restate
from brightcart_world.settings import Settings

MODEL = """MODEL (
  name marts_finance.daily_totals,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day),
  cron '@daily',
  start '2026-11-01',
  dialect duckdb
);
SELECT day, CAST(sum(amount) AS DECIMAL(12, 2)) AS total
FROM raw_fin.entries WHERE day BETWEEN @start_ds AND @end_ds GROUP BY day
"""


@pytest.fixture
def project(monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[Path, Settings]]:
    root = Path("/tmp/rec") / f"restate-{uuid.uuid4().hex[:8]}"
    (root / "models").mkdir(parents=True)
    warehouse = root / "warehouse.duckdb"
    (root / "config.yaml").write_text(
        f"gateways:\n  local:\n    connection: {{type: duckdb, database: '{warehouse}'}}\n"
        f"    state_connection: {{type: duckdb, database: '{root / 'state.duckdb'}'}}\n"
        "default_gateway: local\nmodel_defaults: {dialect: duckdb}\n"
    )
    (root / "models" / "daily_totals.sql").write_text(MODEL)
    with duckdb.connect(str(warehouse)) as con:
        con.execute("CREATE SCHEMA raw_fin")
        con.execute("CREATE TABLE raw_fin.entries (day DATE, amount DECIMAL(12, 2))")
        con.execute(
            "INSERT INTO raw_fin.entries VALUES ('2026-11-01', 1), ('2026-11-02', 2), "
            "('2026-11-03', 3)"
        )
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(warehouse))
    context = Context(paths=str(root), gateway="local")
    try:
        context.plan("prod", auto_apply=True, no_prompts=True)
    finally:
        context.close()
    yield root, Settings(home=root)
    shutil.rmtree(root, ignore_errors=True)


def totals(root: Path) -> dict[str, Decimal]:
    with duckdb.connect(str(root / "warehouse.duckdb"), read_only=True) as con:
        rows = con.execute("SELECT day, total FROM marts_finance.daily_totals").fetchall()
    return {str(day): Decimal(str(total)) for day, total in rows}


def test_restate_recomputes_only_the_window(project: tuple[Path, Settings]) -> None:
    root, settings = project
    assert totals(root) == {"2026-11-01": 1, "2026-11-02": 2, "2026-11-03": 3}
    with duckdb.connect(str(root / "warehouse.duckdb")) as con:
        con.execute("UPDATE raw_fin.entries SET amount = amount + 10")  # late changes, all days

    restate(
        settings, ["marts_finance.daily_totals"], date(2026, 11, 2), date(2026, 11, 2), project=root
    )
    assert totals(root) == {"2026-11-01": 1, "2026-11-02": 12, "2026-11-03": 3}

    restate(
        settings, ["marts_finance.daily_totals"], date(2026, 11, 2), date(2026, 11, 2), project=root
    )  # a second restatement of the same window changes nothing
    assert totals(root) == {"2026-11-01": 1, "2026-11-02": 12, "2026-11-03": 3}
