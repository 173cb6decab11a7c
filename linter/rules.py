"""Project linter rules: portable SQL for Redshift and DuckDB; the incremental model contract;
interval bounds that SQLMesh renders as written."""

from __future__ import annotations

import re
import typing as t

from sqlglot import exp
from sqlglot.errors import SqlglotError
from sqlmesh.core.dialect import MacroVar
from sqlmesh.core.linter.rule import Rule, RuleViolation
from sqlmesh.core.model import Model, SqlModel
from sqlmesh.utils.errors import SQLMeshError

# Functions Redshift lacks or that do not transpile from the redshift dialect to DuckDB (measured).
UNPORTABLE_FUNCTIONS: dict[str, str] = {
    "IS_VALID_JSON": "IS_VALID_JSON does not exist on DuckDB; validate JSON during loading",
    "IS_VALID_JSON_ARRAY": "IS_VALID_JSON_ARRAY does not exist on DuckDB",
    "STRTOL": "STRTOL does not transpile to DuckDB; convert the base in the loader",
    "FROM_BASE": "STRTOL/FROM_BASE does not transpile between Redshift and DuckDB",
}


def _model_query(model: SqlModel) -> exp.Expr:
    try:
        rendered = model.render_query()
    except (SQLMeshError, SqlglotError):  # unrenderable: the written query still shows the calls
        rendered = None
    return rendered if rendered is not None else t.cast(exp.Expr, model.query)


def unportable_calls(query: exp.Expr) -> list[str]:
    """Human-readable reasons for every unportable function call in ``query``."""
    reasons: list[str] = []
    for node in query.walk():
        if isinstance(node, exp.GroupConcat) and isinstance(node.this, exp.Distinct):
            reasons.append(
                "LISTAGG(DISTINCT ...) does not transpile to DuckDB; dedupe in a subquery"
            )
        elif isinstance(node, exp.Trunc) and node.args.get("decimals") is None:
            if not node.this.is_type(*exp.DataType.NUMERIC_TYPES):
                reasons.append(
                    f"TRUNC({node.this.sql()}) on a timestamp does not transpile to DuckDB; "
                    "use DATE_TRUNC('day', ...) or CAST(... AS DATE)"
                )
        elif isinstance(node, exp.Func):
            name = (node.name if isinstance(node, exp.Anonymous) else node.sql_name()).upper()
            if name in UNPORTABLE_FUNCTIONS:
                reasons.append(UNPORTABLE_FUNCTIONS[name])
    return reasons


class RedshiftPortableFunctions(Rule):
    """Models must only call functions that exist on Redshift and transpile to DuckDB."""

    def check_model(self, model: Model) -> RuleViolation | list[RuleViolation] | None:
        if not isinstance(model, SqlModel):
            return None
        reasons = unportable_calls(_model_query(model))
        return [self.violation(f"{model.name}: {reason}") for reason in reasons] or None


# A model with this tag is processed by when its rows became known (its time column is a booking
# time, docs/warehouse.md "The time model"): late data is new data in the current interval, and a
# lookback would only recompute what cannot change.
BOOKED_BY_CHANGE_TIME = "booked_by_change_time"


class IncrementalModelContract(Rule):
    """INCREMENTAL_BY_TIME_RANGE models need a time column, a lookback for late data and audits;
    a model booked by change time needs no lookback."""

    def check_model(self, model: Model) -> RuleViolation | list[RuleViolation] | None:
        if not model.kind.is_incremental_by_time_range:
            return None
        problems: list[str] = []
        if getattr(model.kind, "time_column", None) is None:
            problems.append("has no time_column")
        if not getattr(model.kind, "lookback", 0) and BOOKED_BY_CHANGE_TIME not in model.tags:
            problems.append("has no lookback (late data would be missed)")
        if not model.audits:
            problems.append("has no audits")
        return [
            self.violation(f"{model.name}: INCREMENTAL_BY_TIME_RANGE model {problem}")
            for problem in problems
        ] or None


# SQLMesh's interval and run-time variables: @start_dt, @end_ts, @execution_ds...
INTERVAL_MACRO = re.compile(r"^(start|end|execution)_", re.IGNORECASE)


def truncated_bounds(query: exp.Expr, dialect: str = "") -> list[str]:
    """Every DATE_TRUNC of an interval variable in the query as written."""
    found: list[str] = []
    for node in query.walk():
        is_trunc = isinstance(node, (exp.DateTrunc, exp.TimestampTrunc)) or (
            isinstance(node, exp.Anonymous) and node.name.upper() == "DATE_TRUNC"
        )
        if is_trunc and any(
            isinstance(v, MacroVar) and INTERVAL_MACRO.match(v.name) for v in node.walk()
        ):
            found.append(node.sql(dialect=dialect, comments=False))
    return found


class NoTruncatedIntervalBounds(Rule):
    """No DATE_TRUNC of @start_*/@end_*: SQLMesh substitutes a timestamp literal, and its query
    optimizer (sqlglot's simplifier) folds DATE_TRUNC('DAY' or 'MONTH', <timestamp literal>) to
    the literal with its time of day kept, so the model reads from the wrong bound without a
    word. Write the bound itself (@start_dt - INTERVAL '30 MINUTES') or a date variable."""

    def check_model(self, model: Model) -> RuleViolation | list[RuleViolation] | None:
        if not isinstance(model, SqlModel):
            return None
        return [
            self.violation(
                f"{model.name}: {call} is folded to the untruncated bound when the query is "
                "rendered; write the bound without DATE_TRUNC"
            )
            for call in truncated_bounds(t.cast(exp.Expr, model.query), model.dialect)
        ] or None
