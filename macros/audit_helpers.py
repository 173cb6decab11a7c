"""Macros used by the custom audits."""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator


@macro()
def unfiltered(evaluator: MacroEvaluator, model: exp.Expression) -> exp.Expression:
    """The whole table behind an audit's ``@this_model``.

    For time-ranged models SQLMesh renders ``@this_model`` as a subquery filtered to the audited
    interval; baseline audits also need the rows before it, so they read the table itself.
    """
    table = model if isinstance(model, exp.Table) else model.find(exp.Table)
    if table is None:
        raise ValueError(f"@unfiltered expects a table or a subquery over one, got {model.sql()}")
    return table.copy()


@macro()
def as_text(evaluator: MacroEvaluator, value: exp.Expression) -> exp.Expression:
    """A macro argument as a string literal, so audit rows can say what they checked."""
    return exp.Literal.string(value.sql(dialect=evaluator.dialect))
