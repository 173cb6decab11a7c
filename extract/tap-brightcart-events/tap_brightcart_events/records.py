"""Turn one raw line of an events object into an `events` record or a quarantine record.

A good line becomes the bytes of a JSON record whose `payload` is the line itself, spliced in
verbatim (it was just parsed, so it is valid JSON): the payload is never re-serialized.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass
from datetime import UTC, datetime

import orjson

MAX_RAW_LINE_CHARS = 65536
_STRING_FIELDS = ("event_type", "anonymous_id", "session_id")


class MalformedLine(ValueError):
    """The line cannot become an `events` record; the message says why."""


@dataclass(frozen=True, slots=True)
class ObjectRef:
    """Where lines come from: the S3 key and its LastModified as an ISO-8601 UTC string."""

    key: str
    last_modified: str


def _timestamp(value: t.Any, name: str, *, required: bool) -> str | None:
    if value is None:
        if required:
            raise MalformedLine(f"missing {name}")
        return None
    if not isinstance(value, str):
        raise MalformedLine(f"{name} is not a string timestamp: {value!r}")
    try:
        parsed = datetime.fromisoformat(value)
    except ValueError:
        raise MalformedLine(f"unparseable {name}: {value!r}") from None
    if parsed.tzinfo is None:
        parsed = parsed.replace(tzinfo=UTC)
    return parsed.astimezone(UTC).isoformat()


def _customer_id(value: t.Any) -> int | None:
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise MalformedLine(f"customer_id is not an integer: {value!r}")
    try:
        return int(value)
    except ValueError:
        raise MalformedLine(f"customer_id is not an integer: {value!r}") from None


def event_record_bytes(line: bytes, ref: ObjectRef, line_number: int) -> tuple[bytes, str | None]:
    """Return the JSON bytes of the `events` record for `line`, and its received_at.

    Raises MalformedLine when the line is not a JSON object with a usable event_id and
    occurred_at (invalid UTF-8 is reported by the JSON parser).
    """
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise MalformedLine(f"invalid JSON: {exc}") from None
    if not isinstance(doc, dict):
        raise MalformedLine(f"line is JSON but not an object ({type(doc).__name__})")
    event_id = doc.get("event_id")
    if not isinstance(event_id, str) or not event_id:
        raise MalformedLine("missing event_id" if event_id is None else "event_id is not a string")
    typed: dict[str, t.Any] = {
        "event_id": event_id,
        "occurred_at": _timestamp(doc.get("occurred_at"), "occurred_at", required=True),
        "received_at": _timestamp(doc.get("received_at"), "received_at", required=False),
        "customer_id": _customer_id(doc.get("customer_id")),
    }
    for name in _STRING_FIELDS:
        value = doc.get(name)
        if value is not None and not isinstance(value, str):
            raise MalformedLine(f"{name} is not a string: {value!r}")
        typed[name] = value
    typed["s3_key"] = ref.key
    typed["line_number"] = line_number
    typed["object_last_modified"] = ref.last_modified
    head = orjson.dumps(typed)
    return head[:-1] + b',"payload":' + line + b"}", typed["received_at"]


def escape_raw(line: bytes) -> str:
    """The line as text, invalid UTF-8 bytes escaped as \\xNN, cut to a bounded length."""
    text = line.decode("utf-8", errors="backslashreplace")
    if len(text) > MAX_RAW_LINE_CHARS:
        return text[:MAX_RAW_LINE_CHARS] + f"...[{len(text) - MAX_RAW_LINE_CHARS} more chars]"
    return text


def quarantine_record(
    ref: ObjectRef, line_number: int, error: str, raw: bytes | None
) -> dict[str, t.Any]:
    """The `events_quarantine` record for one bad line (or an unreadable object tail)."""
    return {
        "s3_key": ref.key,
        "line_number": line_number,
        "error": error,
        "raw_line": None if raw is None else escape_raw(raw),
        "object_last_modified": ref.last_modified,
    }
