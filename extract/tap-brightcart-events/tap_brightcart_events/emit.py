"""Write Singer messages: SCHEMA, RECORD, STATE and BATCH, serialized with orjson.

All messages go through one buffered binary stream, so what a reader sees after a crash is
always a prefix of what was written: a STATE message is never seen without the records before it.
"""

from __future__ import annotations

import gzip
import os
import tempfile
import typing as t
import uuid
from pathlib import Path
from urllib.parse import urlparse

import orjson

from tap_brightcart_events.listing import S3Object


class BatchConfigError(ValueError):
    """The batch_config setting cannot be used; the message says what to change."""


class SingerWriter:
    """Singer messages to a binary stream (stdout)."""

    def __init__(self, out: t.BinaryIO, time_extracted: str) -> None:
        self._out = out
        self._time_extracted = orjson.dumps(time_extracted)

    def schema(
        self,
        stream: str,
        schema: dict[str, t.Any],
        key_properties: list[str],
        bookmark_properties: list[str] | None = None,
    ) -> None:
        message: dict[str, t.Any] = {
            "type": "SCHEMA",
            "stream": stream,
            "schema": schema,
            "key_properties": key_properties,
        }
        if bookmark_properties:
            message["bookmark_properties"] = bookmark_properties
        self._out.write(orjson.dumps(message) + b"\n")

    def record_json(self, stream_prefix: bytes, record: bytes) -> None:
        """Write a RECORD whose record is already JSON bytes; see record_prefix()."""
        self._out.write(
            stream_prefix + record + b',"time_extracted":' + self._time_extracted + b"}\n"
        )

    @staticmethod
    def record_prefix(stream: str) -> bytes:
        return b'{"type":"RECORD","stream":' + orjson.dumps(stream) + b',"record":'

    def record(self, stream: str, record: dict[str, t.Any]) -> None:
        self.record_json(self.record_prefix(stream), orjson.dumps(record))

    def batch(
        self,
        stream: str,
        encoding: dict[str, t.Any],
        manifest: list[str],
        objects: dict[str, t.Any] | None = None,
    ) -> None:
        """A BATCH message; `time_extracted` as on RECORD messages, for the loader's metadata.

        `objects`, when given, says that the manifest names source objects (manifests.py).
        """
        extra = b',"objects":' + orjson.dumps(objects) if objects is not None else b""
        self._out.write(
            b'{"type":"BATCH","stream":'
            + orjson.dumps(stream)
            + b',"encoding":'
            + orjson.dumps(encoding)
            + b',"manifest":'
            + orjson.dumps(manifest)
            + b',"time_extracted":'
            + self._time_extracted
            + extra
            + b"}\n"
        )

    def state(self, value: dict[str, t.Any]) -> None:
        self._out.write(orjson.dumps({"type": "STATE", "value": value}) + b"\n")
        self._out.flush()


class RecordSink:
    """Plain RECORD messages: an object is complete as soon as its last line is written."""

    def __init__(self, writer: SingerWriter, stream: str) -> None:
        self._writer = writer
        self._prefix = SingerWriter.record_prefix(stream)

    def write(self, record: bytes) -> list[S3Object]:
        self._writer.record_json(self._prefix, record)
        return []

    def object_finished(self, obj: S3Object) -> list[S3Object]:
        return [obj]

    def close(self) -> list[S3Object]:
        return []


class BatchSink:
    """Records into gzipped JSON-lines batch files; one BATCH message per closed file.

    An object is complete only when the file holding its last line was closed and announced.
    Files go to a local folder (`file://` root) or to S3 (`s3://bucket/prefix` root).
    """

    def __init__(
        self,
        writer: SingerWriter,
        stream: str,
        tap_name: str,
        batch_config: t.Mapping[str, t.Any],
        s3_client_factory: t.Callable[[], t.Any],
    ) -> None:
        encoding = dict(batch_config.get("encoding") or {})
        if encoding.get("format", "jsonl") != "jsonl":
            raise BatchConfigError(
                f"batch_config.encoding.format {encoding.get('format')!r} is not supported; "
                "use 'jsonl'"
            )
        compression = encoding.get("compression", "gzip")
        if compression not in ("gzip", None, "none"):
            raise BatchConfigError(
                f"batch_config.encoding.compression {compression!r} is not supported; "
                "use 'gzip' or 'none'"
            )
        self._gzip = compression == "gzip"
        self._encoding = {"format": "jsonl", "compression": "gzip" if self._gzip else None}
        storage = batch_config.get("storage") or {}
        root = str(storage.get("root") or "")
        parsed = urlparse(root)
        if parsed.scheme not in ("file", "s3"):
            raise BatchConfigError(
                f"batch_config.storage.root {root!r} must be a file:// or s3:// URL"
            )
        self._scheme = parsed.scheme
        self._root = parsed
        self._prefix = str(storage.get("prefix") or "")
        self._batch_size = int(batch_config.get("batch_size") or 10000)
        self._writer = writer
        self._stream = stream
        self._sync_id = f"{tap_name}--{stream}-{uuid.uuid4()}"
        self._s3_client_factory = s3_client_factory
        self._files = 0
        self._count = 0
        self._file: t.BinaryIO | None = None
        self._path: Path | None = None
        self._finished: list[S3Object] = []
        self._raw: t.BinaryIO | None = None

    def _filename(self) -> str:
        suffix = ".json.gz" if self._gzip else ".jsonl"
        return f"{self._prefix}{self._sync_id}-{self._files}{suffix}"

    def _open(self) -> None:
        self._files += 1
        if self._scheme == "file":
            folder = Path(self._root.path)
            folder.mkdir(parents=True, exist_ok=True)
            self._path = folder / self._filename()
        else:
            handle, name = tempfile.mkstemp(prefix="tap-brightcart-events-", suffix=".batch")
            os.close(handle)
            self._path = Path(name)
        raw = self._path.open("wb")
        self._file = (
            t.cast(t.BinaryIO, gzip.GzipFile(fileobj=raw, mode="wb", compresslevel=1, mtime=0))
            if self._gzip
            else raw
        )
        self._raw = raw

    def write(self, record: bytes) -> list[S3Object]:
        if self._file is None:
            self._open()
        assert self._file is not None
        self._file.write(record + b"\n")
        self._count += 1
        if self._count >= self._batch_size:
            return self._flush()
        return []

    def object_finished(self, obj: S3Object) -> list[S3Object]:
        if self._file is None:
            return [obj]  # nothing of it is waiting in an open file
        self._finished.append(obj)
        return []

    def close(self) -> list[S3Object]:
        return self._flush() if self._file is not None else []

    def _flush(self) -> list[S3Object]:
        assert self._file is not None and self._path is not None
        self._file.close()
        if self._raw is not None:
            self._raw.close()
        if self._scheme == "file":
            url = self._path.resolve().as_uri()
        else:
            bucket = self._root.netloc
            key = "/".join(p for p in (self._root.path.strip("/"), self._filename()) if p)
            self._s3_client_factory().upload_file(str(self._path), bucket, key)
            self._path.unlink()
            url = f"s3://{bucket}/{key}"
        self._writer.batch(self._stream, self._encoding, [url])
        self._file = None
        self._path = None
        self._count = 0
        done, self._finished = self._finished, []
        return done
