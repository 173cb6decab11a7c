"""A clean environment from the runtime lock (as the image builds it) runs production's commands.

uv builds a new virtual environment from requirements/runtime.lock (wheels come from uv's cache)
and installs this project without its dependencies and without the local world, as the
Dockerfile does. Its `brightcart`, `meltano` and `sqlmesh` start, and neither the generator and
emulators nor moto, dlt or the other bench peers and test tools are in it.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
UV = Path(sys.executable).with_name("uv")
ABSENT = ("brightcart_world", "moto", "dlt", "connectorx", "pyarrow", "pytest", "aws_cdk")


def _run(argv: list[str], cwd: Path) -> str:
    result = subprocess.run(argv, cwd=cwd, capture_output=True, text=True, check=False)
    assert result.returncode == 0, f"{argv}: {result.stdout}\n{result.stderr}"
    return result.stdout


@pytest.fixture(scope="module")
def runtime_venv(tmp_path_factory: pytest.TempPathFactory) -> Path:
    venv = tmp_path_factory.mktemp("runtime") / "venv"
    python = venv / "bin" / "python"
    _run([str(UV), "venv", "-q", "--python", sys.executable, str(venv)], ROOT)
    lock = ROOT / "requirements" / "runtime.lock"
    _run([str(UV), "pip", "install", "-q", "--python", str(python), "-r", str(lock)], ROOT)
    _run([str(UV), "pip", "install", "-q", "--python", str(python), "--no-deps", str(ROOT)], ROOT)
    return venv


def test_production_commands_start(runtime_venv: Path, tmp_path: Path) -> None:
    bin_dir = runtime_venv / "bin"
    usage = _run([str(bin_dir / "brightcart"), "--help"], tmp_path)
    for command in ("run", "lane", "transform", "status", "publish", "env"):
        assert f"│ {command} " in usage, command
    for dev_only in ("world", "sources", "demo"):  # mounted only by the dev distribution
        assert f"│ {dev_only} " not in usage, dev_only
    assert "4.4.1" in _run([str(bin_dir / "meltano"), "--version"], tmp_path)
    assert "0.236.4" in _run([str(bin_dir / "sqlmesh"), "--version"], tmp_path)


def test_the_local_world_and_dev_tools_are_absent(runtime_venv: Path, tmp_path: Path) -> None:
    probe = (
        "import importlib.util, json; "
        f"print(json.dumps({{m: importlib.util.find_spec(m) is not None for m in {ABSENT!r}}}))"
    )
    found = _run([str(runtime_venv / "bin" / "python"), "-c", probe], tmp_path)
    assert found.strip() == "{" + ", ".join(f'"{m}": false' for m in ABSENT) + "}"
    installed = _run(
        [str(UV), "pip", "list", "--python", str(runtime_venv / "bin" / "python")], tmp_path
    )
    names = {line.split()[0].lower() for line in installed.splitlines()[2:] if line.strip()}
    assert {"brightcart", "meltano", "sqlmesh"} <= names
    assert not names & {"brightcart-world", "moto", "dlt", "connectorx", "pyarrow", "pytest"}
