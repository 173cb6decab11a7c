"""The SQLMesh YAML unit tests pass (and are found where SQLMesh looks: tests/).

Two sets: this part's (tests/sqlmesh/, on this part's project files) and the project-wide ones at
the top of tests/ (attribution, CAC/ROAS, sessions, duplicate and late events, the typed event
lines), which need the marketing models too and so run on a copy of the whole project.
"""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
from project_copy import copy_project

from . import project

TOP_LEVEL_TESTS = sorted((project.ROOT / "tests").glob("test_*.yaml"))


def _run(copy: Path, monkeypatch: pytest.MonkeyPatch, workdir: Path, expected: int) -> None:
    for name, value in project.duckdb_env(workdir).items():
        monkeypatch.setenv(name, value)
    context = project.context(copy)
    try:
        result = context.test()
    finally:
        context.close()
    assert result.testsRun == expected
    assert result.wasSuccessful(), [str(e) for e in result.failures + result.errors]


def test_sqlmesh_yaml_unit_tests_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    workdir = project.temp_dir("unit-")
    try:
        copy = project.copy_project(workdir / "project")
        shutil.copytree(project.ROOT / "tests" / "sqlmesh", copy / "tests" / "sqlmesh")
        _run(copy, monkeypatch, workdir, 6)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def test_top_level_sqlmesh_yaml_unit_tests_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    assert len(TOP_LEVEL_TESTS) == 6, [p.name for p in TOP_LEVEL_TESTS]
    workdir = project.temp_dir("unit-top-")
    try:
        copy = copy_project(workdir / "project")
        (copy / "tests").mkdir()
        for test in TOP_LEVEL_TESTS:
            shutil.copy2(test, copy / "tests" / test.name)
        _run(copy, monkeypatch, workdir, 10)  # attribution 2, sessions 4, events 2, lines 1
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
