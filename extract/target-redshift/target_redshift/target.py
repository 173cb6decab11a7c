"""target-redshift: Singer target writing append-only version logs to Redshift or DuckDB."""

from __future__ import annotations

import copy
import typing as t

from singer_sdk import typing as th
from singer_sdk.target_base import Target

from target_redshift.landing import Landing
from target_redshift.reader import ExactNumberReader
from target_redshift.sink import RedshiftSink

if t.TYPE_CHECKING:
    from collections.abc import Mapping, Sequence

    from target_redshift.loader import TablePlan


class TargetRedshift(Target):
    """Singer target for BrightCart's raw landing tables."""

    name = "target-redshift"
    default_sink_class = RedshiftSink
    message_reader_class = ExactNumberReader

    config_jsonschema = th.PropertiesList(
        th.Property(
            "backend",
            th.StringType,
            default="duckdb",
            allowed_values=["duckdb", "redshift"],
            description="duckdb (local file) or redshift (S3 staging + COPY)",
        ),
        th.Property("lane", th.StringType, default="", description="Written to the load log"),
        th.Property("default_target_schema", th.StringType, default="raw"),
        th.Property("path", th.StringType, description="DuckDB warehouse file"),
        th.Property("lock_timeout_seconds", th.NumberType, default=60),
        th.Property("staging_dir", th.StringType, description="Local folder for batch files"),
        th.Property("host", th.StringType),
        th.Property("port", th.IntegerType, default=5439),
        th.Property("user", th.StringType),
        th.Property("password", th.StringType, secret=True),
        th.Property("dbname", th.StringType),
        th.Property("s3_bucket", th.StringType),
        th.Property("s3_prefix", th.StringType, default="loader-staging/"),
        th.Property("iam_role_arn", th.StringType),
        th.Property("region", th.StringType),
        th.Property(
            "version_key_properties",
            th.ObjectType(additional_properties=th.ArrayType(th.StringType)),
            description="Per stream: the columns that identify a version (overrides key+bookmark)",
        ),
        th.Property(
            "delete_batch_files",
            th.BooleanType,
            default=True,
            description="Remove a BATCH file (local or S3) once its rows are committed",
        ),
        th.Property(
            "replication_keys",
            th.ObjectType(additional_properties=th.StringType),
            description="Per stream: replication key when the tap's SCHEMA has no bookmark",
        ),
    ).to_dict()

    def __init__(self, **kwargs: t.Any) -> None:
        super().__init__(**kwargs)
        self.max_parallelism = 1
        self._bookmarks: dict[str, str] = {}
        self._batch_time_extracted: str | None = None
        self._batch_objects: Mapping[str, t.Any] | None = None
        self._batch_loaded = False
        self._landing = Landing(self.config, self.logger)
        if isinstance(self.message_reader, ExactNumberReader):
            self.message_reader.on_failure = self._log_failure

    @property
    def landing(self) -> Landing:
        """This run's landing: warehouse, batches, counts, load log (landing.py)."""
        return self._landing

    @property
    def batch_time_extracted(self) -> str | None:
        """`time_extracted` of the BATCH message being processed, if the tap sent one."""
        return self._batch_time_extracted

    @property
    def batch_objects(self) -> Mapping[str, t.Any] | None:
        """The `objects` field of the BATCH message being processed: its manifest names source
        objects whose lines the loader reads itself (objects.py); None for BATCH files."""
        return self._batch_objects

    def stream_plan(self, stream: str) -> TablePlan | None:
        """The table plan of a stream whose SCHEMA arrived in this run, else None."""
        sink = self._sinks_active.get(stream)
        return sink.plan() if isinstance(sink, RedshiftSink) else None

    def version_key_override(self, stream: str) -> Sequence[str] | None:
        overrides = self.config.get("version_key_properties") or {}
        return overrides.get(stream)

    def replication_key(self, stream: str) -> str | None:
        configured = (self.config.get("replication_keys") or {}).get(stream)
        key = configured or self._bookmarks.get(stream)
        return key.lower() if key else None

    def _process_schema_message(self, message_dict: dict) -> None:
        bookmarks = message_dict.get("bookmark_properties") or []
        if isinstance(bookmarks, str):
            bookmarks = [bookmarks]
        stream = message_dict.get("stream", "")
        if bookmarks:
            self._bookmarks[stream] = str(bookmarks[0])
        super()._process_schema_message(message_dict)
        if bookmarks:
            for stream_map in self.mapper.stream_maps.get(stream, []):
                self._bookmarks[stream_map.stream_alias] = str(bookmarks[0])

    def _process_record_message(self, message_dict: dict) -> None:
        """The SDK's record path minus the per-record steps this target does per batch.

        Kept: stream maps, Singer metadata, counters, draining a full sink. Left to the batch
        (normalize.py): JSON-schema validation, timestamp parsing, key-property checks.
        """
        if "record" not in message_dict or "stream" not in message_dict:
            super()._process_record_message(message_dict)  # raises the SDK's clear error
            return
        stream_name = message_dict["stream"]
        if stream_name not in self.mapper.stream_maps:
            self._assert_sink_exists(stream_name)
        for stream_map in self.mapper.stream_maps[stream_name]:
            record = stream_map.transform(copy.copy(message_dict["record"]))
            if record is None:
                continue
            alias = stream_map.stream_alias
            self._assert_sink_exists(alias)
            sink = self._sinks_active[alias]
            context = sink._get_context(record)
            if sink.include_sdc_metadata_properties:
                sink._add_sdc_metadata_to_record(record, message_dict, context)
            else:
                sink._remove_sdc_metadata_from_record(record)
            sink.tally_record_read()
            sink.process_record(record, context)
            sink.record_counter_metric.increment()
            if sink.is_full:
                self.drain_one(sink)
        self._handle_max_record_age()

    def _process_batch_message(self, message_dict: dict) -> None:
        """BATCH files are loaded by the sink in bulk (RedshiftSink.process_batch_files).

        The tap's extraction time, when its BATCH message carries one (`time_extracted`, as
        RECORD messages do), becomes the `_sdc_extracted_at` of the file's rows. A message with
        an `objects` field names source objects instead of files (objects.py).
        """
        extracted = message_dict.get("time_extracted")
        self._batch_time_extracted = str(extracted) if extracted else None
        objects = message_dict.get("objects")
        self._batch_objects = objects if isinstance(objects, dict) else None
        try:
            super()._process_batch_message(message_dict)
        finally:
            self._batch_objects = None
        self._batch_loaded = True

    def _process_state_message(self, message_dict: dict) -> None:
        """A STATE that follows loaded BATCH files is handed on at once.

        BATCH files load as they arrive; the records still waiting in sinks (e.g. quarantine
        rows sent as RECORD messages) are committed first by drain_all, which then writes the
        STATE. So the bookmark never runs ahead of the data, and a long BATCH run killed half
        way resumes from its last file instead of from the start. Without BATCH messages,
        STATE waits for the SDK's own drains, as before.
        """
        before = self._latest_state
        super()._process_state_message(message_dict)
        if self._batch_loaded and self._latest_state is not before:
            self._batch_loaded = False
            self.drain_all()

    def process_endofpipe(self) -> None:
        try:
            with self._landing.held():
                super().process_endofpipe()
                self._landing.log_run("succeeded")
        except Exception:
            self._log_failure()
            raise
        self._landing.close()

    def _log_failure(self) -> None:
        try:
            self._landing.log_run("failed")
        except Exception:
            self.logger.exception("Could not write the failed run to raw_meta.load_log")
        self._landing.close()


if __name__ == "__main__":
    TargetRedshift.cli()
