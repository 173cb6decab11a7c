"""The layer contracts of pyproject.toml (run by `make lint`) hold, and they can fail.

The failing cases run `lint-imports` on a throw-away copy of the production packages, never on
the real tree: the same contracts, then one deliberate bad import, and the contract breaks.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
LINT_IMPORTS = Path(sys.executable).with_name("lint-imports")


def _lint(tree: Path) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "PYTHONPATH": str(tree)}
    return subprocess.run(
        [str(LINT_IMPORTS), "--config", str(tree / "pyproject.toml"), "--no-cache"],
        cwd=tree,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )


@pytest.fixture
def tree(tmp_path: Path) -> Path:
    """A copy of the production packages and a stand-in local world, with our contracts."""
    shutil.copytree(ROOT / "ops" / "brightcart_ops", tmp_path / "brightcart_ops")
    shutil.copytree(ROOT / "sqlmesh" / "brightcart_sqlmesh", tmp_path / "brightcart_sqlmesh")
    (tmp_path / "brightcart_world").mkdir()
    (tmp_path / "brightcart_world" / "__init__.py").write_text('"""stand-in world"""\n')
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


def _add_import(module: Path, line: str) -> None:
    text = module.read_text(encoding="utf-8")
    module.write_text(
        text.replace(
            "from __future__ import annotations\n",
            f"from __future__ import annotations\n\n{line}\n",
            1,
        )
    )


def test_the_real_tree_keeps_every_contract() -> None:
    result = subprocess.run(
        [str(LINT_IMPORTS), "--no-cache"], cwd=ROOT, capture_output=True, text=True, check=False
    )
    assert result.returncode == 0, result.stdout + result.stderr
    assert " 0 broken" in result.stdout


def test_the_copy_keeps_them_too(tree: Path) -> None:
    result = _lint(tree)
    assert result.returncode == 0, result.stdout + result.stderr


def test_production_importing_the_local_world_breaks_the_contract(tree: Path) -> None:
    _add_import(tree / "brightcart_ops" / "registry.py", "import brightcart_world  # bad")
    result = _lint(tree)
    assert result.returncode == 1, result.stdout
    assert "Production code never imports the local world" in result.stdout
    assert "BROKEN" in result.stdout
    assert "brightcart_ops.registry -> brightcart_world" in result.stdout


def test_settings_importing_the_cli_breaks_the_layers(tree: Path) -> None:
    _add_import(tree / "brightcart_ops" / "settings.py", "import brightcart_ops.cli  # bad")
    result = _lint(tree)
    assert result.returncode == 1, result.stdout
    assert "brightcart_ops.settings -> brightcart_ops.cli" in result.stdout
