"""Which columns of a model are KPIs, found through the KPI macros (macros/kpis.py).

A column is a KPI when its expression calls a `@kpi_*` macro, in the model's final select or in a
CTE or subquery whose column the final select passes on under the same name, or when it carries a
parent model's KPI column under the same name (`SUM(d.gmv) AS gmv` in a bi view over a mart).
Nothing here restates a formula: the macro calls are read from the models, and a KPI whose
rendered expression divides (AOV, refund rate, ...) is a ratio, which cannot be added up across
rows; a parent's ratio stays a ratio.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp
from sqlmesh.core import dialect as d

KPI_MACRO_PREFIX = "kpi_"


@dataclass(frozen=True)
class KpiColumn:
    name: str
    macro: str
    ratio: bool  # a quotient of aggregates: compared row by row, never summed


def _kpi_macro(node: exp.Expression) -> str | None:
    for macro in node.find_all(d.MacroFunc):
        name = str(macro.this.name if isinstance(macro.this, exp.Expression) else macro.this)
        if name.lower().startswith(KPI_MACRO_PREFIX):
            return name.lower()
    return None


def _carried(projection: exp.Expression, parents: Mapping[str, KpiColumn]) -> KpiColumn | None:
    """The parent KPI a projection passes on under its own name, if any."""
    name = projection.alias_or_name.lower()
    parent = parents.get(name)
    if parent is None:
        return None
    if any(c.name.lower() == name for c in projection.find_all(exp.Column)):
        return parent
    return None


def kpi_columns(model: Any, parents: Mapping[str, KpiColumn] | None = None) -> list[KpiColumn]:
    """KPI columns of a SQLMesh SQL model, in the model's column order. `parents`: the KPI
    columns of the models it reads, by column name."""
    query = getattr(model, "query", None)
    if not isinstance(query, exp.Query):
        return []
    macros: dict[str, str] = {}
    inherited: dict[str, KpiColumn] = {}
    for select in query.find_all(exp.Select):
        for projection in select.expressions:
            if not projection.alias_or_name:
                continue
            macro = _kpi_macro(projection)
            if macro:
                macros.setdefault(projection.alias_or_name.lower(), macro)
            elif (carried := _carried(projection, parents or {})) is not None:
                inherited.setdefault(projection.alias_or_name.lower(), carried)
    for name, carried in inherited.items():
        macros.setdefault(name, carried.macro)
    if not macros:
        return []
    try:
        rendered = model.render_query()
    except Exception:  # noqa: BLE001 - without a rendering every KPI is taken as additive
        rendered = None
    ratios = {
        p.alias_or_name.lower()
        for p in (rendered.selects if isinstance(rendered, exp.Query) else [])
        if p.find(exp.Div) is not None
    }
    ratios |= {n for n, k in inherited.items() if k.ratio and n not in ratios}
    columns = [c.lower() for c in (model.columns_to_types or {})]
    return [KpiColumn(c, macros[c], c in ratios) for c in columns if c in macros]


def time_column(model: Any) -> str | None:
    """The model's time column (incremental by time), else a DATE/TIMESTAMP column of its grain."""
    column = getattr(model, "time_column", None)
    if column is not None and getattr(column, "column", None) is not None:
        return str(column.column.name)
    types = model.columns_to_types or {}
    for name in getattr(model, "on", []) or []:
        key = name.strip('"')
        data_type = types.get(key)
        if data_type is not None and data_type.is_type(
            exp.DataType.Type.DATE, *exp.DataType.TEMPORAL_TYPES
        ):
            return key
    return None
