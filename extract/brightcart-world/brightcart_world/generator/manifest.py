"""Read back what the generator produced, so tests can compute expected results on their own."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from brightcart_world.generator.database import Clock, connect, read_clock
from brightcart_world.settings import Settings


@dataclass(frozen=True)
class ObjectEntry:
    s3_key: str
    kind: str
    hour: datetime
    line_count: int
    malformed_lines: int
    invalid_utf8_lines: int
    sha256: str


@dataclass(frozen=True)
class EventEntry:
    s3_key: str
    line_number: int
    event_id: str
    event_type: str
    occurred_at: datetime
    received_at: datetime
    customer_id: int | None
    order_id: int | None
    utm_campaign: str | None
    is_late: bool
    is_duplicate: bool


@dataclass(frozen=True)
class FaultEntry:
    fault_id: int
    source: str
    kind: str
    requested: int
    status: str
    applied_hour: datetime | None
    applied_count: int | None
    details: dict[str, Any]


@dataclass(frozen=True)
class Manifest:
    """Clock, S3 objects (with every event line), injected faults and pending late events."""

    clock: Clock
    objects: list[ObjectEntry]
    events: list[EventEntry]
    faults: list[FaultEntry]
    pending_events: int

    @classmethod
    def load(cls, settings: Settings) -> Manifest:
        with connect(settings) as conn:
            clock = read_clock(conn)
            objects = [
                ObjectEntry(*r)
                for r in conn.execute(
                    "SELECT s3_key, kind, hour, line_count, malformed_lines, invalid_utf8_lines, "
                    "sha256 FROM generator.s3_object ORDER BY s3_key"
                )
            ]
            events = [
                EventEntry(r[0], r[1], str(r[2]), *r[3:])
                for r in conn.execute(
                    "SELECT s3_key, line_number, event_id, event_type, occurred_at, received_at, "
                    "customer_id, order_id, utm_campaign, is_late, is_duplicate "
                    "FROM generator.s3_event ORDER BY s3_key, line_number"
                )
            ]
            faults = [
                FaultEntry(*r)
                for r in conn.execute(
                    "SELECT fault_id, source, kind, requested, status, applied_hour, "
                    "applied_count, "
                    "details FROM generator.fault ORDER BY fault_id"
                )
            ]
            row = conn.execute("SELECT count(*) FROM generator.pending_event").fetchone()
        return cls(clock, objects, events, faults, int(row[0]) if row else 0)

    def events_objects(self, hour: datetime | None = None) -> list[ObjectEntry]:
        return [o for o in self.objects if o.kind == "events" and (hour is None or o.hour == hour)]

    def event_lines(self, hour: datetime | None = None) -> list[EventEntry]:
        keys = {o.s3_key for o in self.events_objects(hour)}
        return [e for e in self.events if e.s3_key in keys]

    def unique_event_ids(self) -> set[str]:
        return {e.event_id for e in self.events}

    def late(self, hour: datetime | None = None) -> list[EventEntry]:
        return [e for e in self.event_lines(hour) if e.is_late and not e.is_duplicate]

    def duplicates(self, hour: datetime | None = None) -> list[EventEntry]:
        return [e for e in self.event_lines(hour) if e.is_duplicate]

    def bad_lines(self, hour: datetime | None = None) -> dict[str, int]:
        objs = self.events_objects(hour)
        return {
            "malformed_json": sum(o.malformed_lines for o in objs),
            "invalid_utf8": sum(o.invalid_utf8_lines for o in objs),
        }

    def applied_faults(self, source: str | None = None) -> list[FaultEntry]:
        return [
            f
            for f in self.faults
            if f.status == "applied" and (source is None or f.source == source)
        ]
