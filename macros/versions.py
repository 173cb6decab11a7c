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
    return exp.maybe_parse(
        LOGS["shop"]["known_at"].format(v=_sql(evaluator, alias)), dialect=evaluator.dialect
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


# --- Current state from a version log ---------------------------------------------------------
# Each raw table of the shop and CRM lanes is an append-only log of versions. `ORDER` ranks the
# versions of one key, newest first; `KNOWN_AT` is when a version became known (the time its
# lane's high-water mark follows, so an interval [start, end) runs once every version known before
# `end` has landed); `DELETED` says the version removes its key. The staging and current-state
# models read the logs through the macros below, so "the latest version" means one thing.
# ({v} in known_at: the alias of the log table. Plain values: SQLMesh stores the globals a macro
# uses with the models, by their repr.)
LOGS = {
    "shop": {
        "order": "updated_at DESC, _sdc_sequence DESC, _sdc_deleted_at DESC NULLS LAST",
        "known_at": "COALESCE({v}._sdc_deleted_at, {v}.updated_at)",
        "deleted": "NOT _sdc_deleted_at IS NULL",
    },
    "crm": {
        "order": "systemmodstamp DESC, _loaded_at DESC",
        "known_at": "{v}.systemmodstamp",
        "deleted": "COALESCE(isdeleted, FALSE)",
    },
}


def _log(evaluator: MacroEvaluator, name: exp.Expression) -> dict[str, str]:
    key = name.name if isinstance(name, exp.Literal) else _sql(evaluator, name)
    try:
        return LOGS[key.strip("'\"")]
    except KeyError:
        raise ValueError(f"unknown version log {key!r}; one of {', '.join(LOGS)}") from None


def _rank_sql(evaluator: MacroEvaluator, log: exp.Expression, key: exp.Expression) -> str:
    order = _log(evaluator, log)["order"]
    return f"ROW_NUMBER() OVER (PARTITION BY {_sql(evaluator, key)} ORDER BY {order})"


@macro()
def version_rank(
    evaluator: MacroEvaluator, log: exp.Expression, key: exp.Expression
) -> exp.Expression:
    """1 for the latest version of each `key` in a version log ('shop' or 'crm'), 2 for the one
    before it, and so on."""
    return exp.maybe_parse(_rank_sql(evaluator, log, key), dialect=evaluator.dialect)


def _changed_sql(
    evaluator: MacroEvaluator,
    log: exp.Expression,
    table: exp.Expression,
    column: exp.Expression,
    since: exp.Expression,
) -> str:
    known_at = _log(evaluator, log)["known_at"].format(v="v")
    return (
        f"SELECT v.{_sql(evaluator, column)} FROM {_sql(evaluator, table)} AS v "
        f"WHERE {known_at} >= {_sql(evaluator, since)}"
    )


@macro()
def changed_keys(
    evaluator: MacroEvaluator,
    log: exp.Expression,
    table: exp.Expression,
    column: exp.Expression,
    since: exp.Expression,
) -> exp.Expression:
    """The values of `column` over the versions of `table` known at or after `since`: the keys (or
    parent keys) a current-state model recomputes for an interval starting at `since`."""
    return exp.maybe_parse(
        _changed_sql(evaluator, log, table, column, since), dialect=evaluator.dialect
    )


@macro()
def deleted_keys(
    evaluator: MacroEvaluator,
    log: exp.Expression,
    table: exp.Expression,
    key: exp.Expression,
    since: exp.Expression,
) -> exp.Expression:
    """The keys of `table` with a version known at or after `since` whose latest version is a
    deletion: what a current-state model removes after merging an interval starting at `since`."""
    spec, name = _log(evaluator, log), _sql(evaluator, key)
    changed = _changed_sql(evaluator, log, table, key, since)
    return exp.maybe_parse(
        f"SELECT {name} FROM (SELECT {name}, {spec['deleted']} AS is_deleted, "
        f"{_rank_sql(evaluator, log, key)} AS version_rank "
        f"FROM {_sql(evaluator, table)} WHERE {name} IN ({changed})) AS latest "
        "WHERE version_rank = 1 AND is_deleted",
        dialect=evaluator.dialect,
    )


# --- What the hour's bookings touched -----------------------------------------------------------
# The marts downstream of the ledger rebuild, for an interval starting at S, only the lines, days
# or hours of the entries booked at or after S (docs/warehouse.md, "Revenue marts").


@macro()
def booked_since(
    evaluator: MacroEvaluator, value: exp.Expression, since: exp.Expression
) -> exp.Expression:
    """The values of `value` (an expression over marts_finance.revenue_ledger's columns: the line
    `entry_key`, or the business day or hour of `entry_at`) over the ledger entries booked at or
    after `since`: what a revenue mart rebuilds, and removes first, for an interval starting at
    `since`."""
    # (no shared helper here: the refund marts also use the KPI macros, whose module has its own
    # `_sql`, and SQLMesh stores one definition per name with a model)
    dialect = evaluator.dialect
    return exp.maybe_parse(
        f"SELECT {value.sql(dialect=dialect)} FROM marts_finance.revenue_ledger "
        f"WHERE booked_at >= {since.sql(dialect=dialect)}",
        dialect=dialect,
    )


# --- The keys a run recomputes, as values ---------------------------------------------------------
# A current-state model filters the staging views (the latest version of each key, ranked over the
# whole log) by the keys that changed since its interval's start. Given as a subquery, the filter
# becomes a semi-join that DuckDB applies after ranking every version ever landed; given as values,
# DuckDB pushes it through the ranking window (its PARTITION BY key) into the scan, and the run
# ranks the versions of the keys it recomputes only. In the 90-day bench world (scale 0.01) the
# hour's `marts_orders.orders` query went from 0.49 to 0.09 s (ADR 0017).
# Above this many keys (a first run, a restatement, a seller's new commission rate touching all
# its lines) the filter stays a subquery.
KEY_VALUES_LIMIT = 10000


@macro()
def in_keys(
    evaluator: MacroEvaluator, column: exp.Expression, keys: exp.Expression
) -> exp.Expression:
    """`column IN (keys)`, `keys` a query over the raw version logs (external tables only). When
    the model is evaluated, the keys are read first and written into the predicate as values (at
    most KEY_VALUES_LIMIT of them; `FALSE` when there are none); at any other stage (loading,
    planning, unit tests) and above the limit, the predicate keeps the subquery. Both forms select
    the same rows: the interval's signal waited until every version known before its end landed,
    and a version landing during the run is known after that end, for the next run."""
    dialect = evaluator.dialect
    query = keys.this if isinstance(keys, exp.Subquery) else keys
    target = column.sql(dialect=dialect)
    if evaluator.runtime_stage == "evaluating":
        sql = query.sql(dialect=dialect)
        rows = evaluator.engine_adapter.fetchall(
            f"SELECT DISTINCT * FROM ({sql}) AS keys LIMIT {KEY_VALUES_LIMIT + 1}"
        )
        if not rows:
            return exp.false()
        if len(rows) <= KEY_VALUES_LIMIT:
            values = ", ".join(exp.convert(row[0]).sql(dialect=dialect) for row in rows)
            return exp.maybe_parse(f"{target} IN ({values})", dialect=dialect)
    return exp.maybe_parse(f"{target} IN ({query.sql(dialect=dialect)})", dialect=dialect)
