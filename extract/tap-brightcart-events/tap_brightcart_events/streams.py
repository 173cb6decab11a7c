"""Stream declarations: names, schemas, keys. Records are produced by `sync.run`, not here."""

from __future__ import annotations

import typing as t

from singer_sdk import Stream

from tap_brightcart_events.schemas import (
    EVENTS,
    EVENTS_SCHEMA,
    KEY_PROPERTIES,
    QUARANTINE,
    QUARANTINE_SCHEMA,
    REPLICATION_KEY,
)


class _DeclaredStream(Stream):
    """A stream whose records the tap's own sync loop writes (see tap.sync_all)."""

    def get_records(self, context: t.Any) -> t.Iterable[dict[str, t.Any]]:
        raise NotImplementedError(
            f"{self.name} records are written by TapBrightcartEvents.sync_all; "
            "run the tap executable instead of syncing this stream directly"
        )


class EventsStream(_DeclaredStream):
    """One row per line of an events object."""

    name = EVENTS
    schema = EVENTS_SCHEMA
    primary_keys = KEY_PROPERTIES
    replication_key = REPLICATION_KEY


class QuarantineStream(_DeclaredStream):
    """One row per line that could not become an event, with the reason."""

    name = QUARANTINE
    schema = QUARANTINE_SCHEMA
    primary_keys = KEY_PROPERTIES
