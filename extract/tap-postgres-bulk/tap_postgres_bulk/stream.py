"""A tap-postgres stream whose BATCH path copies its window in bulk instead of record by record.

With `batch_config` encoding `parquet`, an INCREMENTAL or FULL_TABLE stream does not build one
Python dict per row: its window

    SELECT <selected columns> FROM <schema>.<table>
    WHERE <replication key> >= <bookmark>            -- INCREMENTAL; as tap-postgres, the
      [AND <replication key> <= <high-water mark>]   -- boundary row is read again (the
      [AND <custom_where_clauses>]                   -- loader's version key absorbs it)

is copied by PostgreSQL's binary COPY into DuckDB and written as one Parquet file with the
columns' own types, in the run's one snapshot (snapshot.py), and announced in ONE BATCH message
carrying `time_extracted` (the snapshot's start). The bookmark then moves to the largest
replication value copied, exactly as tap-postgres moves it after its last record. With
`max_record_count`, the high-water mark is the replication value of that many rows past the
bookmark, so a run reads a bounded window (rows sharing that value all come along).

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

    def window_query(self, bookmark: t.Any, high_water: t.Any = None) -> str:
        """The PostgreSQL query of this run's window of the stream."""
        fqn = self.fully_qualified_name
        table = quote_ident(str(fqn.table))
        if fqn.schema:
            table = f"{quote_ident(str(fqn.schema))}.{table}"
        columns = ", ".join(quote_ident(c) for c in self.get_selected_schema()["properties"])
        where: list[str] = []
        key = self.replication_key
        if key and bookmark is not None:
            where.append(f"{quote_ident(key)} >= {sql_literal(str(bookmark))}")
        if key and high_water is not None:
            where.append(f"{quote_ident(key)} <= {sql_literal(str(high_water))}")
        options = (self.config.get("stream_options") or {}).get(self.name) or {}
        where += [f"({clause.strip()})" for clause in options.get("custom_where_clauses") or []]
        return f"SELECT {columns} FROM {table}" + (" WHERE " + " AND ".join(where) if where else "")

    def bounded_high_water(self, bookmark: t.Any) -> t.Any:
        """With max_record_count: the replication value that many rows past the bookmark."""
        limit = self.max_record_count()
        key = self.replication_key
        if not limit or not key:
            return None
        window = self.window_query(bookmark)
        query = (
            f"SELECT {quote_ident(key)} FROM ({window}) AS w "
            f"ORDER BY 1 OFFSET {int(limit) - 1} LIMIT 1"
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
        """Parquet: the window in one bulk copy. Any other encoding: tap-postgres' path."""
        if batch_config.encoding.format != "parquet":
            yield from super().get_batches(batch_config, context)
            return
        if context:
            msg = f"Stream '{self.name}' does not support partitioning."
            raise NotImplementedError(msg)
        self._write_starting_replication_value(context)
        key = self.replication_key
        bookmark = self.get_starting_replication_key_value(context) if key else None
        high_water = self.bounded_high_water(bookmark)
        prefix = batch_config.storage.prefix or ""
        path = local_root(batch_config) / f"{prefix}{self.name}-{uuid.uuid4().hex}.parquet"
        # A Parquet file compresses its own pages, so the file itself is never compressed:
        # `none` (the default) gives snappy pages, `gzip` gzip pages.
        compression = "gzip" if batch_config.encoding.compression == "gzip" else "snappy"
        copied = self.snapshot.copy(
            self.window_query(bookmark, high_water), path, self.replication_key, compression
        )
        self.logger.info("Copied %d row(s) of %s in bulk", copied.rows, self.name)
        if copied.rows == 0:
            path.unlink(missing_ok=True)
            return
        if self.replication_key and copied.high_water is not None:
            state = self.get_context_state(context)
            state["replication_key"] = self.replication_key
            state["replication_key_value"] = copied.high_water
        yield batch_config.encoding, [path.as_uri()]

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
