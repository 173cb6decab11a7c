"""One extraction run: list, fetch a few objects ahead, parse, emit, bookmark.

Order of messages per object: its events (RECORD, or lines in a batch file), its quarantine
RECORDs, then, once the records are out (the batch file announced), a STATE that lists the
object as done. A run killed at any point therefore re-emits at most the objects it was in the
middle of; the loader's (s3_key, line_number) version key makes that harmless.
"""

from __future__ import annotations

import logging
import typing as t
from collections import deque
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field

from tap_brightcart_events import manifests
from tap_brightcart_events.emit import BatchSink, RecordSink, SingerWriter
from tap_brightcart_events.listing import S3Object, list_objects, partition_name
from tap_brightcart_events.reader import ObjectTruncated, download, iter_lines
from tap_brightcart_events.records import (
    MalformedLine,
    ObjectRef,
    event_record_bytes,
    quarantine_record,
)
from tap_brightcart_events.schemas import EVENTS, QUARANTINE
from tap_brightcart_events.state import EventsBookmark

LOGGER = logging.getLogger("tap_brightcart_events")


@dataclass(frozen=True)
class RunSettings:
    """The settings one run needs, read from the tap config."""

    bucket: str
    prefix: str
    start_partition: str | None
    window_hours: int
    max_objects_per_run: int | None
    download_concurrency: int
    state_every_objects: int
    batch_config: t.Mapping[str, t.Any] | None
    emit_events: bool = True
    emit_quarantine: bool = True
    end_partition: str | None = None  # exclusive: partitions from it on are not read
    object_manifests: bool = False  # BATCH messages naming the objects; the loader reads them
    manifest_bytes: int = manifests.DEFAULT_MANIFEST_BYTES


@dataclass
class RunCounts:
    """What one run did, logged at the end."""

    objects_listed: int = 0
    objects_read: int = 0
    manifests: int = 0
    events: int = 0
    quarantined: int = 0
    errors: dict[str, int] = field(default_factory=dict)


class S3ReadError(RuntimeError):
    """An object could not be fetched even after retries."""


def _fetch(client: t.Any, bucket: str, obj: S3Object) -> t.IO[bytes]:
    try:
        return download(client, bucket, obj)
    except Exception as exc:
        raise S3ReadError(
            f"could not read s3://{bucket}/{obj.key} after retries ({exc}); "
            "rerun the tap: objects already emitted are in its state and are not read again"
        ) from exc


def _prefetched(
    client: t.Any, bucket: str, objects: list[S3Object], workers: int
) -> t.Iterator[tuple[S3Object, t.IO[bytes]]]:
    """Objects with their bodies, in order, at most `workers + 1` fetched ahead."""
    with ThreadPoolExecutor(max_workers=max(1, workers), thread_name_prefix="fetch") as pool:
        ahead: deque[tuple[S3Object, Future[t.IO[bytes]]]] = deque()
        todo = iter(objects)
        try:
            for obj in todo:
                ahead.append((obj, pool.submit(_fetch, client, bucket, obj)))
                if len(ahead) > workers:
                    break
            while ahead:
                obj, future = ahead.popleft()
                nxt = next(todo, None)
                if nxt is not None:
                    ahead.append((nxt, pool.submit(_fetch, client, bucket, nxt)))
                body = future.result()
                try:
                    yield obj, body
                finally:
                    body.close()
        finally:
            for _, future in ahead:
                future.cancel()


