"""Record what was written to S3 in generator.s3_object / generator.s3_event."""

from __future__ import annotations

import psycopg

from brightcart_world.generator.copying import copy_rows
from brightcart_world.generator.events_out import EventsObject
from brightcart_world.generator.timefmt import from_ms


def record_events_objects(
    conn: psycopg.Connection, objects: list[EventsObject], digests: dict[str, str]
) -> None:
    copy_rows(
        conn,
        "generator.s3_object",
        ("s3_key", "kind", "hour", "line_count", "malformed_lines", "invalid_utf8_lines", "sha256"),
        (
            (
                o.key,
                "events",
                from_ms(o.hour_ms),
                len(o.lines),
                o.malformed,
                o.invalid_utf8,
                digests[o.key],
            )
            for o in objects
        ),
    )
    rows = []
    for o in objects:
        for number, ln in enumerate(o.lines, start=1):
            if ln.meta is None:
                continue
            m = ln.meta
            rows.append(
                (
                    o.key,
                    number,
                    m["event_id"],
                    m["event_type"],
                    from_ms(m["occurred_ms"]),
                    from_ms(m["received_ms"]),
                    m["customer_id"],
                    m["order_id"],
                    m["utm_campaign"],
                    m["is_late"],
                    ln.is_duplicate,
                )
            )
    copy_rows(
        conn,
        "generator.s3_event",
        (
            "s3_key",
            "line_number",
            "event_id",
            "event_type",
            "occurred_at",
            "received_at",
            "customer_id",
            "order_id",
            "utm_campaign",
            "is_late",
            "is_duplicate",
        ),
        rows,
    )


def record_spend_object(
    conn: psycopg.Connection, key: str, hour_ms: int, rows: int, digest: str
) -> None:
    conn.execute(
        "INSERT INTO generator.s3_object (s3_key, kind, hour, line_count, sha256) "
        "VALUES (%s, 'spend', %s, %s, %s)",
        (key, from_ms(hour_ms), rows, digest),
    )
