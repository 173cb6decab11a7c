"""Small helpers shared by the guards."""

from __future__ import annotations

import json
import os
import shutil
import sys
from pathlib import Path
from typing import Any


def option(argv: list[str], name: str) -> str | None:
    """The value after ``name`` in a Singer command line (``--config path``), if present."""
    for index, arg in enumerate(argv):
        if arg == name and index + 1 < len(argv):
            return argv[index + 1]
        if arg.startswith(name + "="):
            return arg.split("=", 1)[1]
    return None


def read_json(path: str | None) -> dict[str, Any]:
    if not path:
        return {}
    with open(path, encoding="utf-8") as handle:
        data = json.load(handle)
    return data if isinstance(data, dict) else {}


def real_executable(name: str) -> str:
    """The wrapped tap: next to this interpreter (the plugin's venv), else on PATH."""
    beside = Path(sys.executable).parent / name
    if beside.exists():
        return str(beside)
    found = shutil.which(name)
    if not found:
        sys.stderr.write(f"{name} is not installed next to {sys.executable} nor on PATH\n")
        raise SystemExit(127)
    return found


def exec_real(name: str, argv: list[str]) -> None:
    """Replace this process with the real tap (same pid, same stdio, same signals)."""
    path = real_executable(name)
    os.execv(path, [path, *argv])  # noqa: S606 - the path is our own plugin's executable
