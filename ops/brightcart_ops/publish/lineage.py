"""Lineage through the dataset map: dashboard -> datasets -> views -> models -> raw -> lanes.

SQLMesh's own lineage (UI, ``sqlmesh.core.lineage``) stops at the bi views; the map in
ops/bi_datasets.yaml adds the last hop to the dashboards. The DAG comes either from prod's state
(:class:`brightcart_ops.publish.state.ProdState`, what dashboards actually show) or from a
Context (``dag_from_context``, what the working tree would build).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from brightcart_ops.publish.datasets import DatasetMap
from brightcart_ops.publish.state import lanes_of, short_name

Dag = Mapping[str, set[str]]  # node -> parents, names as schema.table


def dag_from_context(context: Any) -> dict[str, set[str]]:
    """The DAG of a loaded sqlmesh Context, external tables included, with short names."""
    graph = context.dag.graph
    return {short_name(node): {short_name(p) for p in parents} for node, parents in graph.items()}


def upstream(dag: Dag, node: str) -> list[str]:
    """Every ancestor of node (node excluded), sorted."""
    seen: set[str] = set()
    stack = list(dag.get(node, ()))
    while stack:
        current = stack.pop()
        if current not in seen:
            seen.add(current)
            stack.extend(dag.get(current, ()))
    return sorted(seen)


@dataclass(frozen=True)
class DatasetLineage:
    dataset: str
    view: str
    models: tuple[str, ...]  # SQLMesh models upstream of the view
    sources: tuple[str, ...]  # raw tables (external to SQLMesh)
    lanes: tuple[str, ...]  # extraction lanes that land those raw tables


@dataclass(frozen=True)
class DashboardLineage:
    dashboard: str
    datasets: tuple[DatasetLineage, ...]

    @property
    def models(self) -> set[str]:
        return {m for d in self.datasets for m in (d.view, *d.models)}

    @property
    def lanes(self) -> set[str]:
        return {lane for d in self.datasets for lane in d.lanes}


def _is_model(dag: Dag, node: str, known: set[str] | None) -> bool:
    return node in known if known is not None else bool(dag.get(node))


def dataset_lineage(
    maps: DatasetMap, dag: Dag, dataset: str, known: set[str] | None = None
) -> DatasetLineage:
    """`known`: the SQLMesh model names (else a node with parents counts as a model)."""
    ds = maps.datasets[dataset]
    ancestors = upstream(dag, ds.view)
    models = tuple(a for a in ancestors if _is_model(dag, a, known))
    sources = tuple(a for a in ancestors if not _is_model(dag, a, known))
    return DatasetLineage(dataset, ds.view, models, sources, tuple(sorted(lanes_of(sources))))


def dashboard_lineage(
    maps: DatasetMap, dag: Dag, dashboard: str, known: set[str] | None = None
) -> DashboardLineage:
    """Dashboard -> datasets -> views -> upstream models -> raw tables -> lanes."""
    datasets = tuple(dataset_lineage(maps, dag, d.name, known) for d in maps.datasets_of(dashboard))
    return DashboardLineage(dashboard, datasets)


def dashboards_fed_by(maps: DatasetMap, dag: Dag, model: str) -> dict[str, list[str]]:
    """The reverse: dashboard -> datasets that a model (or raw table) feeds."""
    model = model.lower()
    fed: dict[str, list[str]] = {}
    for ds in maps.datasets.values():
        if model == ds.view or model in upstream(dag, ds.view):
            for dashboard in ds.dashboards:
                fed.setdefault(dashboard, []).append(ds.name)
    return {k: sorted(v) for k, v in sorted(fed.items())}
