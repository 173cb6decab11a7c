"""The tap-brightcart-events Singer tap: config, discovery, and the sync entry point."""

from __future__ import annotations

import os
import sys
import typing as t
from datetime import UTC, datetime

import boto3
from botocore.config import Config
from singer_sdk import Tap
from singer_sdk import typing as th
from singer_sdk.helpers.capabilities import PluginCapabilities, TapCapabilities

from tap_brightcart_events.emit import SingerWriter
from tap_brightcart_events.listing import partition_name, partition_start, shift_partition
from tap_brightcart_events.manifests import DEFAULT_MANIFEST_BYTES
from tap_brightcart_events.schemas import (
    EVENTS,
    EVENTS_SCHEMA,
    KEY_PROPERTIES,
    QUARANTINE,
    QUARANTINE_SCHEMA,
    REPLICATION_KEY,
)
from tap_brightcart_events.state import EventsBookmark
from tap_brightcart_events.streams import EventsStream, QuarantineStream
from tap_brightcart_events.sync import RunSettings, run

DEFAULT_MAX_ATTEMPTS = 8


def boto_config() -> Config:
    """Standard-mode retries: 8 tries, or the SDK's own AWS_MAX_ATTEMPTS when it is set."""
    attempts = int(os.environ.get("AWS_MAX_ATTEMPTS") or DEFAULT_MAX_ATTEMPTS)
    return Config(retries={"mode": "standard", "max_attempts": attempts}, max_pool_connections=16)


def s3_client() -> t.Any:
    """An S3 client from the standard AWS chain; AWS_ENDPOINT_URL points it at moto locally."""
    return boto3.session.Session().client("s3", config=boto_config())


def _folder(prefix: str) -> str:
    """The prefix as a folder (`events` and `events/` both mean `events/`)."""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _moment(value: str, name: str) -> datetime:
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise ValueError(
            f"{name} {value!r} is not ISO-8601; use e.g. 2026-11-01 or 2026-11-01T00:00:00Z"
        ) from None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def _start_partition(start: str | None) -> str | None:
    return partition_name(_moment(start, "start_date")) if start else None


def _end_partition(end: str | None) -> str | None:
    """The first partition not read: the one starting at or after `end` (exclusive)."""
    if not end:
        return None
    moment = _moment(end, "end_date")
    first_after = partition_name(moment)
    return (
        first_after if partition_start(first_after) == moment else shift_partition(first_after, 1)
    )


