"""Copy the SQLMesh project (or a part of its models) into a folder, for tests that plan, run or
serve a project of their own without touching the repository's.

Everything but the models is copied whole: the config, the external models, macros, audits,
signals and the linter rules. The models are either all of models/ or the given model files only
(a part of the project computed from its dependency graph, say).
"""

from __future__ import annotations

import shutil
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

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


def upstream(models: Mapping[str, Any], names: Iterable[str]) -> set[str]:
    """The models `names` and every model they read, directly or not (fully qualified names, as
    keys of `models`: a context's models by fqn)."""
    keep: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name not in keep and name in models:
            keep.add(name)
            stack.extend(models[name].depends_on or ())
    return keep


def model_paths(models: Mapping[str, Any], names: Iterable[str]) -> list[Path]:
    """The files of the models `names` that have one (external models have none)."""
    paths = [models[n]._path for n in names if not models[n].kind.is_symbolic]
    return sorted(Path(p) for p in paths if p is not None)


def upstream_files(*names: str) -> list[Path]:
    """The model files of `names` (as written in the project, e.g. intermediate.int_sessions)
    and of every model they read: the part of the project that builds them."""
    from sqlmesh import Context

    context = Context(paths=str(ROOT))
    try:
        models = {m.fqn: m for m in context.models.values()}
        return model_paths(models, upstream(models, [context.get_model(n).fqn for n in names]))
    finally:
        context.close()