def run(
    *,
    client: t.Any,
    settings: RunSettings,
    bookmark: EventsBookmark,
    writer: SingerWriter,
    tap_name: str,
    write_state: t.Callable[[EventsBookmark], None],
) -> RunCounts:
    """Extract every object not yet emitted; emit records and states; return the counts."""
    counts = RunCounts()
    from_partition = max(
        (p for p in (bookmark.closed_before, settings.start_partition) if p is not None),
        default=None,
    )
    listed, strays = list_objects(client, settings.bucket, settings.prefix, from_partition)
    if settings.end_partition is not None:
        listed = [o for o in listed if o.partition < settings.end_partition]
    if strays:
        LOGGER.warning(
            "%d key(s) under s3://%s/%s do not follow dt=YYYY-MM-DD/hour=HH/<name> and were "
            "not read; move them into a partition to load them. First: %s",
            len(strays),
            settings.bucket,
            settings.prefix,
            strays[:5],
        )
    counts.objects_listed = len(listed)
    pending = [o for o in listed if not bookmark.is_done(o)]
    todo = pending
    if settings.max_objects_per_run is not None:
        todo = pending[: settings.max_objects_per_run]
    LOGGER.info(
        "listed %d object(s) from partition %s; %d new, reading %d this run",
        len(listed),
        from_partition or "(start)",
        len(pending),
        len(todo),
    )
    if settings.object_manifests:
        _emit_manifests(client, writer, settings, counts, bookmark, todo, write_state)
        bookmark.close_window(listed, pending[len(todo) :], settings.window_hours)
        write_state(bookmark)
        return counts
    sink: RecordSink | BatchSink
    if settings.batch_config:
        sink = BatchSink(writer, EVENTS, tap_name, settings.batch_config, lambda: client)
    else:
        sink = RecordSink(writer, EVENTS)
    since_state = 0

    def completed(objs: list[S3Object], *, force: bool = False) -> None:
        nonlocal since_state
        for obj in objs:
            bookmark.mark_done(obj)
        since_state += len(objs)
        if objs and (force or settings.batch_config or since_state >= settings.state_every_objects):
            write_state(bookmark)
            since_state = 0

    for obj, body in _prefetched(client, settings.bucket, todo, settings.download_concurrency):
        ref = ObjectRef(obj.key, obj.last_modified)
        line_number = 0
        try:
            for line_number, line in enumerate(iter_lines(body), start=1):
                try:
                    if not line.strip():
                        raise MalformedLine("empty line")
                    record, received_at = event_record_bytes(line, ref, line_number)
                except MalformedLine as exc:
                    _quarantine(writer, settings, counts, ref, line_number, str(exc), line)
                    continue
                counts.events += 1
                bookmark.see_received_at(received_at)
                if settings.emit_events:
                    completed(sink.write(record))
        except ObjectTruncated as exc:
            _quarantine(
                writer, settings, counts, ref, line_number + 1, f"object unreadable: {exc}", None
            )
        counts.objects_read += 1
        completed(sink.object_finished(obj))
    completed(sink.close(), force=True)
    bookmark.close_window(listed, pending[len(todo) :], settings.window_hours)
    write_state(bookmark)
    return counts


def _emit_manifests(
    client: t.Any,
    writer: SingerWriter,
    settings: RunSettings,
    counts: RunCounts,
    bookmark: EventsBookmark,
    todo: list[S3Object],
    write_state: t.Callable[[EventsBookmark], None],
) -> None:
    """One BATCH message per group of objects, each followed by a STATE listing them as done.

    No line is read here: the loader reads, numbers and checks the lines of every object it is
    named, and hands each STATE on only once the objects before it are committed. (The tap
    refuses this mode with the events stream deselected: see TapBrightcartEvents._settings.)
    """
    workers = max(1, settings.download_concurrency)
    with ThreadPoolExecutor(max_workers=workers, thread_name_prefix="trailer") as pool:
        for group in manifests.groups(todo, settings.manifest_bytes):
            urls = [manifests.url(settings.bucket, obj) for obj in group]
            sizes = list(pool.map(lambda o: _gzip_size(client, settings.bucket, o), group))
            writer.batch(
                EVENTS,
                manifests.encoding(group),
                urls,
                manifests.extension(group, sizes, quarantine=settings.emit_quarantine),
            )
            counts.manifests += 1
            counts.objects_read += len(group)
            for obj in group:
                bookmark.mark_done(obj)
            write_state(bookmark)


def _gzip_size(client: t.Any, bucket: str, obj: S3Object) -> int | None:
    try:
        return manifests.gzip_size(client, bucket, obj)
    except Exception as exc:
        raise S3ReadError(
            f"could not read the gzip trailer of s3://{bucket}/{obj.key} after retries ({exc}); "
            "rerun the tap: objects already named are in its state and are not named again"
        ) from exc


def _quarantine(
    writer: SingerWriter,
    settings: RunSettings,
    counts: RunCounts,
    ref: ObjectRef,
    line_number: int,
    error: str,
    raw: bytes | None,
) -> None:
    counts.quarantined += 1
    kind = error.split(":", 1)[0]
    counts.errors[kind] = counts.errors.get(kind, 0) + 1
    if settings.emit_quarantine:
        writer.record(QUARANTINE, quarantine_record(ref, line_number, error, raw))


__all__ = ["RunCounts", "RunSettings", "S3ReadError", "partition_name", "run"]
