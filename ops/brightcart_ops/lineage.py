"""Column lineage from a BI column back to the raw landing columns (and their source).

SQLMesh computes column lineage from the models' SQL (`sqlmesh.core.lineage`); the UI draws the
same graph (`sqlmesh ui`, or GET /api/lineage/<model>/<column>). This walks it to the raw tables
and names the lane and source column each raw column came from.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmesh import Context
from sqlmesh.core.lineage import column_dependencies

from brightcart_ops.registry import registry


@dataclass(frozen=True)
class Edge:
    model: str
    column: str
    parent: str
    parent_column: str


def _plain(name: str) -> str:
    """'"warehouse"."bi"."executive_daily"' -> 'bi.executive_daily'."""
    parts = [p.strip('"') for p in name.split(".")]
    return ".".join(parts[-2:])


def check_column(context: Context, model: str, column: str) -> str | None:
    """What is wrong with asking for `model.column` (None when the model has that column)."""
    found = context.get_model(model)
    if found is None:
        schema = model.partition(".")[0]
        near = sorted(_plain(n) for n in context.models if _plain(n).startswith(schema + "."))
        hint = f"; models of {schema}: {', '.join(near)}" if near else "; see `sqlmesh info`"
        return f"unknown model {model!r}{hint}"
    columns = list(found.columns_to_types or {})
    if column not in columns:
        return f"{model} has no column {column!r}; its columns: {', '.join(columns)}"
    return None


def trace(context: Context, model: str, column: str) -> list[Edge]:
    """Every (model.column -> parent.column) edge from `model.column` down to external tables."""
    start = context.get_model(model).fqn
    edges: list[Edge] = []
    seen: set[tuple[str, str]] = set()
    todo = [(start, column)]
    while todo:
        current, col = todo.pop()
        if (current, col) in seen:
            continue
        seen.add((current, col))
        for parent, columns in sorted(column_dependencies(context, current, col).items()):
            for parent_column in sorted(columns):
                edges.append(Edge(_plain(current), col, _plain(parent), parent_column))
                known = parent in context.models
                if known and not context.get_model(parent).kind.is_external:
                    todo.append((parent, parent_column))
    return edges


def raw_columns(edges: list[Edge]) -> list[tuple[str, str, str]]:
    """(raw table, raw column, where it comes from) for the edges that reach raw landing."""
    lanes = {lane.raw_schema: lane for lane in registry().lanes.values()}
    found = set()
    for edge in edges:
        schema, _, table = edge.parent.partition(".")
        if schema in lanes:
            lane = lanes[schema]
            origin = (
                f"{lane.source}: {table}.{edge.parent_column} ({lane.extractor}, {lane.name} lane)"
            )
            found.add((edge.parent, edge.parent_column, origin))
    return sorted(found)
