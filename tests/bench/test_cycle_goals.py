"""The hourly cycle's goal lines: the verdict follows the figures given, a failed step has none,
and the cycle's own goals hold at 1:100 of production only. The cycle's goal is held against the
pipeline's cycle, without the world's advance (the sources' hour)."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import duckdb

from bench.figures import NOTHING_NEW, PIPELINE_CYCLE, Step
from bench.report import cycle_goals
from bench.transform import hourly_lanes, last_publish, publish_outcome


def test_each_goal_is_met_only_under_its_limit() -> None:
    lines = cycle_goals(
        [
            Step("whole cycle", 75.0, 1_600.0, "ok"),
            Step(PIPELINE_CYCLE, 59.9, 1_600.0, "ok"),
            Step("sqlmesh run prod", 40.0, 1_536.0, "ok"),
            Step(NOTHING_NEW, 5.0, 900.0, "ok"),
        ],
        1.0,
    )
    assert lines == [
        "- hourly cycle at 1:100 < 60 s (the pipeline's: lanes, run, publish): 59.9 s — met",
        "- `sqlmesh run prod` at 1:100 peak < 1,536 MiB: 1,536.0 MiB — not met",
        "- `sqlmesh run prod` with nothing new < 5 s: 5.0 s — not met",
    ]


def test_a_failed_or_missing_step_gives_no_verdict() -> None:
    lines = cycle_goals([Step("sqlmesh run prod", 12.0, 800.0, "failed (exit 1)")], 1.0)
    assert lines == []


def test_below_1_to_100_only_the_run_with_nothing_new_has_a_goal() -> None:
    steps = [Step("whole cycle", 30.0, 900.0, "ok"), Step(NOTHING_NEW, 4.0, 300.0, "ok")]
    assert cycle_goals(steps, 0.05) == ["- `sqlmesh run prod` with nothing new < 5 s: 4.0 s — met"]


def test_the_hourly_cycle_runs_the_lanes_production_runs_every_hour() -> None:
    """From meltano.yml's schedules: shop and events at :05, crm at :10; marketing is daily."""
    assert hourly_lanes() == ["shop", "events", "crm"]


class _Warehouse:
    """A world's warehouse_query over a DuckDB file."""

    def __init__(self, path: str) -> None:
        self.path = path

    def warehouse_query(self, sql: str, params: list[object] | None = None) -> list[tuple]:
        with duckdb.connect(self.path, read_only=True) as con:
            return con.execute(sql, params or []).fetchall()


def test_the_cycle_reports_how_the_runs_publish_ended(tmp_path: Path) -> None:
    """The newest publish batch's decisions, counted by status; the older batch is not counted."""
    path = str(tmp_path / "warehouse.duckdb")
    with duckdb.connect(path) as con:
        con.execute("CREATE SCHEMA ops")
        con.execute(
            "CREATE TABLE ops.publish_log "
            "(batch_id VARCHAR, status VARCHAR, published_at TIMESTAMPTZ)"
        )
        con.execute(
            "INSERT INTO ops.publish_log VALUES "
            "('plan', 'succeeded', TIMESTAMPTZ '2026-12-07 20:00:00+00'), "
            "('plan', 'succeeded', TIMESTAMPTZ '2026-12-07 20:00:00+00'), "
            "('run', 'deferred', TIMESTAMPTZ '2026-12-07 20:03:00+00'), "
            "('run', 'deferred', TIMESTAMPTZ '2026-12-07 20:03:00+00'), "
            "('run', 'succeeded', TIMESTAMPTZ '2026-12-07 20:03:00+00')"
        )
    world = _Warehouse(path)
    at, statuses = last_publish(world)  # type: ignore[arg-type]
    assert (at, statuses) == (
        datetime(2026, 12, 7, 20, 3, tzinfo=UTC),
        {"deferred": 2, "succeeded": 1},
    )
    assert publish_outcome(world) == "publish: 2 deferred, 1 succeeded"  # type: ignore[arg-type]
