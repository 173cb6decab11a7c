"""Fixtures for the warehouse tests: temp project copies on real DuckDB files (and PostgreSQL)."""

from __future__ import annotations

import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from sqlmesh import Context

from . import project


@dataclass
class Built:
    """A temp copy of the project planned into prod on a DuckDB warehouse holding the fixture."""

    workdir: Path
    project: Path
    context: Context

    def rows(self, sql: str) -> list[tuple[Any, ...]]:
        return [tuple(row) for row in self.context.engine_adapter.fetchall(sql)]

    def run(self) -> None:
        """`sqlmesh run` of prod at the wall clock, which must not fail. A run evaluates the
        hourly views (and their blocking audits, over every row) only when a new wall-clock hour
        has begun since the last run, so a run whose failure went unchecked would let a test pass
        or fail by the minute it ran in."""
        status = self.context.run()
        assert not status.is_failure, f"sqlmesh run: {status.value}"

    def checksum(self, table: str) -> tuple[Any, ...]:
        """Row count and an order-independent hash over every row of ``table`` (DuckDB)."""
        return self.rows(f"SELECT COUNT(*), SUM(HASH(CAST(t AS VARCHAR))) FROM {table} AS t")[0]


def build(prefix: str, monkeypatch: pytest.MonkeyPatch) -> Built:
    workdir = project.temp_dir(prefix)
    copy = project.copy_project(workdir / "project")
    for name, value in project.duckdb_env(workdir).items():
        monkeypatch.setenv(name, value)
    project.load_duckdb_fixture(workdir / "warehouse.duckdb")
    context = project.context(copy)
    context.plan(auto_apply=True, no_prompts=True)
    return Built(workdir, copy, context)


@pytest.fixture(scope="package")
def built_once() -> Iterator[Path]:
    """The project planned into prod once per test run: a folder holding the project copy, the
    warehouse and its state, which `built` copies for each module (nothing opened on it)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        result = build("build-once-", monkeypatch)
        result.context.close()
    try:
        yield result.workdir
    finally:
        shutil.rmtree(result.workdir, ignore_errors=True)


@pytest.fixture(scope="module")
def built(built_once: Path) -> Iterator[Built]:
    """One planned project per test module, a copy of the one planned once (warehouse, SQLMesh
    state and project files); tests in a module may share and extend its state."""
    workdir = project.temp_dir("build-")
    shutil.copytree(
        built_once, workdir, dirs_exist_ok=True, ignore=shutil.ignore_patterns(".cache", "logs")
    )
    with pytest.MonkeyPatch.context() as monkeypatch:
        for name, value in project.duckdb_env(workdir).items():
            monkeypatch.setenv(name, value)
        context = project.context(workdir / "project")
        try:
            yield Built(workdir, workdir / "project", context)
        finally:
            context.close()
            shutil.rmtree(workdir, ignore_errors=True)
