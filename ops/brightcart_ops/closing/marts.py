"""The finance marts among SQLMesh snapshots, found by the review policy (schema or owner)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from sqlglot import exp

from brightcart_ops.review.kpi_columns import time_column
from brightcart_ops.review.planinfo import short
from brightcart_ops.review.policy import Policy


@dataclass(frozen=True)
class FinanceMart:
    fqn: str  # '"warehouse"."marts_finance"."revenue_daily"'
    schema: str
    table: str
    fingerprint: str
    version: str
    time_column: str | None
    grain: tuple[str, ...]

    @property
    def name(self) -> str:
        return short(self.fqn)

    @property
    def file_name(self) -> str:
        return f"{self.name}.csv"


def first_temporal_column(model: Any) -> str | None:
    """The first DATE/TIMESTAMP column of a model: how a FULL mart keyed by id (the refunds mart,
    rebuilt every hour) is cut into months, by the business time it lists first."""
    for name, data_type in (model.columns_to_types or {}).items():
        if data_type is not None and data_type.is_type(
            exp.DataType.Type.DATE, *exp.DataType.TEMPORAL_TYPES
        ):
            return str(name)
    return None


def finance_marts(snapshots: Iterable[Any], policy: Policy) -> list[FinanceMart]:
    """Finance marts (materialized SQL models) among Snapshot objects, sorted by name."""
    out = []
    for snapshot in snapshots:
        model = getattr(snapshot, "model", None)
        if model is None or not getattr(snapshot, "is_model", True):
            continue
        if model.kind.is_symbolic:
            continue  # external (raw) and embedded models have no table of their own
        if not policy.is_finance(model.schema_name, model.owner):
            continue
        if model.kind.is_view:
            continue  # a view has no data of its own: its mart is exported instead
        out.append(
            FinanceMart(
                fqn=str(snapshot.name),
                schema=str(model.schema_name),
                table=str(model.view_name),
                fingerprint=str(snapshot.fingerprint.to_identifier()),
                version=str(snapshot.version),
                time_column=time_column(model) or first_temporal_column(model),
                grain=tuple(k.strip('"') for k in (model.on or [])),
            )
        )
    return sorted(out, key=lambda m: m.name)


def ancestors(names: Iterable[str], snapshots: Mapping[str, Any]) -> set[str]:
    """The names and every recorded model they read from, transitively."""
    seen: set[str] = set()
    stack = list(names)
    while stack:
        name = stack.pop()
        if name in seen or name not in snapshots:
            continue
        seen.add(name)
        stack.extend(str(p) for p in snapshots[name].model.depends_on)
    return seen