class TapBrightcartEvents(Tap):
    """Firehose-style gzip JSON-lines events from S3, each object loaded exactly once."""

    name = "tap-brightcart-events"

    # Stream maps, flattening and ACTIVATE_VERSION are not offered: sync_all writes the messages.
    capabilities: t.ClassVar[list[t.Any]] = [
        TapCapabilities.CATALOG,
        TapCapabilities.STATE,
        TapCapabilities.DISCOVER,
        PluginCapabilities.ABOUT,
        PluginCapabilities.BATCH,
        PluginCapabilities.STRUCTURED_LOGGING,
    ]

    config_jsonschema = th.PropertiesList(
        th.Property("bucket", th.StringType, required=True, description="Landing bucket."),
        th.Property(
            "prefix", th.StringType, default="events/", description="Key prefix of the events."
        ),
        th.Property(
            "start_date",
            th.StringType,
            description="ISO-8601 date or date-time (UTC when no offset); partitions (dt/hour) "
            "before it are ignored.",
        ),
        th.Property(
            "end_date",
            th.StringType,
            description="ISO-8601 date or date-time (UTC when no offset), exclusive; partitions "
            "(dt/hour) starting at or after it are ignored. For bounded re-extracts (backfills).",
        ),
        th.Property(
            "window_hours",
            th.IntegerType,
            default=96,
            description="Partitions this many hours older than the newest one seen are closed "
            "and never listed again; late objects must land within this window.",
        ),
        th.Property(
            "max_objects_per_run",
            th.IntegerType,
            description="Read at most this many new objects per run; the rest next run.",
        ),
        th.Property(
            "download_concurrency",
            th.IntegerType,
            default=4,
            description="Objects fetched ahead in parallel while one is parsed.",
        ),
        th.Property(
            "object_manifests",
            th.BooleanType,
            default=False,
            description="Emit BATCH messages whose manifest names the S3 objects themselves: "
            "the tap reads no line; the loader reads, numbers and checks them (and "
            "quarantines bad lines). Replaces batch_config.",
        ),
        th.Property(
            "manifest_bytes",
            th.IntegerType,
            default=DEFAULT_MANIFEST_BYTES,
            description="With object_manifests: at most this many stored bytes of objects per "
            "BATCH message (an object larger than that gets a message of its own).",
        ),
        th.Property(
            "state_every_objects",
            th.IntegerType,
            default=20,
            description="Without batch_config, emit a STATE after this many objects.",
        ),
    ).to_dict()

    def discover_streams(self) -> list[EventsStream | QuarantineStream]:
        return [EventsStream(self), QuarantineStream(self)]

    def _settings(self) -> RunSettings:
        cfg = self.config
        for unsupported in ("stream_maps", "flattening_enabled"):
            if cfg.get(unsupported):
                raise ValueError(
                    f"{unsupported} is not supported by {self.name}; remove it from the config "
                    "(reshape events in SQLMesh staging instead)"
                )
        start = cfg.get("start_date")
        end_partition = _end_partition(cfg.get("end_date"))
        if end_partition and start and end_partition <= (_start_partition(start) or ""):
            raise ValueError(
                f"end_date {cfg['end_date']!r} must be after start_date {start!r} (it is exclusive)"
            )
        window = int(cfg.get("window_hours", 96))
        if window < 1:
            raise ValueError("window_hours must be at least 1 (default 96)")
        limit = cfg.get("max_objects_per_run")
        if limit is not None and int(limit) < 1:
            raise ValueError("max_objects_per_run must be at least 1, or unset for no limit")
        streams = self.streams
        object_manifests = bool(cfg.get("object_manifests"))
        if object_manifests and cfg.get("batch_config"):
            raise ValueError(
                "object_manifests and batch_config exclude each other: with object_manifests "
                "the loader reads the objects themselves; remove batch_config"
            )
        if object_manifests and not streams[EVENTS].selected:
            raise ValueError(
                "object_manifests needs the events stream selected (the loader reads each "
                "object's lines into events and its bad lines into the quarantine); select it "
                "or turn object_manifests off"
            )
        raw_bytes = cfg.get("manifest_bytes")
        manifest_bytes = DEFAULT_MANIFEST_BYTES if raw_bytes is None else int(raw_bytes)
        if manifest_bytes < 1:
            raise ValueError("manifest_bytes must be at least 1 (default 64 MiB)")
        return RunSettings(
            bucket=cfg["bucket"],
            prefix=_folder(str(cfg.get("prefix", "events/"))),
            start_partition=_start_partition(start),
            window_hours=window,
            max_objects_per_run=None if limit is None else int(limit),
            download_concurrency=max(1, int(cfg.get("download_concurrency", 4))),
            state_every_objects=max(1, int(cfg.get("state_every_objects", 20))),
            batch_config=cfg.get("batch_config"),
            emit_events=streams[EVENTS].selected,
            emit_quarantine=streams[QUARANTINE].selected,
            end_partition=end_partition,
            object_manifests=object_manifests,
            manifest_bytes=manifest_bytes,
        )

    def sync_all(self) -> None:  # type: ignore[misc]
        """Run one extraction with the tap's own fast path instead of per-record SDK syncing.

        The SDK marks sync_all final; it is overridden on purpose: the SDK's per-stream sync
        bookmarks on a replication key, while this tap bookmarks the set of objects emitted in
        full (after their records or batch files), interleaves two streams per object and writes
        records with orjson without per-record validation.
        """
        settings = self._settings()
        stream_state = (self.state or {}).get("bookmarks", {}).get(EVENTS)
        bookmark = EventsBookmark.from_state(stream_state)
        out = sys.stdout.buffer
        writer = SingerWriter(out, datetime.now(UTC).isoformat())
        if settings.emit_events:
            writer.schema(EVENTS, EVENTS_SCHEMA, KEY_PROPERTIES, [REPLICATION_KEY])
        if settings.emit_quarantine:
            writer.schema(QUARANTINE, QUARANTINE_SCHEMA, KEY_PROPERTIES)

        def write_state(current: EventsBookmark) -> None:
            value = {"bookmarks": {EVENTS: current.to_state()}}
            # Kept in step so the SDK's SIGTERM handler writes this state, not the input one.
            self.state.setdefault("bookmarks", {})[EVENTS] = value["bookmarks"][EVENTS]
            writer.state(value)

        if stream_state:
            write_state(bookmark)
        counts = run(
            client=s3_client(),
            settings=settings,
            bookmark=bookmark,
            writer=writer,
            tap_name=self.name,
            write_state=write_state,
        )
        out.flush()
        if settings.object_manifests:
            self.logger.info(
                "events run done: %d object(s) listed, %d named in %d manifest(s) for the "
                "loader to read",
                counts.objects_listed,
                counts.objects_read,
                counts.manifests,
            )
            return
        self.logger.info(
            "events run done: %d object(s) listed, %d read, %d event(s), %d quarantined %s",
            counts.objects_listed,
            counts.objects_read,
            counts.events,
            counts.quarantined,
            counts.errors,
        )
