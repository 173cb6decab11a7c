"""JSON schemas of the two streams this tap emits."""

from __future__ import annotations

import typing as t

EVENTS = "events"
QUARANTINE = "events_quarantine"
KEY_PROPERTIES = ["s3_key", "line_number"]
REPLICATION_KEY = "received_at"

_STR = {"type": ["string", "null"]}
_TS = {"type": ["string", "null"], "format": "date-time"}

EVENTS_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "event_id": {"type": "string", "minLength": 1},
        "event_type": _STR,
        "occurred_at": {"type": "string", "format": "date-time"},
        "received_at": _TS,
        "anonymous_id": _STR,
        "customer_id": {"type": ["integer", "null"]},
        "session_id": _STR,
        "s3_key": {"type": "string"},
        "line_number": {"type": "integer"},
        "object_last_modified": {"type": "string", "format": "date-time"},
        "payload": {"type": "object", "additionalProperties": True},
    },
    "required": ["event_id", "occurred_at", "s3_key", "line_number"],
}

QUARANTINE_SCHEMA: dict[str, t.Any] = {
    "type": "object",
    "properties": {
        "s3_key": {"type": "string"},
        "line_number": {"type": "integer"},
        "error": {"type": "string"},
        "raw_line": _STR,
        "object_last_modified": {"type": "string", "format": "date-time"},
    },
    "required": ["s3_key", "line_number", "error"],
}
