"""A SQLMesh loader that loads model versions recorded in SQLMesh state instead of project files.

SQLMesh keeps every snapshot (the complete model definition, with the Python macros and signals
it uses) for `snapshot_ttl` (3 years in config.py). `brightcart reproduce` writes the snapshots
recorded at a month's close to a JSON-lines file and opens a scratch Context with
``Config(loader=RecordedModelsLoader, loader_kwargs={"recorded": <file>, ...})``: the models
are exactly those versions. Two things change, neither in what a model computes:

* ``physical_schema_override`` puts every physical table into one scratch schema, so nothing is
  written where prod's tables live (SQLMesh therefore names new versions, derived from the same
  definitions);
* audits are left out: they ran when the month was built, and a trailing-baseline audit has no
  baseline in a one-month rebuild.

External models (the raw tables) are recorded snapshots too and are loaded unchanged.
"""

from __future__ import annotations

import typing as t
from pathlib import Path

from sqlmesh.core.loader import SqlMeshLoader
from sqlmesh.core.snapshot import Snapshot
from sqlmesh.utils import UniqueKeyDict

if t.TYPE_CHECKING:
    from sqlmesh.core.audit import ModelAudit
    from sqlmesh.core.context import GenericContext
    from sqlmesh.core.macros import MacroRegistry
    from sqlmesh.core.model import Model
    from sqlmesh.core.signal import signal
    from sqlmesh.utils.jinja import JinjaMacroRegistry


def read_recorded(path: Path) -> list[Snapshot]:
    return [Snapshot.parse_raw(line) for line in path.read_text().splitlines() if line.strip()]


def write_recorded(path: Path, snapshots: t.Iterable[Snapshot]) -> None:
    path.write_text("".join(s.json() + "\n" for s in snapshots), encoding="utf-8")


class RecordedModelsLoader(SqlMeshLoader):
    """Loads the models of recorded snapshots (see the module docstring)."""

    def __init__(
        self, context: GenericContext, path: Path, recorded: str = "", physical_schema: str = ""
    ) -> None:
        super().__init__(context, path)
        if not recorded or not physical_schema:
            raise ValueError("RecordedModelsLoader needs `recorded` and `physical_schema`")
        self.recorded = Path(recorded)
        self.physical_schema = physical_schema

    def _load_models(
        self,
        macros: MacroRegistry,
        jinja_macros: JinjaMacroRegistry,
        gateway: str | None,
        audits: UniqueKeyDict[str, ModelAudit],
        signals: UniqueKeyDict[str, signal],
        model_fqns: set[str] | None = None,
        use_project_index: bool = False,
    ) -> tuple[UniqueKeyDict[str, Model], set[str] | None]:
        models: UniqueKeyDict[str, Model] = UniqueKeyDict("models")
        for snapshot in read_recorded(self.recorded):
            model = snapshot.model
            if not model.kind.is_symbolic:  # external (raw) models stay as recorded
                model = model.copy(
                    update={
                        "physical_schema_override": self.physical_schema,
                        "audits": [],
                        "audit_definitions": {},
                    }
                )
            models[model.fqn] = model
        return models, None
