"""Object manifests: BATCH messages that name the S3 event objects themselves.

In this mode the tap reads no line. It lists the objects not yet emitted, groups them into
manifests of at most `manifest_bytes` stored bytes (an object larger than that gets a manifest
of its own), and writes one BATCH message per manifest, followed by a STATE that lists the
manifest's objects as done. The loader reads the objects, numbers and checks their lines and
lands the good ones and the quarantined ones (docs/adr/0010-events-objects-read-by-the-loader.md).

The message is a Singer BATCH message with one extension, `objects`, which tells the loader that
the manifest names source objects (read them, never delete them) and how their lines map to the
stream's columns:

    {"type": "BATCH", "stream": "events",
     "encoding": {"format": "jsonl", "compression": "gzip"},
     "manifest": ["s3://<bucket>/events/dt=.../hour=.../<name>.gz", ...],
     "time_extracted": "...",
     "objects": {"last_modified": ["<ISO-8601 UTC LastModified of each manifest entry>", ...],
                 "gzip_sizes": [<the size a .gz object's trailer states, or null>, ...],
                 "columns": {"key": "s3_key", "line_number": "line_number",
                             "last_modified": "object_last_modified", "line": "payload"},
                 "quarantine": {"stream": "events_quarantine", "error": "error",
                                "raw_line": "raw_line"}}}
"""

from __future__ import annotations

import typing as t
from collections.abc import Iterator, Sequence

from tap_brightcart_events.listing import S3Object
from tap_brightcart_events.schemas import QUARANTINE

DEFAULT_MANIFEST_BYTES = 64 << 20
LINE_COLUMNS = {
    "key": "s3_key",
    "line_number": "line_number",
    "last_modified": "object_last_modified",
    "line": "payload",
}
QUARANTINE_COLUMNS = {"stream": QUARANTINE, "error": "error", "raw_line": "raw_line"}
# DuckDB reads a path with these characters as a pattern; such keys cannot be named one by one.
PATTERN_CHARACTERS = frozenset("*?[]{}")


class ObjectKeyError(ValueError):
    """An object key that the loader could not read by name; the message says what to do."""


def groups(objects: Sequence[S3Object], max_bytes: int) -> Iterator[list[S3Object]]:
    """Consecutive objects, in order, each group at most `max_bytes` stored bytes."""
    group: list[S3Object] = []
    size = 0
    for obj in objects:
        if group and size + obj.size > max_bytes:
            yield group
            group, size = [], 0
        group.append(obj)
        size += obj.size
    if group:
        yield group


def url(bucket: str, obj: S3Object) -> str:
    """The s3:// URL of an object, refused when its key would be read as a pattern."""
    if PATTERN_CHARACTERS.intersection(obj.key):
        raise ObjectKeyError(
            f"s3://{bucket}/{obj.key}: the key holds one of {''.join(sorted(PATTERN_CHARACTERS))}"
            ", which the loader would read as a file pattern; rename the object, or load it "
            "with object_manifests off"
        )
    return f"s3://{bucket}/{obj.key}"


def encoding(objects: Sequence[S3Object]) -> dict[str, t.Any]:
    """The BATCH encoding: gzip when every name says so; the loader checks each object anyway."""
    gzipped = all(o.name.endswith(".gz") for o in objects)
    return {"format": "jsonl", "compression": "gzip" if gzipped else "auto"}


def gzip_size(client: t.Any, bucket: str, obj: S3Object) -> int | None:
    """The uncompressed size (mod 2**32) a `.gz` object's trailer states; None for others.

    The loader compares it with what it read: DuckDB's gzip reader does not notice a stream
    cut short, and such an object must not load as a shorter one.
    """
    if not obj.name.endswith(".gz") or obj.size < 18:  # header (10) + trailer (8)
        return None
    body = client.get_object(Bucket=bucket, Key=obj.key, Range="bytes=-8")["Body"]
    try:
        tail = body.read()
    finally:
        body.close()
    return int.from_bytes(tail[-4:], "little") if len(tail) == 8 else None


def extension(
    objects: Sequence[S3Object], sizes: Sequence[int | None], *, quarantine: bool
) -> dict[str, t.Any]:
    """The `objects` field of the BATCH message (see the module docstring)."""
    extra: dict[str, t.Any] = {
        "last_modified": [o.last_modified for o in objects],
        "gzip_sizes": list(sizes),
        "columns": dict(LINE_COLUMNS),
    }
    if quarantine:
        extra["quarantine"] = dict(QUARANTINE_COLUMNS)
    return extra
