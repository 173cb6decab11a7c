"""The data a promotion changes: SQLMesh's table diff of every new model version against prod.

For each model whose physical version differs between prod and the reviewed environment (the
changed models and every downstream model that gets rebuilt), `sqlmesh table_diff` on the model's
grain over the window the environment computed gives row counts, keys added and removed and the
number of changed values per column. For finance marts (review policy) it adds, per UTC day, the
sum of each additive KPI column before and after and the delta; ratio KPIs are counted as changed
values, since a ratio of a day cannot be added up from its rows.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from datetime import date, datetime
from decimal import Decimal
from typing import Any

from brightcart_ops.review.kpi_columns import KpiColumn, kpi_columns, time_column
from brightcart_ops.review.planinfo import PROD, ModelChange, PromotionSummary

MAX_DAYS_LISTED = 62


@dataclass
class KpiDay:
    day: date
    rows_before: int
    rows_after: int
    values: dict[str, tuple[Decimal | None, Decimal | None]]

    def delta(self, kpi: str) -> Decimal | None:
        """after - before; a day missing on one side counts as zero there."""
        before, after = self.values[kpi]
        if before is None and after is None:
            return None
        zero = Decimal(0).quantize(before if before is not None else after)  # type: ignore[arg-type]
        return (after if after is not None else zero) - (before if before is not None else zero)

    @property
    def changed(self) -> bool:
        return self.rows_before != self.rows_after or any(
            (self.delta(k) or 0) != 0 for k in self.values
        )


@dataclass
class ModelDiff:
    name: str
    finance: bool
    change: str
    keys: list[str]
    time_column: str | None
    rows_before: int | None
    rows_after: int | None
    keys_added: int | None = None
    keys_removed: int | None = None
    rows_compared: int | None = None
    rows_changed: int | None = None
    columns_changed: dict[str, int] = field(default_factory=dict)
    columns_added: list[str] = field(default_factory=list)
    columns_removed: list[str] = field(default_factory=list)
    kpis: list[KpiColumn] = field(default_factory=list)
    kpi_days: list[KpiDay] = field(default_factory=list)
    note: str = ""

    @property
    def affected_days(self) -> list[date]:
        return [d.day for d in self.kpi_days if d.changed]

    def summary_line(self) -> str:
        parts = [f"{self.name}: rows {_n(self.rows_before)} -> {_n(self.rows_after)}"]
        if self.keys_added is not None:
            parts.append(f"keys +{self.keys_added} -{self.keys_removed}")
        changed = [f"{c} {n}" for c, n in self.columns_changed.items() if n]
        if changed:
            parts.append("values changed: " + ", ".join(changed))
        if self.affected_days:
            parts.append(f"{len(self.affected_days)} days with KPI changes")
        return "; ".join(parts)


def _n(value: int | None) -> str:
    return "-" if value is None else str(value)


def _dec(value: Any) -> Decimal | None:
    return None if value is None else Decimal(str(value))


def _day(value: Any) -> date:
    if isinstance(value, datetime):
        return value.date()
    if isinstance(value, date):
        return value
    return date.fromisoformat(str(value)[:10])


class Differ:
    """Runs the diffs of one review through an open SQLMesh context."""

    def __init__(self, context: Any, summary: PromotionSummary) -> None:
        self.context = context
        self.summary = summary
        self.adapter = context.engine_adapter
        state = context.state_reader
        self.prod_env = state.get_environment(PROD)
        self.env = state.get_environment(summary.environment)
        self.dialect = self.adapter.dialect
        self._kpis: dict[str, list[KpiColumn]] = {}

    def kpis(self, fqn: str) -> list[KpiColumn]:
        """KPI columns of a model, with those its parents pass on (memoised over the DAG)."""
        if fqn not in self._kpis:
            self._kpis[fqn] = []  # a cycle cannot happen in a DAG; this guards recursion anyway
            model = self.context.get_model(fqn)
            parents: dict[str, KpiColumn] = {}
            for parent in getattr(model, "depends_on", None) or ():
                parent_model = self.context.get_model(parent)
                if parent_model is not None and not parent_model.kind.is_symbolic:
                    parents.update({k.name: k for k in self.kpis(parent)})
            self._kpis[fqn] = kpi_columns(model, parents) if model is not None else []
        return self._kpis[fqn]

    def _view(self, env: Any, fqn: str) -> str | None:
        if env is None:
            return None
        for snapshot in env.snapshots:
            if snapshot.name == fqn:
                return str(
                    snapshot.qualified_view_name.for_environment(env.naming_info, self.dialect)
                )
        return None

    def _where(self, column: str | None) -> str | None:
        if column is None or self.summary.window is None:
            return None
        start, end = self.summary.window
        return (
            f"{column} >= CAST('{start:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP) AND "
            f"{column} < CAST('{end:%Y-%m-%d %H:%M:%S}' AS TIMESTAMP)"
        )

    def _count(self, view: str, where: str | None) -> int:
        sql = f"SELECT COUNT(*) FROM {view}" + (f" WHERE {where}" if where else "")
        row = self.adapter.fetchone(sql)
        return int(row[0]) if row else 0

    def diff(self, change: ModelChange) -> ModelDiff:
        model = self.context.get_model(change.fqn) if change.change != "removed" else None
        column = time_column(model) if model is not None else None
        where = self._where(column)
        before_view = self._view(self.prod_env, change.fqn)
        after_view = self._view(self.env, change.fqn)
        keys = list(getattr(model, "on", []) or [])
        result = ModelDiff(
            name=change.name,
            finance=change.finance,
            change=change.change,
            keys=keys,
            time_column=column,
            rows_before=self._count(before_view, where) if before_view else None,
            rows_after=self._count(after_view, where) if after_view else None,
        )
        if change.change != "changed" or not before_view or not after_view:
            result.note = f"model {change.change}: no rows to compare against"
            return result
        if keys:
            self._table_diff(result, before_view, after_view, keys, where)
        else:
            result.note = "the model declares no grain: row counts only"
        if change.finance and model is not None and column is not None:
            result.kpis = self.kpis(change.fqn)
            result.kpi_days = self._kpi_days(result, before_view, after_view, column, where)
        return result

    def _table_diff(
        self, result: ModelDiff, before: str, after: str, keys: list[str], where: str | None
    ) -> None:
        diffs = self.context.table_diff(
            source=before,
            target=after,
            on=keys,
            where=where,
            show=False,
            skip_grain_check=True,
        )
        table_diff = diffs[0]
        schema = table_diff.schema_diff()
        result.columns_added = [str(c[0]) for c in schema.added]
        result.columns_removed = [str(c[0]) for c in schema.removed]
        row_diff = table_diff.row_diff(skip_grain_check=True)
        result.keys_added = row_diff.t_only_count
        result.keys_removed = row_diff.s_only_count
        result.rows_compared = row_diff.join_count
        result.rows_changed = row_diff.partial_match_count
        key_names = {k.strip('"').lower() for k in keys}
        stats = row_diff.column_stats
        result.columns_changed = {
            str(name): round(row_diff.join_count * (100 - float(pct)) / 100)
            for name, pct in zip(stats.index, stats["pct_match"], strict=True)
            if str(name).lower() not in key_names and row_diff.join_count and not math.isnan(pct)
        }

    def _side(self, view: str, kpis: list[KpiColumn], column: str, where: str | None) -> str:
        sums = "".join(f", SUM({k.name}) AS {k.name}" for k in kpis)
        return (
            f"SELECT CAST(DATE_TRUNC('day', {column}) AS DATE) AS kpi_day, COUNT(*) AS n{sums} "
            f"FROM {view}" + (f" WHERE {where}" if where else "") + " GROUP BY 1"
        )

    def _kpi_days(
        self, result: ModelDiff, before: str, after: str, column: str, where: str | None
    ) -> list[KpiDay]:
        gone = set(result.columns_removed) | set(result.columns_added)
        additive = [k for k in result.kpis if not k.ratio and k.name not in gone]
        picks = "".join(f", s.{k.name}, t.{k.name}" for k in additive)
        sql = (
            f"WITH s AS ({self._side(before, additive, column, where)}), "
            f"t AS ({self._side(after, additive, column, where)}) "
            f"SELECT COALESCE(s.kpi_day, t.kpi_day) AS kpi_day, COALESCE(s.n, 0), "
            f"COALESCE(t.n, 0){picks} FROM s FULL OUTER JOIN t ON s.kpi_day = t.kpi_day "
            "ORDER BY 1"
        )
        days = []
        for row in self.adapter.fetchall(sql):
            values = {
                k.name: (_dec(row[3 + 2 * i]), _dec(row[4 + 2 * i])) for i, k in enumerate(additive)
            }
            days.append(KpiDay(_day(row[0]), int(row[1]), int(row[2]), values))
        return days


def diff_models(context: Any, summary: PromotionSummary) -> list[ModelDiff]:
    """Diffs of every model whose data the promotion changes (new version, added or removed)."""
    differ = Differ(context, summary)
    return [differ.diff(c) for c in summary.changes if c.new_data and c.kind != "external"]
