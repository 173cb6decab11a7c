"""A local world plans and runs SQLMesh at its own clock, production at the wall clock.

The freshness audit measures each lane against SQLMesh's execution time: a world days behind the
wall clock would raise a false alert at every `plan prod` unless the plan runs at the world's time;
`sqlmesh run` has no execution time and takes the world's time as the end of what it may run.
"""

from __future__ import annotations

import re
import subprocess
from datetime import UTC, datetime

import psycopg
import pytest

from brightcart_ops.transform import CLOCK_OPTION, on_business_clock, sqlmesh_bin
from brightcart_world.generator.database import Clock, write_clock
from brightcart_world.settings import Settings

WORLD_NOW = datetime(2026, 11, 3, 5, 0, tzinfo=UTC)


@pytest.fixture
def world_clock(fresh_db: Settings, monkeypatch: pytest.MonkeyPatch) -> Settings:
    """A source database whose generator clock reads WORLD_NOW; settings load() finds it."""
    monkeypatch.setenv("BRIGHTCART_PG_DB", fresh_db.pg_db)
    with psycopg.connect(fresh_db.pg_dsn, autocommit=True) as conn:
        write_clock(conn, Clock(seed=1, scale=0.001, window_start=WORLD_NOW, now=WORLD_NOW))
    return fresh_db


def test_world_plan_and_run_take_the_world_clock(
    world_clock: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIGHTCART_CLOCK", "world")
    at_world = ["--execution-time", "2026-11-03 05:00:00"]
    assert on_business_clock(["plan", "prod", "--auto-apply"]) == [
        "plan",
        "prod",
        "--auto-apply",
        *at_world,
    ]
    assert on_business_clock(["run", "prod"]) == ["run", "prod", "--end", "2026-11-03 05:00:00"]
    explicit = ["run", "prod", "--end", "2026-11-01 00:00:00"]
    assert on_business_clock(explicit) == explicit
    assert on_business_clock(["test"]) == ["test"]


@pytest.mark.parametrize("command", sorted(CLOCK_OPTION))
def test_each_clocked_command_takes_its_clock_option(command: str) -> None:
    """The option given to each command is one the real `sqlmesh <command>` accepts."""
    shown = subprocess.run(
        [sqlmesh_bin(), command, "--help"], capture_output=True, text=True, check=True
    ).stdout
    assert re.search(rf"^\s+(-\w, )?{CLOCK_OPTION[command]}\b", shown, re.MULTILINE), shown


def test_production_keeps_the_wall_clock(
    world_clock: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("BRIGHTCART_CLOCK", raising=False)
    assert on_business_clock(["plan", "prod", "--auto-apply"]) == ["plan", "prod", "--auto-apply"]
