"""The tap's bookmark: which objects were emitted, per partition, inside a trailing window.

Shape inside `bookmarks.events`:

    {"newest_partition": "dt=2026-11-04/hour=07",   # newest partition ever listed
     "closed_before": "dt=2026-10-31/hour=07",      # partitions before it are closed: never listed
     "done": {"dt=2026-11-03/hour=12": ["<object file name>", ...], ...},
     "replication_key": "received_at",
     "replication_key_value": "<max received_at emitted>"}

The window is measured from the newest partition seen, not from the wall clock. A partition
with objects not yet emitted (a bounded run, a failure) is never closed.
"""

from __future__ import annotations

import typing as t
from dataclasses import dataclass, field

from tap_brightcart_events.listing import S3Object, shift_partition
from tap_brightcart_events.schemas import REPLICATION_KEY


class StateError(ValueError):
    """The incoming state cannot be read; the message says how to repair it."""


@dataclass
class EventsBookmark:
    """Emitted object names per open partition, plus the window bounds."""

    newest_partition: str | None = None
    closed_before: str | None = None
    done: dict[str, set[str]] = field(default_factory=dict)
    replication_key_value: str | None = None

    @classmethod
    def from_state(cls, stream_state: t.Mapping[str, t.Any] | None) -> EventsBookmark:
        """Read the bookmark from the stream's state dict (empty or None = first run)."""
        if not stream_state:
            return cls()
        done_raw = stream_state.get("done", {})
        if not isinstance(done_raw, dict) or not all(
            isinstance(v, list) for v in done_raw.values()
        ):
            raise StateError(
                "state bookmarks.events.done must map partition -> list of object names; "
                "fix or clear the state (meltano state clear) to re-extract the window"
            )
        return cls(
            newest_partition=stream_state.get("newest_partition"),
            closed_before=stream_state.get("closed_before"),
            done={p: set(names) for p, names in done_raw.items()},
            replication_key_value=stream_state.get("replication_key_value"),
        )

    def is_done(self, obj: S3Object) -> bool:
        """Whether this object was already emitted in full."""
        return obj.name in self.done.get(obj.partition, ())

    def mark_done(self, obj: S3Object) -> None:
        """Record that every line of this object was emitted."""
        self.done.setdefault(obj.partition, set()).add(obj.name)

    def see_received_at(self, value: str | None) -> None:
        """Keep the highest received_at emitted (ISO-8601 UTC strings sort by time)."""
        if value is not None and (
            self.replication_key_value is None or value > self.replication_key_value
        ):
            self.replication_key_value = value

    def close_window(
        self, listed: t.Iterable[S3Object], pending: t.Iterable[S3Object], window_hours: int
    ) -> None:
        """Advance the window after a run and forget partitions that fell out of it."""
        partitions = [o.partition for o in listed]
        if self.newest_partition is not None:
            partitions.append(self.newest_partition)
        if not partitions:
            return
        self.newest_partition = max(partitions)
        candidates = [shift_partition(self.newest_partition, -window_hours)]
        candidates.extend(o.partition for o in pending)
        closed = min(candidates)
        if self.closed_before is not None:
            closed = max(closed, self.closed_before)
        self.closed_before = closed
        self.done = {p: names for p, names in self.done.items() if p >= closed}

    def to_state(self) -> dict[str, t.Any]:
        """The stream's state dict, names sorted so that equal states compare equal."""
        return {
            "newest_partition": self.newest_partition,
            "closed_before": self.closed_before,
            "done": {p: sorted(self.done[p]) for p in sorted(self.done)},
            "replication_key": REPLICATION_KEY,
            "replication_key_value": self.replication_key_value,
        }
