"""Read one S3 object as a stream of lines, with bounded memory.

The object body is streamed in chunks into a spooled temporary file (in memory up to
SPOOL_MAX_BYTES, on disk beyond), so a few objects can be fetched ahead by a small thread pool
while the main thread parses. Lines are then read through gzip.GzipFile (gzip with or without a
stored file name, multi-member) or, for bytes that do not start with the gzip magic, as plain
JSON lines.
"""

from __future__ import annotations

import gzip
import tempfile
import typing as t
import zlib

from tap_brightcart_events.listing import S3Object

GZIP_MAGIC = b"\x1f\x8b"
CHUNK_BYTES = 1 << 20
SPOOL_MAX_BYTES = 16 << 20


class ObjectTruncated(Exception):
    """The object's bytes end early or are corrupt; lines before the fault were read."""


def download(client: t.Any, bucket: str, obj: S3Object) -> t.IO[bytes]:
    """Stream the object's body into a spooled temporary file and rewind it."""
    spool = tempfile.SpooledTemporaryFile(max_size=SPOOL_MAX_BYTES)
    body = client.get_object(Bucket=bucket, Key=obj.key)["Body"]
    try:
        for chunk in body.iter_chunks(CHUNK_BYTES):
            spool.write(chunk)
    finally:
        body.close()
    spool.seek(0)
    return t.cast(t.IO[bytes], spool)


def iter_lines(raw: t.IO[bytes]) -> t.Iterator[bytes]:
    """Yield the lines (without the line break) of a gzip or plain object.

    Raises ObjectTruncated when the gzip stream is cut short or corrupt.
    """
    head = raw.read(2)
    raw.seek(0)
    stream: t.IO[bytes] = (
        t.cast(t.IO[bytes], gzip.GzipFile(fileobj=raw, mode="rb")) if head == GZIP_MAGIC else raw
    )
    try:
        for line in stream:
            yield line.rstrip(b"\r\n")
    except (EOFError, OSError, zlib.error) as exc:
        raise ObjectTruncated(f"{type(exc).__name__}: {exc}") from None
