"""Reading the fields of a clickstream event's JSON payload (staging.stg_events__events).

`@event_field(payload, 'page', 'path')` is `JSON_EXTRACT_PATH_TEXT(payload, 'page', 'path')`: the
field's text, NULL when absent. That is how it renders while the project loads and on PostgreSQL.
On Redshift the loader lands the payload as SUPER, which JSON_EXTRACT_PATH_TEXT does not take:
there it reads `JSON_SERIALIZE(payload)`. On DuckDB each `->>` parses the line again, and parsing
is most of the model's cost (a line is about 1 KB): there every field is taken from one
extraction of all `EVENT_FIELDS` at once, `list_extract(json_extract_string(payload, [<all
paths>]), i)`. The extraction is the same expression in every column, so DuckDB computes it once
per row (its common-subexpression elimination) and a line is parsed once instead of once per
field.
"""

from __future__ import annotations

import typing as t

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator
from sqlmesh.utils.errors import SQLMeshError

# The payload fields the warehouse reads, as key paths; @event_field takes only these.
EVENT_FIELDS = (
    ("utm_source",),
    ("utm_medium",),
    ("utm_campaign",),
    ("utm_content",),
    ("utm_term",),
    ("page", "path"),
    ("page", "referrer"),
    ("context", "device_type"),
    ("properties", "product_id"),
    ("properties", "order_id"),
    ("properties", "revenue"),
    ("properties", "currency"),
)


def _engine(evaluator: MacroEvaluator) -> str | None:
    """The dialect of the engine the query runs on; None while the project loads."""
    try:
        return str(evaluator.engine_adapter.dialect)
    except SQLMeshError:
        return None


@macro()
def event_field(
    evaluator: MacroEvaluator, payload: exp.Expression, *path: exp.Expression
) -> exp.Expression:
    """The text of one field of an event's JSON payload, NULL when absent."""
    keys = tuple(key.name for key in path)
    if keys not in EVENT_FIELDS:
        raise SQLMeshError(
            f"@event_field: {'.'.join(keys)} is not one of macros/events.py's fields"
        )
    engine = _engine(evaluator)
    if engine == "redshift":
        payload = exp.Anonymous(this="JSON_SERIALIZE", expressions=[payload])
    if engine != "duckdb":
        text = exp.func("JSON_EXTRACT_PATH_TEXT", payload, *path, dialect=evaluator.dialect)
        return t.cast(exp.Expression, text)
    every_path = exp.Array(
        expressions=[exp.Literal.string("$." + ".".join(field)) for field in EVENT_FIELDS]
    )
    extraction = exp.Anonymous(this="json_extract_string", expressions=[payload, every_path])
    position = exp.Literal.number(EVENT_FIELDS.index(keys) + 1)
    return exp.Anonymous(this="list_extract", expressions=[extraction, position])
