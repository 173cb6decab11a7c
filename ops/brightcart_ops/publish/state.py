"""What prod is made of, read from the SQLMesh state: snapshots, versions, intervals, the DAG.

The publish step runs inside SQLMesh's notification target, which receives no Context, so the
state is opened from the same gateway definitions that config.py uses
(``brightcart_sqlmesh.gateways``). For the local DuckDB gateway SQLMesh shares one adapter per
file within a process, so this reads the state the running command has just written.
"""

from __future__ import annotations

import hashlib
import json
import os
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlglot import exp

PROD = "prod"


def short_name(fqn: str) -> str:
    """`"catalog"."schema"."table"` -> `schema.table` (lower case)."""
    table = exp.to_table(fqn)
    return f"{table.db}.{table.name}".lower() if table.db else table.name.lower()


@dataclass(frozen=True)
class ModelVersion:
    """One upstream model as prod holds it."""

    model: str  # schema.table
    fingerprint: str  # snapshot identifier: changes with the model or any parent
    version: str  # physical table version
    interval_end: datetime | None  # end of the latest processed interval
    altered_ms: int | None  # last time SQLMesh wrote the physical table (ms)
    kind: str

    def as_json(self) -> dict[str, Any]:
        return {
            "fingerprint": self.fingerprint,
            "version": self.version,
            "interval_end": self.interval_end.isoformat() if self.interval_end else None,
            "altered_ms": self.altered_ms,
            "kind": self.kind,
        }


@dataclass(frozen=True)
class Upstream:
    """The upstream models of a bi view, the view included, and a digest of their state."""

    view: str
    models: tuple[ModelVersion, ...]

    @property
    def digest(self) -> str:
        body = json.dumps(self.versions_json(), sort_keys=True)
        return hashlib.sha256(body.encode()).hexdigest()

    def versions_json(self) -> dict[str, dict[str, Any]]:
        return {m.model: m.as_json() for m in self.models}

    @property
    def data_through(self) -> datetime | None:
        """The least recent interval end among models with intervals (views excluded)."""
        ends = [m.interval_end for m in self.models if m.kind != "VIEW" and m.interval_end]
        return min(ends) if ends else None


@dataclass(frozen=True)
class ProdState:
    """Prod's snapshots keyed by short model name, and the DAG (model -> parents)."""

    versions: dict[str, ModelVersion]
    dag: dict[str, set[str]]  # includes external tables (raw_*) as parent-only nodes

    def upstream_models(self, model: str) -> list[str]:
        seen: set[str] = set()
        stack = [model]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            stack.extend(self.dag.get(node, ()))
        return sorted(seen)

    def data_frontier(self, view: str) -> list[str]:
        """The models whose data a view shows: itself, then through views only, down to the
        first materialized tables. A change further up reaches a dataset only by changing one
        of these (a new version changes every descendant's fingerprint; new data lands in these
        tables), so a mart that waits for its sources keeps its datasets unpublished."""
        seen: set[str] = set()
        stack = [view]
        while stack:
            node = stack.pop()
            if node in seen:
                continue
            seen.add(node)
            version = self.versions.get(node)
            if node == view or (version is not None and version.kind == "VIEW"):
                stack.extend(self.dag.get(node, ()))
        return sorted(seen)

    def upstream(self, view: str) -> Upstream | None:
        if view not in self.versions:
            return None
        models = tuple(self.versions[m] for m in self.data_frontier(view) if m in self.versions)
        return Upstream(view, models)


def _ms_to_dt(ms: int | None) -> datetime | None:
    return datetime.fromtimestamp(ms / 1000, tz=UTC) if ms else None


def state_from_snapshots(snapshots: Iterable[Any]) -> ProdState:
    """Build the prod view from full SQLMesh Snapshot objects (with nodes and intervals)."""
    versions: dict[str, ModelVersion] = {}
    dag: dict[str, set[str]] = {}
    for snapshot in snapshots:
        name = short_name(snapshot.name)
        node = snapshot.node
        kind = getattr(getattr(node, "kind", None), "name", None)
        intervals = list(snapshot.intervals or [])
        versions[name] = ModelVersion(
            model=name,
            fingerprint=snapshot.identifier,
            version=str(snapshot.version),
            interval_end=_ms_to_dt(intervals[-1][1]) if intervals else None,
            altered_ms=snapshot.last_altered_ts,
            kind=str(getattr(kind, "value", kind) or "UNKNOWN"),
        )
        depends_on = getattr(node, "depends_on", None) or set()
        parents = {short_name(p) for p in depends_on}
        parents |= {short_name(p.name) for p in snapshot.parents}
        dag[name] = parents
    return ProdState(versions, dag)


def snapshots_digest(infos: Iterable[Any]) -> str:
    """A digest of an environment's snapshot ids: equal digests, equal models and parents."""
    ids = sorted(f"{info.name}@{info.identifier}" for info in infos)
    return hashlib.sha256("\n".join(ids).encode()).hexdigest()


def _cached_dag(path: Path | None, key: str) -> dict[str, set[str]] | None:
    if path is None:
        return None
    try:
        body = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not isinstance(body, dict) or body.get("key") != key:
        return None
    return {name: set(parents) for name, parents in body["dag"].items()}


