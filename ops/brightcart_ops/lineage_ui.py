"""`brightcart ui`: SQLMesh's own UI, with column lineage drawn through CTEs and no plan loop.

Two things the SQLMesh 0.236 UI gets wrong for this project, and what this launcher changes:

* Column lineage through CTEs. ``GET /api/lineage/<model>/<column>`` answers with the complete
  graph, but names every CTE as a node of its own (``"warehouse"."bi"."executive_daily": money``).
  The browser client never shows those CTE nodes (they stay hidden, as do their handles), so
  every column edge that passes through a CTE is dropped: for ``bi.executive_daily.net_revenue``
  only the edges into ``int_order_lines`` (a model without CTEs) were drawn. The launcher serves
  the same answer with each CTE folded into its model (a model column depends on what its CTE
  columns depend on), so the client draws one connected graph from the raw tables to the view.
  Expressions and sources of real model columns are kept as SQLMesh computed them.
* Signals re-checked in a loop. In ``ide`` (the default of ``sqlmesh ui``) and ``plan`` modes the
  client asks for a new plan whenever a file changes anywhere under the project folder (its file
  watcher sees the warehouse, logs and lane files under .local/), and each plan's backfill preview
  evaluates the ``sources_landed`` signal of every model over every missing interval. The
  launcher starts the UI in ``catalog`` mode (the data catalog with its lineage graph, no plans):
  ``UI_MODE=catalog``, the same as ``sqlmesh ui --mode catalog``.

The launcher uses SQLMesh's web app unchanged otherwise (sqlmesh[web] is pinned); a test checks
the replaced route against ``sqlmesh.core.lineage`` so an upgrade that moves either fails loudly.
"""

from __future__ import annotations

import os
from collections import defaultdict
from collections.abc import Mapping
from pathlib import Path
from typing import Any

UI_MODES = ("catalog", "docs", "plan", "ide")
CTE_SEPARATOR = ": "

Graph = dict[str, dict[str, dict[str, Any]]]  # node -> column -> {expression, source, models}


def as_plain(graph: Mapping[str, Mapping[str, Any]]) -> Graph:
    """SQLMesh's adjacency list (LineageColumn objects or dicts) as plain dicts."""
    plain: Graph = {}
    for node, columns in graph.items():
        plain[node] = {}
        for column, info in columns.items():
            data = info.model_dump() if hasattr(info, "model_dump") else dict(info)
            data["models"] = {k: set(v) for k, v in (data.get("models") or {}).items()}
            plain[node][column] = data
    return plain


def is_cte(node: str, models: set[str]) -> bool:
    """A node SQLMesh named '<model fqn>: <cte>' for a CTE inside that model."""
    owner, separator, _ = node.rpartition(CTE_SEPARATOR)
    return bool(separator) and node not in models and owner in models


def fold_ctes(graph: Graph, models: set[str]) -> Graph:
    """The same lineage with every CTE node replaced by what its columns depend on."""
    ctes = {node for node in graph if is_cte(node, models)}
    for columns in graph.values():
        for info in columns.values():
            ctes.update(parent for parent in info["models"] if is_cte(parent, models))

    def resolve(node: str, column: str, seen: frozenset[tuple[str, str]]) -> dict[str, set[str]]:
        resolved: dict[str, set[str]] = defaultdict(set)
        info = graph.get(node, {}).get(column)
        for parent, parent_columns in (info["models"] if info else {}).items():
            for parent_column in parent_columns:
                if parent not in ctes:
                    resolved[parent].add(parent_column)
                elif (parent, parent_column) not in seen:
                    inner = resolve(parent, parent_column, seen | {(parent, parent_column)})
                    for grand, grand_columns in inner.items():
                        resolved[grand] |= grand_columns
        return resolved

    folded: Graph = {}
    for node, columns in graph.items():
        if node in ctes:
            continue
        folded[node] = {
            column: {**info, "models": dict(resolve(node, column, frozenset()))}
            for column, info in columns.items()
        }
    return folded


def jsonable(graph: Graph) -> dict[str, dict[str, dict[str, Any]]]:
    return {
        node: {
            column: {**info, "models": {k: sorted(v) for k, v in info["models"].items()}}
            for column, info in columns.items()
        }
        for node, columns in graph.items()
    }


def create_app(project: Path, mode: str = "catalog", gateway: str | None = None) -> Any:
    """SQLMesh's web app for `project`, with the column-lineage route answering CTE-free."""
    if mode not in UI_MODES:
        raise ValueError(f"mode {mode!r}: expected one of {UI_MODES}")
    # SQLMesh's web settings read these once, on first use.
    os.environ["PROJECT_PATH"] = str(project)
    os.environ["UI_MODE"] = mode
    if gateway:
        os.environ["GATEWAY"] = gateway
    from fastapi import APIRouter, Depends
    from sqlmesh.core.context import Context
    from web.server.api.endpoints.lineage import create_lineage_adjacency_list
    from web.server.exceptions import ApiException
    from web.server.main import create_app as create_sqlmesh_app
    from web.server.settings import get_loaded_context

    router = APIRouter()

    @router.get("/api/lineage/{model_name:str}/{column_name:str}")
    def column_lineage(
        model_name: str,
        column_name: str,
        models_only: bool = False,
        context: Context = Depends(get_loaded_context),  # noqa: B008 - FastAPI's idiom
    ) -> dict[str, Any]:
        """SQLMesh's column lineage with CTEs folded into their models."""
        try:
            fqn = context.get_model(model_name).fqn
            graph = as_plain(create_lineage_adjacency_list(fqn, column_name, context))
        except Exception as error:
            raise ApiException(
                message=f"Unable to get column lineage of {model_name}.{column_name}: {error}",
                origin="API -> lineage -> column_lineage (brightcart ui)",
            ) from error
        return jsonable(fold_ctes(graph, set(context.models)))

    app = create_sqlmesh_app()
    app.router.routes[0:0] = router.routes  # matched before SQLMesh's own lineage route
    return app


def serve(project: Path, host: str, port: int, mode: str, gateway: str | None = None) -> None:
    import uvicorn

    app = create_app(project, mode, gateway)
    uvicorn.run(app, host=host, port=port, log_level="info", timeout_keep_alive=300)
