"""Sessions rebuilt by visitor-day, against the table: a late event joins two sessions that
earlier runs wrote.

The marketing world's raw landing tables are built into a DuckDB file and the part of the project
that builds intermediate.int_sessions is planned to prod up to the world's landing mark. Visitor
a3 then has two sessions on 2026-11-02 (14:00-14:20 and 14:55-14:56, 35 minutes apart). One more
event of a3, at 14:40 that day, lands in the next hour; an hourly `run` follows. The table must
now hold what a plain-Python sessionization of every kept event gives: one a3 session from 14:00
to 14:56, and every other session unchanged. Without the statement that deletes a touched
visitor-day's sessions before the query, the later of the two old sessions would stay beside the
joined one.
"""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import duckdb
import pytest
from marketing_world import (
    LANDED_TO,
    Event,
    build_warehouse,
    event_row,
    kept_events,
    python_sessions,
    ts,
)
from project_copy import copy_project, upstream_files
from sqlmesh import Context

MODEL = "intermediate.int_sessions"
LATE = Event("e40", "page_view", "a3", ts(2, 14, 40), received_at=LANDED_TO + timedelta(minutes=20))
NEXT_HOUR = LANDED_TO + timedelta(hours=1)
COLUMNS = "anonymous_id, session_started_at, session_ended_at, landing_event_id"


def sessions(context: Context) -> list[tuple[Any, ...]]:
    rows = context.engine_adapter.fetchall(f"SELECT {COLUMNS} FROM {MODEL} ORDER BY 1, 2")
    return [tuple(row) for row in rows]


def land(path: Path, event: Event) -> None:
    """The event lands in the hour after the world's mark, and the events lane records it."""
    conn = duckdb.connect(str(path))
    try:
        key = f"events/dt={event.received:%Y-%m-%d}/hour={event.received:%H}/late.gz"
        conn.execute(
            "INSERT INTO raw_events.events VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            event_row(event, key, 1),
        )
        conn.execute(
            "INSERT INTO raw_meta.load_log VALUES "
            "('load-events-2', 'events', 'all', ?, ?, 1, 1, 0, ?, 'succeeded')",
            [event.received, event.received, NEXT_HOUR],
        )
    finally:
        conn.close()


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, list[tuple[Any, ...]]]]:
    """int_sessions after the plan, and after the hourly run that follows the late event."""
    home = Path(tempfile.mkdtemp(prefix="sessions-", dir=tmp_path_factory.getbasetemp()))
    project = copy_project(home / "project", upstream_files(MODEL))
    warehouse = home / "warehouse.duckdb"
    build_warehouse(warehouse)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTCART_HOME", str(home))
        patch.setenv("BRIGHTCART_WAREHOUSE", str(warehouse))
        patch.setenv("BRIGHTCART_WAREHOUSE_START", "2026-10-25")
        patch.setenv("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "1")
        try:
            context = Context(paths=str(project), gateway="local")
            try:
                context.plan(
                    "prod",
                    auto_apply=True,
                    no_prompts=True,
                    skip_tests=True,
                    skip_linter=True,
                    execution_time=LANDED_TO,
                )
                planned = sessions(context)
            finally:
                context.close()
            land(warehouse, LATE)
            context = Context(paths=str(project), gateway="local")
            try:
                context.run("prod", execution_time=NEXT_HOUR)
                ran = sessions(context)
            finally:
                context.close()
            yield {"planned": planned, "ran": ran}
        finally:
            shutil.rmtree(home, ignore_errors=True)


def a3_on_the_2nd(rows: list[tuple[Any, ...]]) -> list[tuple[str, str]]:
    return [
        (f"{row[1]:%H:%M}", f"{row[2]:%H:%M}")
        for row in rows
        if row[0] == "a3" and row[1].date() == ts(2, 0).date()
    ]


def test_the_plan_builds_the_sessions_of_the_events_landed_before_it(
    runs: dict[str, list[tuple[Any, ...]]],
) -> None:
    assert runs["planned"] == sorted(python_sessions(kept_events()).rows)
    assert a3_on_the_2nd(runs["planned"]) == [("14:00", "14:20"), ("14:55", "14:56")]


def test_a_late_event_joins_two_sessions_written_by_earlier_runs(
    runs: dict[str, list[tuple[Any, ...]]],
) -> None:
    expected = sorted(python_sessions([*kept_events(), LATE]).rows)
    assert a3_on_the_2nd(expected) == [("14:00", "14:56")]
    assert runs["ran"] == expected
    untouched = [row for row in runs["planned"] if row[0] != "a3"]
    assert [row for row in runs["ran"] if row[0] != "a3"] == untouched
