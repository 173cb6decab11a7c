"""A tap-postgres stream whose BATCH path copies its window in bulk instead of record by record.

With `batch_config` encoding `parquet`, an INCREMENTAL or FULL_TABLE stream does not build one
Python dict per row: its window

    SELECT <selected columns> FROM <schema>.<table>
    WHERE <replication key> >= <bookmark>            -- INCREMENTAL; as tap-postgres, the
      [AND <replication key> <= <high-water mark>]   -- boundary row is read again (the
      [AND <custom_where_clauses>]                   -- loader's version key absorbs it)

is copied by PostgreSQL's binary COPY into DuckDB and written as Parquet files with the
columns' own types, in the run's one snapshot (snapshot.py): chunks of `batch_size` rows cut at
replication values, each announced in a BATCH message carrying `time_extracted` (the snapshot's
start) and followed by STATE. The bookmark moves to the largest replication value copied,
exactly as tap-postgres moves it after its last record. With `max_record_count`, the run stops
at the replication value that many rows past the bookmark (rows sharing it all come along).

Everything else is tap-postgres's: discovery, catalog, selection, state format, stream maps'
aliases on the BATCH message, and the record path for any other batch encoding.
"""

from __future__ import annotations

import typing as t
import uuid
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

from singer_sdk.helpers._batch import BaseBatchFileEncoding, SDKBatchMessage
from tap_postgres.client import PostgresStream

from tap_postgres_bulk.snapshot import Snapshot, quote_ident, sql_literal

if t.TYPE_CHECKING:
    from collections.abc import Iterable

    from singer_sdk.helpers._batch import BatchConfig
    from singer_sdk.helpers.types import Context


class BulkConfigError(ValueError):
    """The batch_config cannot be used by the bulk path; the message says what to change."""


@dataclass(slots=True)
class TimedBatchMessage(SDKBatchMessage):
    """A BATCH message with `time_extracted`, as RECORD messages carry it."""

    time_extracted: str | None = None


def local_root(batch_config: BatchConfig) -> Path:
    """The folder of `batch_config.storage.root`, which must be a file:// URL."""
    parsed = urlparse(batch_config.storage.root)
    if parsed.scheme not in ("file", ""):
        msg = (
            f"tap-postgres bulk path: batch_config.storage.root {batch_config.storage.root!r} "
            "is not a local folder; use file://<folder> (the loader runs beside the tap)"
        )
        raise BulkConfigError(msg)
    return Path(unquote(parsed.path))


class BulkPostgresStream(PostgresStream):
    """tap-postgres' PostgresStream plus the bulk BATCH path."""

    def __init__(self, *args: t.Any, snapshot: Snapshot, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.snapshot = snapshot

    def window_query(self, low: t.Any, high: t.Any = None, strict: bool = False) -> str:
        """The PostgreSQL query of one window of the stream: replication key from `low`
        (`>=`, or `>` when `strict`) up to `high` (`<=`), and the custom_where_clauses."""
        fqn = self.fully_qualified_name
        table = quote_ident(str(fqn.table))
        if fqn.schema:
            table = f"{quote_ident(str(fqn.schema))}.{table}"
        columns = ", ".join(quote_ident(c) for c in self.get_selected_schema()["properties"])
        where: list[str] = []
        key = self.replication_key
        if key and low is not None:
            where.append(f"{quote_ident(key)} {'>' if strict else '>='} {sql_literal(str(low))}")
        if key and high is not None:
            where.append(f"{quote_ident(key)} <= {sql_literal(str(high))}")
        options = (self.config.get("stream_options") or {}).get(self.name) or {}
        where += [f"({clause.strip()})" for clause in options.get("custom_where_clauses") or []]
        return f"SELECT {columns} FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")

    def high_water_after(self, low: t.Any, strict: bool, rows: int) -> str | None:
        """The replication value `rows` rows into the window from `low`; None when fewer remain."""
        key = self.replication_key
        if not key:
            return None
        query = (
            f"SELECT {quote_ident(key)} FROM ({self.window_query(low, strict=strict)}) AS w "
            f"ORDER BY 1 OFFSET {int(rows) - 1} LIMIT 1"
        )
        row = self.snapshot.con.execute(
            f"SELECT CAST(v AS VARCHAR) FROM postgres_query('source', {sql_literal(query)}) AS q(v)"
        ).fetchone()
        return row[0] if row else None

    def get_batches(
        self,
        batch_config: BatchConfig,
        context: Context | None = None,
    ) -> Iterable[tuple[BaseBatchFileEncoding, list[str]]]:
        """Parquet: the window in bulk copies of `batch_size` rows. Other encodings:
        tap-postgres' path.

        The window is copied in chunks cut at replication values, each one file and one BATCH
        message followed by STATE: the loader lands a chunk while the next is copied, a chunk's
        rows are bounded, and a run stopped half way resumes from its last landed chunk. The
        first chunk starts at the bookmark (`>=`, as tap-postgres: its boundary rows are read
        again); the next ones start strictly after the chunk before, whose rows sharing its
        last value all came along, in the same snapshot. With max_record_count the run stops
        after that many rows (and the rows sharing the last value).
        """
        if batch_config.encoding.format != "parquet":
            yield from super().get_batches(batch_config, context)
            return
        if context:
            msg = f"Stream '{self.name}' does not support partitioning."
            raise NotImplementedError(msg)
        self._write_starting_replication_value(context)
        key = self.replication_key
        low = self.get_starting_replication_key_value(context) if key else None
        strict = False
        budget = self.max_record_count() or None
        chunk_rows = max(int(batch_config.batch_size or 0), 1)
        prefix = batch_config.storage.prefix or ""
        # A Parquet file compresses its own pages, so the file itself is never compressed:
        # `none` (the default) gives snappy pages, `gzip` gzip pages.
        compression = "gzip" if batch_config.encoding.compression == "gzip" else "snappy"
        while True:
            wanted = min(chunk_rows, budget) if budget is not None else chunk_rows
            high = self.high_water_after(low, strict, wanted) if key else None
            path = local_root(batch_config) / f"{prefix}{self.name}-{uuid.uuid4().hex}.parquet"
            copied = self.snapshot.copy(
                self.window_query(low, high, strict), path, key, compression
            )
            self.logger.info("Copied %d row(s) of %s in bulk", copied.rows, self.name)
            if copied.rows == 0:
                path.unlink(missing_ok=True)
                return
            if key and copied.high_water is not None:
                state = self.get_context_state(context)
                state["replication_key"] = key
                state["replication_key_value"] = copied.high_water
            yield batch_config.encoding, [path.as_uri()]
            if budget is not None:
                budget -= copied.rows
            if high is None or (budget is not None and budget <= 0):
                return
            low, strict = high, True

    def _generate_batch_messages(
        self,
        encoding: BaseBatchFileEncoding,
        manifest: list[str],
    ) -> t.Generator[SDKBatchMessage, None, None]:
        """The SDK's BATCH messages (one per stream map alias) plus `time_extracted`."""
        started = self.snapshot.started_at
        extracted = started.isoformat() if started else None
        for message in super()._generate_batch_messages(encoding, manifest):
            yield TimedBatchMessage(
                stream=message.stream,
                encoding=message.encoding,
                manifest=message.manifest,
                version=message.version,
                time_extracted=extracted,
            )
