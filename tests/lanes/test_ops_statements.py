"""The ops statements a lane run writes to the local warehouse carry their values as literals.

DuckDB's Python client imports pandas the first time a statement binds parameters, a quarter of
a CPU second in every lane run for a handful of small statements; the ops `Warehouse` writes the
values into the statement instead. These tests hold that the rows are the same as bound ones,
value for value and type for type, on a real DuckDB file, quotes and question marks in text
included, and that a run record written this way leaves pandas unimported.
"""

from __future__ import annotations

import subprocess
import sys
from datetime import UTC, date, datetime, timedelta, timezone
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import pytest

from brightcart_ops.warehouse import Warehouse, inline_params
from brightcart_world.settings import Settings

VALUES: list[Any] = [
    None,
    True,
    False,
    7,
    -3,
    2**40,
    1.25,
    float("-inf"),
    Decimal("12.340"),
    Decimal("-3"),
    Decimal("0.001"),
    "it's a ? and a -- and a \\",
    "",
    datetime(2026, 12, 7, 18, 0, 1, 123456, tzinfo=UTC),
    datetime(2026, 12, 7, 18, 0, tzinfo=timezone(timedelta(hours=2))),
    datetime(2026, 1, 1, 3, 4, 5),
    date(2026, 2, 3),
]


def test_literals_equal_bound_parameters_in_value_and_type() -> None:
    con = duckdb.connect()
    sql = "SELECT " + ", ".join("?" for _ in VALUES)
    statement, bound = inline_params(sql, VALUES)
    assert bound == ()
    assert "?" in statement  # the one inside the text value, not a placeholder
    inlined = con.execute(statement)
    inlined_types = [column[1] for column in inlined.description]
    inlined_rows = inlined.fetchall()
    reference = con.execute(sql, VALUES)
    assert inlined_rows == reference.fetchall()
    assert inlined_types == [column[1] for column in reference.description]
    # a negative number after a minus sign stays a number, not a comment
    assert con.execute(inline_params("SELECT 5-?", [-3])[0]).fetchall() == [(8,)]


def test_values_without_a_literal_are_bound_and_miscounted_placeholders_refused() -> None:
    statement, bound = inline_params("SELECT ?, ?", ["a", [1, 2]])
    assert (statement, bound) == ("SELECT ?, ?", ("a", [1, 2]))
    assert duckdb.connect().execute(statement, bound).fetchall() == [("a", [1, 2])]
    with pytest.raises(ValueError, match="2 placeholders for 1 parameters"):
        inline_params("SELECT ?, ?", ["a"])


def test_rows_written_through_the_warehouse_equal_bound_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(tmp_path / "wh.duckdb"))
    warehouse = Warehouse(Settings(home=tmp_path), "local")
    columns = ", ".join(f"c{i} {kind}" for i, kind in enumerate(_column_types()))
    warehouse.execute(f"CREATE TABLE t ({columns})")
    marks = ", ".join("?" for _ in VALUES)
    warehouse.execute(f"INSERT INTO t VALUES ({marks})", VALUES)
    with duckdb.connect(str(tmp_path / "wh.duckdb")) as con:
        con.execute(f"INSERT INTO t VALUES ({marks})", VALUES)
        rows = con.execute("SELECT * FROM t").fetchall()
    assert len(rows) == 2 and rows[0] == rows[1]
    found = warehouse.query("SELECT count(*) FROM t WHERE c11 = ? AND c3 = ?", (VALUES[11], 7))
    assert found == [(2,)]


def _column_types() -> list[str]:
    con = duckdb.connect()
    sql = "SELECT " + ", ".join("?" for _ in VALUES)
    kinds = [column[1] for column in con.execute(sql, VALUES).description]
    return ["INTEGER" if kind == "NUMBER" else str(kind) for kind in kinds]


def test_a_run_record_leaves_pandas_unimported(tmp_path: Path) -> None:
    code = (
        "import sys\n"
        "from datetime import UTC, datetime\n"
        "from brightcart_ops.opslog import PipelineRun, record_run\n"
        "from brightcart_ops.warehouse import Warehouse\n"
        "from brightcart_world.settings import Settings\n"
        "warehouse = Warehouse(Settings(home=sys.argv[1]), 'local')\n"
        "now = datetime.now(tz=UTC)\n"
        "run = PipelineRun(job='shop-lane', lane='shop', environment='dev', attempt=1,\n"
        "    started_at=now, finished_at=now, status='succeeded', rows_loaded=3,\n"
        '    error="it\'s ? fine")\n'
        "record_run(warehouse, run)\n"
        "print(warehouse.query('SELECT job, rows_loaded, error FROM ops.pipeline_runs'))\n"
        "print('pandas' in sys.modules)\n"
    )
    env = {"BRIGHTCART_WAREHOUSE": str(tmp_path / "wh.duckdb"), "PATH": "/usr/bin:/bin"}
    proc = subprocess.run(
        [sys.executable, "-c", code, str(tmp_path)],
        capture_output=True,
        text=True,
        env=env,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    assert proc.stdout.splitlines() == ["[('shop-lane', 3, \"it's ? fine\")]", "False"]
