"""Copy the SQLMesh project (or a part of its models) into a folder, for tests that plan, run or
serve a project of their own without touching the repository's.

Everything but the models is copied whole: the config, the external models, macros, audits,
signals and the linter rules. The models are either all of models/ or the given model files only
(a part of the project computed from its dependency graph, say).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# What SQLMesh loads at the project's root, besides models/ and tests/.
PROJECT_PARTS = ("config.py", "external_models.yaml", "macros", "audits", "signals", "linter")


def copy_project(target: Path, models: Iterable[Path] | None = None) -> Path:
    """Copy the project into `target` (created if missing) and return it: every model when
    `models` is None, else only those model files (paths under the repository's models/)."""
    target.mkdir(parents=True, exist_ok=True)
    ignore = shutil.ignore_patterns("__pycache__")
    for name in PROJECT_PARTS:
        source = ROOT / name
        if source.is_dir():
            shutil.copytree(source, target / name, ignore=ignore)
        else:
            shutil.copy2(source, target / name)
    if models is None:
        shutil.copytree(ROOT / "models", target / "models", ignore=ignore)
        return target
    for path in models:
        destination = target / Path(path).resolve().relative_to(ROOT)
        destination.parent.mkdir(parents=True, exist_ok=True)
        shutil.copy2(path, destination)
    return target
