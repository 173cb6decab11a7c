"""Money helpers: every amount leaves a model as DECIMAL(18, 2)."""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator


@macro()
def money(evaluator: MacroEvaluator, value: exp.Expression) -> exp.Expression:
    """Cast an amount to the warehouse money type DECIMAL(18, 2)."""
    return exp.maybe_parse(
        f"CAST({value.sql(dialect=evaluator.dialect)} AS DECIMAL(18, 2))", dialect=evaluator.dialect
    )
