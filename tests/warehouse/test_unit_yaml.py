"""The SQLMesh YAML unit tests of this part pass (and are found where SQLMesh looks: tests/)."""

from __future__ import annotations

import shutil

import pytest

from . import project


def test_sqlmesh_yaml_unit_tests_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    workdir = project.temp_dir("unit-")
    try:
        copy = project.copy_project(workdir / "project")
        shutil.copytree(project.ROOT / "tests" / "sqlmesh", copy / "tests" / "sqlmesh")
        for name, value in project.duckdb_env(workdir).items():
            monkeypatch.setenv(name, value)
        context = project.context(copy)
        result = context.test()
        assert result.testsRun == 5
        assert result.wasSuccessful(), [str(e) for e in result.failures + result.errors]
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
