"""Fault switches: requested per source, applied at the next simulated hour, then recorded."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

import orjson
import psycopg

FAULT_KINDS: dict[str, tuple[str, ...]] = {
    "events": (
        "malformed_json",
        "invalid_utf8",
        "new_field",
        "null_spike",
        "orphan_fk",
        "same_second",
        "very_late",
    ),
    "shop": ("null_spike", "orphan_fk", "drift", "hard_delete"),
    "crm": ("drift", "hard_delete"),
}


class FaultError(ValueError):
    """A fault that the generator does not know."""


@dataclass(frozen=True)
class FaultSpec:
    source: str
    kind: str
    count: int = 1

    def __post_init__(self) -> None:
        kinds = FAULT_KINDS.get(self.source)
        if kinds is None:
            raise FaultError(
                f"unknown fault source {self.source!r}; use one of {', '.join(FAULT_KINDS)}"
            )
        if self.kind not in kinds:
            raise FaultError(
                f"unknown {self.source} fault {self.kind!r}; use one of {', '.join(kinds)}"
            )
        if self.count < 1:
            raise FaultError(f"fault count must be at least 1, got {self.count}")

    @classmethod
    def parse(cls, text: str) -> FaultSpec:
        """`source:kind` or `source:kind:count`, e.g. `events:malformed_json:3`."""
        parts = text.split(":")
        if len(parts) not in (2, 3):
            raise FaultError(
                f"fault {text!r} must look like source:kind[:count], e.g. events:malformed_json:3"
            )
        count = int(parts[2]) if len(parts) == 3 else 1
        return cls(parts[0], parts[1], count)


def request(conn: psycopg.Connection, specs: list[FaultSpec]) -> None:
    """Record faults as pending; the next generated hour applies them."""
    for spec in specs:
        conn.execute(
            "INSERT INTO generator.fault (fault_id, source, kind, requested, status) "
            "SELECT coalesce(max(fault_id), 0) + 1, %s, %s, %s, 'pending' FROM generator.fault",
            (spec.source, spec.kind, spec.count),
        )


def pending(conn: psycopg.Connection) -> list[FaultSpec]:
    rows = conn.execute(
        "SELECT source, kind, requested FROM generator.fault WHERE status = 'pending' "
        "ORDER BY fault_id"
    ).fetchall()
    return [FaultSpec(*r) for r in rows]


def by_source(specs: list[FaultSpec], source: str) -> dict[str, int]:
    out: dict[str, int] = {}
    for s in specs:
        if s.source == source:
            out[s.kind] = out.get(s.kind, 0) + s.count
    return out


def applied_count(kind: str, requested: int, details: dict[str, Any]) -> int:
    """How many bad lines/rows/objects the fault actually produced."""
    for name in ("event_ids", "order_ids", "order_item_ids", "customer_ids", "ids", "s3_keys"):
        if name in details:
            return len(details[name])
    return int(details.get("count", requested))


def mark_applied(
    conn: psycopg.Connection, hour: datetime, details: dict[str, dict[str, dict[str, Any]]]
) -> None:
    """Close every pending fault of the hour with what it did."""
    rows = conn.execute(
        "SELECT fault_id, source, kind, requested FROM generator.fault WHERE status = 'pending' "
        "ORDER BY fault_id"
    ).fetchall()
    for fault_id, source, kind, requested in rows:
        info = details.get(source, {}).get(kind, {})
        conn.execute(
            "UPDATE generator.fault SET status = 'applied', applied_hour = %s, "
            "applied_count = %s, details = %s WHERE fault_id = %s",
            (hour, applied_count(kind, requested, info), orjson.dumps(info).decode(), fault_id),
        )
