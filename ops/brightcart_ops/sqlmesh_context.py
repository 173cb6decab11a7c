"""Open and fully close a SQLMesh Context from ops code.

`Context.close()` closes the snapshot evaluator and the state sync but not the engine adapters a
caller used directly (`context.engine_adapter`, `table_diff`): a local DuckDB warehouse file stays
locked by this process until they are closed too.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from brightcart_ops.runtime import PROJECT_ROOT


def open_context(project: Path = PROJECT_ROOT, gateway: str = "local") -> Any:
    from sqlmesh import Context

    return Context(paths=str(project), gateway=gateway)


def close_context(context: Any) -> None:
    """Close a SQLMesh context and its engine adapters."""
    context.close()
    for adapter in context.engine_adapters.values():
        adapter.close()
