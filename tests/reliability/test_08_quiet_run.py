"""A `sqlmesh run` with nothing landed since the models last ran recomputes nothing; the next run
after a load recomputes the lookback hours again.

SQLMesh puts the 72 processed lookback hours of the marketing marts back in every run's batch;
the `sources_landed` signal drops them when the run is quiet (signals/sources_landed.py). Here rows
of a processed hour of `marts_marketing.sessions` are deleted from its physical table behind
SQLMesh's back: the quiet run leaves the hole, which shows that it evaluated nothing, and the run
after the shop lane landed an hour fills it with exactly the rows it held, which shows that a load
brings the lookback back, across the graph (the shop lane is not a lane the model reads).
"""

from __future__ import annotations

import re
from datetime import timedelta

import duckdb

from brightcart_world.generator import advance

from .harness import RelWorld, SqlmeshProd

MODEL = ("marts_marketing", "sessions")


def _physical(rel: RelWorld) -> str:
    """The table behind prod's view of the model."""
    with rel.warehouse() as wh:
        row = wh.execute(
            "SELECT sql FROM duckdb_views() WHERE schema_name = ? AND view_name = ?", list(MODEL)
        ).fetchone()
    assert row, f"no prod view {'.'.join(MODEL)}"
    found = re.search(r"\bFROM\s+([\w.\"]+)", str(row[0]))
    assert found, row[0]
    return found.group(1)


def _hour(rel: RelWorld, table: str, start: object) -> tuple[int, int]:
    (row,) = rel.wh_rows(
        f"SELECT count(*), coalesce(sum(hash(session_key)), 0) FROM {table} "
        "WHERE session_started_at >= ? AND session_started_at < ?",
        [start, start + timedelta(hours=1)],  # type: ignore[operator]
    )
    return int(row[0]), int(row[1])


def _run(rel: RelWorld) -> None:
    proc = rel.sqlmesh_popen("run")
    assert rel.wait_clean("sqlmesh", proc) == 0, rel.output_tail(proc, 40)


def test_a_quiet_run_recomputes_nothing_and_a_load_brings_the_lookback_back(
    rel: RelWorld, sqlmesh_prod: SqlmeshProd
) -> None:
    _run(rel)  # whatever landed before is taken in: the next run with nothing new is quiet
    table = _physical(rel)
    (newest,) = rel.wh_rows(f"SELECT date_trunc('hour', max(session_started_at)) FROM {table}")
    hour = newest[0] - timedelta(hours=1)  # a full processed hour inside the lookback
    before = _hour(rel, table, hour)
    assert before[0] > 0, f"no session in {hour}"
    with duckdb.connect(str(rel.settings.warehouse)) as con:
        con.execute(
            f"DELETE FROM {table} WHERE session_started_at >= ? AND session_started_at < ?",
            [hour, hour + timedelta(hours=1)],
        )
    assert _hour(rel, table, hour) == (0, 0)

    _run(rel)
    assert _hour(rel, table, hour) == (0, 0), "the run with nothing landed recomputed the hour"

    advance(rel.settings, hours=1)
    shop = rel.lane("shop")
    assert shop.status == "succeeded", shop.error
    _run(rel)
    assert _hour(rel, table, hour) == before, "the run after a load left the hour as it was"
