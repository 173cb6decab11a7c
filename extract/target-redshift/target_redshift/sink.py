"""The batch sink: collects records with as little per-record work as possible."""

from __future__ import annotations

import datetime as dt
import re
import time
import typing as t
from typing import Any

from singer_sdk.helpers._batch import BatchFileFormat
from singer_sdk.sinks import BatchSink

from target_redshift.batchfiles import BatchSource
from target_redshift.columns import RECORD_HASH, columns_for_schema
from target_redshift.landing import Destination, LandingOwner
from target_redshift.loader import TablePlan
from target_redshift.loadlog import StreamTally
from target_redshift.objects import LineRules, ObjectManifest

if t.TYPE_CHECKING:
    from singer_sdk.helpers._batch import BaseBatchFileEncoding
    from singer_sdk.sinks.core import BaseJSONSchemaValidator
    from singer_sdk.target_base import Target


DEFAULT_BATCH_ROWS = 100_000


def table_name(stream_name: str) -> str:
    """Stream name to table name: lower-case, anything but [a-z0-9_] becomes '_'."""
    return re.sub(r"[^a-z0-9_]", "_", stream_name.lower())


class RedshiftSink(BatchSink):
    """Per record: append to a list. Per batch: cast, check, stage, bulk load, merge.

    Validation, timestamp parsing and key checks, which singer-sdk does record by record,
    happen once per batch inside the normalization (see normalize.py); a record that does not
    fit lands in `<table>__rejects` with the reason, instead of stopping the run.
    """

    def __init__(
        self,
        target: Target,
        stream_name: str,
        schema: dict,
        key_properties: t.Sequence[str] | None,
    ) -> None:
        self._owner = t.cast("LandingOwner", target)
        self._clock_second = -1
        self._clock_text = ""
        self._batch_started: object = None
        self._batch_started_text = ""
        super().__init__(target, stream_name, schema, key_properties)
        self._with_metadata = bool(self.config.get("add_record_metadata", True))

    @property
    def include_sdc_metadata_properties(self) -> bool:
        with_metadata = getattr(self, "_with_metadata", None)
        if with_metadata is None:  # asked during the SDK's __init__
            return bool(self.config.get("add_record_metadata", True))
        return bool(with_metadata)

    @property
    def max_size(self) -> int:
        """Rows per batch: the batch_size_rows setting, 100k when unset."""
        return int(self.batch_size_rows or DEFAULT_BATCH_ROWS)

    def get_validator(self) -> BaseJSONSchemaValidator | None:
        return None

    def _parse_timestamps_in_record(self, record: dict, schema: dict, treatment: Any) -> None:
        """Timestamps are cast per batch by DuckDB, not per record."""

    def _singer_validate_message(self, record: dict) -> None:
        """Missing key properties are rejected per batch, with the record kept."""

    def _after_process_record(self, context: dict) -> None:
        """No per-record logging."""

    def _now_text(self) -> str:
        second = int(time.time())
        if second != self._clock_second:
            self._clock_second = second
            self._clock_text = dt.datetime.now(tz=dt.UTC).isoformat()
        return self._clock_text

    def _add_sdc_metadata_to_record(self, record: dict, message: dict, context: dict) -> None:
        record["_sdc_extracted_at"] = message.get("time_extracted")
        record["_sdc_received_at"] = now = self._now_text()
        batched = context.get("batch_start_time")
        if batched is not self._batch_started:
            self._batch_started = batched
            self._batch_started_text = batched.isoformat() if batched else ""
        record["_sdc_batched_at"] = self._batch_started_text or now
        record.setdefault("_sdc_deleted_at", None)
        record["_sdc_sequence"] = time.time_ns() // 1_000_000
        record["_sdc_table_version"] = message.get("version")
        record["_sdc_sync_started_at"] = self.sync_started_at

    def process_record(self, record: dict, context: dict) -> None:
        records = context.get("records")
        if records is None:
            context["records"] = [record]
        else:
            records.append(record)

    def plan(self) -> TablePlan:
        """Target table, columns and version key of this stream."""
        columns = tuple(columns_for_schema(self.schema))
        names = {c.name for c in columns}
        keys = [k.lower() for k in self.key_properties]
        override = self._owner.version_key_override(self.stream_name)
        if override:
            version_key = [k.lower() for k in override]
        elif keys:
            replication = self._owner.replication_key(self.stream_name)
            version_key = keys + ([replication] if replication and replication not in keys else [])
        else:
            version_key = [RECORD_HASH]
        unknown = [k for k in version_key if k not in names and k != RECORD_HASH]
        if unknown:
            msg = (
                f"Stream '{self.stream_name}': version key column(s) {unknown} are not in its "
                "schema; fix version_key_properties / replication_keys in the loader settings."
            )
            raise ValueError(msg)
        return TablePlan(
            schema=self._owner.landing.target_schema,
            table=table_name(self.stream_name),
            columns=columns,
            version_key=tuple(version_key),
            required=tuple(keys),
        )

    def clean_up(self) -> None:
        """A stream with no record still gets its table: the models downstream can read it."""
        self._owner.landing.ensure_table(self.plan())
        super().clean_up()

    def _tally(self, plan: TablePlan) -> StreamTally:
        replication = self._owner.replication_key(self.stream_name)
        return self._owner.landing.tally(self.stream_name, plan, replication)

    def process_batch(self, context: dict) -> None:
        records: list[dict] = context.get("records", [])
        if records:
            plan = self.plan()
            self._owner.landing.load(self._tally(plan), plan, records)

    def batch_metadata(self) -> dict[str, str | None]:
        """The Singer metadata of every row of one BATCH file, as text.

        As for RECORD messages, except that the whole file shares one received/batched time
        and one sequence number. `_sdc_deleted_at` is not set: a file's rows carry their own.
        """
        if not self.include_sdc_metadata_properties:
            return {}
        now = dt.datetime.now(tz=dt.UTC).isoformat()
        return {
            "_sdc_extracted_at": self._owner.batch_time_extracted,
            "_sdc_received_at": now,
            "_sdc_batched_at": now,
            "_sdc_sequence": str(time.time_ns() // 1_000_000),
            "_sdc_table_version": None,
            "_sdc_sync_started_at": str(self.sync_started_at),
        }

    def process_batch_files(self, encoding: BaseBatchFileEncoding, files: t.Sequence[str]) -> None:
        """JSON-lines and Parquet BATCH files: each file is cast, checked and merged in one bulk
        step. No record of the file becomes a Python object; Parquet values keep their types.
        """
        objects = self._owner.batch_objects
        if objects is not None:
            self._load_objects(ObjectManifest.from_message(files, objects))
            return
        if encoding.format not in (BatchFileFormat.JSONL, BatchFileFormat.PARQUET):
            super().process_batch_files(encoding, files)
            return
        source = BatchSource(
            compressed=encoding.compression == "gzip",
            constants=self.batch_metadata(),
            parquet=encoding.format == BatchFileFormat.PARQUET,
        )
        plan = self.plan()
        tally = self._tally(plan)
        for url in files:
            result = self._owner.landing.load_file(tally, plan, url, source)
            self.record_counter_metric.increment(result.received)

    def _load_objects(self, manifest: ObjectManifest) -> None:
        """Source objects named by the BATCH message: read, numbered and checked by DuckDB; bad
        lines to the quarantine stream the message names (its SCHEMA must have arrived)."""
        plan = self.plan()
        quarantine: Destination | None = None
        if manifest.quarantine_stream:
            q_plan = self._owner.stream_plan(manifest.quarantine_stream)
            if q_plan is not None:
                q_tally = self._owner.landing.tally(
                    manifest.quarantine_stream,
                    q_plan,
                    self._owner.replication_key(manifest.quarantine_stream),
                )
                quarantine = Destination(q_plan, q_tally)
        result = self._owner.landing.load_objects(
            Destination(plan, self._tally(plan)),
            manifest,
            LineRules.from_schema(plan.columns, self.schema),
            self.batch_metadata(),
            quarantine,
        )
        self.record_counter_metric.increment(result.received)
