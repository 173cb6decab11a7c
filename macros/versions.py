"""Macros for reading the raw version logs by when each version became known.

Every landed row of a raw_shop table is one version of a source row. A version became known at
its source `updated_at` (the row's own change time, which the lane's high-water mark follows), a
deletion at its `_sdc_deleted_at`. Models that process rows by when they became known (the finance
ledger) read the logs through these macros, so "known at" means one thing everywhere.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator


def _sql(evaluator: MacroEvaluator, value: exp.Expression) -> str:
    return value.sql(dialect=evaluator.dialect)


@macro()
def known_at(evaluator: MacroEvaluator, alias: exp.Expression) -> exp.Expression:
    """When a version of a raw row became known: its deletion time, else its source update time."""
    name = _sql(evaluator, alias)
    return exp.maybe_parse(
        f"COALESCE({name}._sdc_deleted_at, {name}.updated_at)", dialect=evaluator.dialect
    )


@macro()
def booking_stamp(evaluator: MacroEvaluator, value: exp.Expression) -> exp.Expression:
    """A UTC timestamp as its microseconds since the epoch, as text: the part of a ledger entry id
    that says when it was booked (the same digits on DuckDB, PostgreSQL and Redshift)."""
    return exp.maybe_parse(
        "CAST(DATEDIFF(MICROSECOND, CAST('1970-01-01 00:00:00' AS TIMESTAMP), "
        f"({_sql(evaluator, value)}) AT TIME ZONE 'UTC') AS VARCHAR)",
        dialect=evaluator.dialect,
    )


# What a booked money line is: a change to any of these between two change points books a
# reversal of the old entry and the new one (marts_finance.revenue_ledger).
LINE_ATTRIBUTES = (
    "entry_at",
    "amount",
    "customer_id",
    "channel",
    "shipping_country",
    "currency",
    "category",
    "seller_id",
    "order_item_id",
)


@macro()
def line_changed(
    evaluator: MacroEvaluator, old: exp.Expression, new: exp.Expression
) -> exp.Expression:
    """True when the money line `old` (as of the previous change point) and `new` (as of this one)
    differ in any attribute the ledger books."""
    before, after = _sql(evaluator, old), _sql(evaluator, new)
    return exp.maybe_parse(
        " OR ".join(f"{before}.{name} IS DISTINCT FROM {after}.{name}" for name in LINE_ATTRIBUTES),
        dialect=evaluator.dialect,
    )
