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


@macro()
def lane_max_lag_minutes(
    evaluator: MacroEvaluator, lane: exp.Expression, unknown: exp.Expression
) -> exp.Expression:
    """Each lane's allowed lag in minutes, from the lane registry (`max_lag_minutes` of the lane
    job's annotations in meltano.yml, which `brightcart status` and the outage alarm use too):
    `CASE lane WHEN 'shop' THEN 90 ... ELSE <unknown> END`, generated when the audit is rendered,
    so a changed limit needs no plan. A lane the registry does not declare gets `unknown`.
    """
    from brightcart_ops.registry import registry

    limits = registry().max_lag_minutes()
    case = exp.Case(this=lane.copy(), default=unknown.copy())
    for name in sorted(limits):
        minutes = limits[name]
        value = int(minutes) if float(minutes).is_integer() else minutes
        case = case.when(exp.Literal.string(name), exp.Literal.number(value))
    return case
