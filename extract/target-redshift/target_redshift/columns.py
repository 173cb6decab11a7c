"""Map a stream's JSON schema to warehouse column types, and widen types safely."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import Any


class LogicalType(StrEnum):
    """Warehouse-neutral column types; each dialect spells them in its own SQL."""

    BIGINT = "bigint"
    DECIMAL = "decimal"
    VARCHAR = "varchar"
    TIMESTAMPTZ = "timestamptz"
    DATE = "date"
    BOOLEAN = "boolean"
    JSON = "json"


@dataclass(frozen=True)
class Column:
    """One target column: lower-cased name, the source property it reads, and its type."""

    name: str
    source: str
    type: LogicalType


class SchemaError(ValueError):
    """The stream's schema cannot be mapped to warehouse columns."""


METADATA_TYPES: dict[str, LogicalType] = {
    "_sdc_extracted_at": LogicalType.TIMESTAMPTZ,
    "_sdc_received_at": LogicalType.TIMESTAMPTZ,
    "_sdc_batched_at": LogicalType.TIMESTAMPTZ,
    "_sdc_deleted_at": LogicalType.TIMESTAMPTZ,
    "_sdc_sequence": LogicalType.BIGINT,
    "_sdc_table_version": LogicalType.BIGINT,
    "_sdc_sync_started_at": LogicalType.BIGINT,
}
LOADER_COLUMNS: dict[str, LogicalType] = {
    "_load_id": LogicalType.VARCHAR,
    "_loaded_at": LogicalType.TIMESTAMPTZ,
}
RECORD_HASH = "_record_hash"

_DECIMAL_FORMATS = {"singer.decimal", "x-singer.decimal"}


def _types_of(prop: dict[str, Any]) -> list[str]:
    raw = prop.get("type")
    if raw is None:
        for key in ("anyOf", "oneOf"):
            if key in prop:
                found: list[str] = []
                for option in prop[key]:
                    found.extend(_types_of(option))
                return found
        return []
    if isinstance(raw, str):
        return [raw]
    return [str(item) for item in raw]


def _format_of(prop: dict[str, Any]) -> str | None:
    if "format" in prop:
        return str(prop["format"])
    for key in ("anyOf", "oneOf"):
        for option in prop.get(key, []):
            if "format" in option:
                return str(option["format"])
    return None


def logical_type(prop: dict[str, Any]) -> LogicalType:
    """Return the warehouse type for one JSON-schema property (docs/architecture.md)."""
    # anyOf branches may repeat a type (tap-salesforce: a date-time string or any string).
    types = list(dict.fromkeys(t for t in _types_of(prop) if t != "null"))
    fmt = _format_of(prop)
    if not types:
        return LogicalType.JSON if not prop else LogicalType.VARCHAR
    if "object" in types or "array" in types:
        return LogicalType.JSON
    if "string" in types:
        if len(types) > 1:
            return LogicalType.VARCHAR
        if fmt == "date-time":
            return LogicalType.TIMESTAMPTZ
        if fmt == "date":
            return LogicalType.DATE
        if fmt in _DECIMAL_FORMATS:
            return LogicalType.DECIMAL
        return LogicalType.VARCHAR
    if "number" in types:
        return LogicalType.DECIMAL
    if types == ["integer"]:
        return LogicalType.BIGINT
    if types == ["boolean"]:
        return LogicalType.BOOLEAN
    return LogicalType.VARCHAR


def columns_for_schema(schema: dict[str, Any]) -> list[Column]:
    """All columns of a stream: its properties (lower-cased), then metadata columns."""
    properties: dict[str, Any] = schema.get("properties", {})
    seen: dict[str, str] = {}
    columns: list[Column] = []
    for source, prop in properties.items():
        name = source.lower()
        if name in seen:
            msg = (
                f"Properties '{seen[name]}' and '{source}' both become column '{name}' once "
                "lower-cased; rename one of them with a stream map (__alias__ / property rename)."
            )
            raise SchemaError(msg)
        seen[name] = source
        kind = METADATA_TYPES.get(name) or logical_type(prop if isinstance(prop, dict) else {})
        columns.append(Column(name=name, source=source, type=kind))
    return columns


_WIDENINGS: dict[frozenset[LogicalType], LogicalType] = {
    frozenset({LogicalType.BIGINT, LogicalType.DECIMAL}): LogicalType.DECIMAL,
    frozenset({LogicalType.DATE, LogicalType.TIMESTAMPTZ}): LogicalType.TIMESTAMPTZ,
}


def widen(existing: LogicalType, incoming: LogicalType) -> LogicalType:
    """The narrowest type holding both; never narrower than what the table has."""
    if existing == incoming:
        return existing
    if existing == LogicalType.VARCHAR or incoming == LogicalType.VARCHAR:
        return LogicalType.VARCHAR
    return _WIDENINGS.get(frozenset({existing, incoming}), LogicalType.VARCHAR)
