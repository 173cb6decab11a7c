"""The project layout keeps the sqlmesh library importable and the design card's top level."""

from __future__ import annotations

import importlib
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_sqlmesh_folder_never_shadows_the_library() -> None:
    assert not (ROOT / "sqlmesh" / "__init__.py").exists()
    sqlmesh = importlib.import_module("sqlmesh")
    assert "site-packages" in str(sqlmesh.__file__), sqlmesh.__file__
    assert hasattr(sqlmesh, "Context")


def test_design_card_top_level_exists() -> None:
    for name in ["extract", "sqlmesh", "models", "audits", "macros", "ops", "tests", "README.md"]:
        assert (ROOT / name).exists(), name