def _cache_dag(path: Path | None, key: str, dag: dict[str, set[str]]) -> None:
    if path is None:
        return
    body = {"key": key, "dag": {name: sorted(parents) for name, parents in sorted(dag.items())}}
    tmp = path.with_name(f"{path.name}.{os.getpid()}.tmp")
    try:
        tmp.write_text(json.dumps(body, indent=1), encoding="utf-8")
        tmp.replace(path)
    except OSError:
        tmp.unlink(missing_ok=True)


def state_from_reader(
    state_reader: Any, environment: str = PROD, dag_cache: Path | None = None
) -> ProdState | None:
    """Read an environment through a SQLMesh StateReader; None when it does not exist yet.

    Reading the full snapshots (models with their parsed queries) costs about a second and,
    in a run at 1:100 of production, a gigabyte of memory at the run's end. Most of what the
    publish needs is in the environment's table infos (name, identifier, version, kind) and
    the interval records. Only the DAG needs the models: a model's parents include the tables
    it reads that are no snapshot (its query's `depends_on`). The DAG depends on the snapshot
    ids alone, so it is kept in `dag_cache` (a JSON file keyed by their digest) and the full
    snapshots are read when there is no cache or the environment changed (a plan was applied).
    They are also read for a snapshot whose version holds intervals recorded under another
    identifier: there SQLMesh's merge depends on the model's `effective_from`, so its own merge
    decides.
    """
    from sqlmesh.core.snapshot.definition import merge_intervals

    env = state_reader.get_environment(environment)
    if env is None:
        return None
    infos = list(env.snapshots)
    key = snapshots_digest(infos)
    dag = _cached_dag(dag_cache, key)
    if dag is None:
        state = state_from_snapshots(state_reader.get_snapshots(infos).values())
        _cache_dag(dag_cache, key, state.dag)
        return state
    records: dict[tuple[str, str], list[Any]] = {}
    # EngineAdapterStateSync holds its interval state; a Context's CachingStateSync wraps one.
    sync = getattr(state_reader, "state_sync", state_reader)
    for record in sync.interval_state.get_snapshot_intervals(infos):
        records.setdefault((record.name, record.version), []).append(record)
    mixed = [
        info
        for info in infos
        if any(r.identifier != info.identifier for r in records.get((info.name, info.version), ()))
    ]
    full = state_reader.get_snapshots(mixed) if mixed else {}
    versions: dict[str, ModelVersion] = {}
    for info in infos:
        snapshot = full.get(info.snapshot_id)
        if snapshot is not None:
            versions.update(state_from_snapshots([snapshot]).versions)
            continue
        name = short_name(info.name)
        own = records.get((info.name, info.version), [])
        intervals = merge_intervals([i for r in own for i in r.intervals])
        altered = [r.last_altered_ts for r in own if r.last_altered_ts]
        kind = info.kind_name.value if info.kind_name is not None else "UNKNOWN"
        versions[name] = ModelVersion(
            model=name,
            fingerprint=info.identifier,
            version=str(info.version),
            interval_end=_ms_to_dt(intervals[-1][1]) if intervals else None,
            altered_ms=max(altered) if altered else None,
            kind=str(kind),
        )
    return ProdState(versions, dag)


def dag_cache_path(gateway: str | None = None) -> Path | None:
    """Where the prod DAG is cached: beside the local gateway's state file; nowhere for the
    others (a scheduled task starts afresh each time, so there a cache would never be read)."""
    name = gateway or os.environ.get("BRIGHTCART_GATEWAY", "local")
    if name != "local":
        return None
    from brightcart_sqlmesh.gateways import state_path, warehouse_path

    state = state_path(warehouse_path())
    return state.with_name(f"{state.stem}.dag.json")


def open_state_reader(gateway: str | None = None) -> Any:
    """A SQLMesh state reader for a gateway of brightcart_sqlmesh.gateways (env-driven)."""
    from sqlmesh.core.state_sync import EngineAdapterStateSync

    from brightcart_sqlmesh.gateways import gateways

    name = gateway or os.environ.get("BRIGHTCART_GATEWAY", "local")
    configs = gateways()
    if name not in configs:
        raise ValueError(f"unknown gateway {name!r}; expected one of {sorted(configs)}")
    config = configs[name]
    connection = config.state_connection or config.connection
    if connection is None:
        raise ValueError(f"gateway {name!r} has no connection configured")
    return EngineAdapterStateSync(
        connection.create_engine_adapter(), schema=config.state_schema or "sqlmesh"
    )


def read_prod_state(
    gateway: str | None = None, state_reader: Any = None, environment: str = PROD
) -> ProdState | None:
    reader = state_reader if state_reader is not None else open_state_reader(gateway)
    return state_from_reader(reader, environment, dag_cache_path(gateway))


def lanes_of(models: Iterable[str], lane_by_schema: Mapping[str, str] | None = None) -> set[str]:
    """Source lanes behind a set of model/table names (raw_shop.* -> shop, ...; the registry)."""
    if lane_by_schema is None:
        from brightcart_ops.registry import registry

        lane_by_schema = registry().lane_by_schema()
    mapping = lane_by_schema
    return {mapping[m.split(".")[0]] for m in models if m.split(".")[0] in mapping}
