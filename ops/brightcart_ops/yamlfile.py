"""Reading the project's YAML files with libyaml's C parser when PyYAML has it.

The lane registry reads meltano.yml in every process that starts (the runner, each SQLMesh load
through the signal's heartbeat table, the CLI): the pure-Python safe loader takes about 0.1 s for
it, the C one under 0.01 s. Both build the same values (safe tags only)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml

_LOADER: Any = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


def read_yaml(path: Path) -> Any:
    """`yaml.safe_load` of a UTF-8 file, with the C parser when available."""
    return yaml.load(path.read_text(encoding="utf-8"), Loader=_LOADER)  # noqa: S506 - a safe loader
