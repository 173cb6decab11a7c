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


@macro()
def business_now(evaluator: MacroEvaluator, execution_ts: exp.Expression) -> exp.Expression:
    """'Now' for freshness audits: the execution time, or a local world's simulated clock.

    A local world (BRIGHTCART_CLOCK=world, which `brightcart demo` writes into world.env) lives
    days behind the wall clock; `brightcart status` and the dashboards measure lags on its clock,
    and so does the freshness audit, or every lane would read late. Production never sets it.
    When the clock cannot be read, the execution time stands.
    """
    from brightcart_ops.opslog import business_clock, business_now

    if business_clock() != "world":
        return execution_ts
    try:
        now = business_now()
    except Exception:  # noqa: BLE001 - an unreadable world clock falls back to the execution time
        return execution_ts
    return exp.cast(exp.Literal.string(now.isoformat()), exp.DataType.build("TIMESTAMPTZ"))
