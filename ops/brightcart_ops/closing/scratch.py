"""A scratch SQLMesh environment that rebuilds recorded model versions from raw.

The scratch context reads the same warehouse (raw is read in place) but keeps its own SQLMesh
state (a DuckDB file in the scratch folder locally; a state schema of its own on PostgreSQL), its
own physical schema and an environment of its own, so prod's tables, views and state are never
touched. Its models are the snapshots recorded at close (brightcart_sqlmesh.recorded). `remove()`
drops everything it created.
"""

from __future__ import annotations

import shutil
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

from brightcart_ops.opslog import new_id
from brightcart_ops.sqlmesh_context import close_context


@dataclass
class Scratch:
    token: str
    folder: Path
    context: Any
    schemas: list[str]
    state_schema: str | None

    @property
    def environment(self) -> str:
        return self.token

    @property
    def physical_schema(self) -> str:
        return f"sqlmesh_{self.token}"

    def view(self, schema: str, table: str) -> str:
        """The scratch environment's view of a model (what `export` reads)."""
        return f"{schema}__{self.token}.{table}"


def _config(gateway: Any, folder: Path, token: str, recorded: Path) -> tuple[Any, str | None]:
    from sqlmesh.core.config import (
        Config,
        DuckDBConnectionConfig,
        GatewayConfig,
        LinterConfig,
        ModelDefaultsConfig,
    )

    from brightcart_sqlmesh.recorded import RecordedModelsLoader

    connection = gateway.connection
    state_schema: str | None = None
    if isinstance(connection, DuckDBConnectionConfig):
        state = DuckDBConnectionConfig(database=str(folder / "state.duckdb"))
    else:
        state = gateway.state_connection or connection
        state_schema = f"sqlmesh_state_{token}"
    config = Config(
        gateways={
            "scratch": GatewayConfig(
                connection=connection, state_connection=state, state_schema=state_schema
            )
        },
        default_gateway="scratch",
        model_defaults=ModelDefaultsConfig(dialect="redshift"),
        disable_anonymized_analytics=True,
        linter=LinterConfig(enabled=False),
        loader=RecordedModelsLoader,
        loader_kwargs={"recorded": str(recorded), "physical_schema": f"sqlmesh_{token}"},
    )
    return config, state_schema


def create(
    snapshots: Sequence[Any],
    gateway: Any,
    root: Path,
    label: str,
) -> Scratch:
    """A scratch context holding exactly `snapshots` (SQLMesh Snapshot objects)."""
    from sqlmesh import Context

    from brightcart_sqlmesh.recorded import write_recorded

    token = f"reproduce_{label}_{new_id()[:6]}"
    folder = root / token
    folder.mkdir(parents=True, exist_ok=True)
    recorded = folder / "recorded_snapshots.jsonl"
    write_recorded(recorded, snapshots)
    config, state_schema = _config(gateway, folder, token, recorded)
    context = Context(paths=str(folder), config=config, gateway="scratch")
    schemas = sorted({str(s.model.schema_name) for s in snapshots if not s.model.kind.is_symbolic})
    return Scratch(token, folder, context, schemas, state_schema)


def build(scratch: Scratch, first: date, after: date) -> None:
    """Plan and apply the scratch environment for [first, after) from raw."""
    scratch.context.plan(
        scratch.environment,
        start=first.isoformat(),
        end=(after - timedelta(days=1)).isoformat(),
        skip_tests=True,
        skip_linter=True,
        no_prompts=True,
        auto_apply=True,
    )


def close(scratch: Scratch) -> None:
    close_context(scratch.context)


def remove(scratch: Scratch) -> None:
    """Drop the scratch views, physical tables and state; delete the folder."""
    adapter = scratch.context.engine_adapter
    try:
        for schema in scratch.schemas:
            adapter.drop_schema(
                f"{schema}__{scratch.token}", ignore_if_not_exists=True, cascade=True
            )
        adapter.drop_schema(scratch.physical_schema, ignore_if_not_exists=True, cascade=True)
        if scratch.state_schema:
            state_adapter = scratch.context.state_sync.engine_adapter
            state_adapter.drop_schema(scratch.state_schema, ignore_if_not_exists=True, cascade=True)
    finally:
        close(scratch)
        shutil.rmtree(scratch.folder, ignore_errors=True)
