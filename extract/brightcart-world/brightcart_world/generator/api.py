"""The generator's module API: generate a window, advance the clock, request faults, reset."""

from __future__ import annotations

import hashlib
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg

from brightcart_world.generator import faults as fault_registry
from brightcart_world.generator.copying import copy_rows
from brightcart_world.generator.crm import CrmFaultPlan, write_crm_hour
from brightcart_world.generator.database import (
    Clock,
    connect,
    database_exists,
    read_clock,
    reset_schemas,
    write_clock,
)
from brightcart_world.generator.events_out import (
    EventFaultPlan,
    Line,
    apply_body_faults,
    assign_arrival,
    ensure_bucket,
    pack_hour,
    put_objects,
    s3_client,
    to_line,
)
from brightcart_world.generator.faults import FaultSpec
from brightcart_world.generator.manifest_writer import record_events_objects, record_spend_object
from brightcart_world.generator.setup import seed_world
from brightcart_world.generator.shop_writer import ShopFaultPlan, pre_hour_faults, write_shop_hour
from brightcart_world.generator.spend import daily_spend, render_csv, spend_key
from brightcart_world.generator.state import WorldState
from brightcart_world.generator.timefmt import HOUR, from_ms, to_ms
from brightcart_world.generator.traffic import simulate_hour
from brightcart_world.generator.volumes import Volumes
from brightcart_world.settings import Settings

S3_PREFIXES = ("events/", "marketing/spend/")
MAX_HOURS = 24 * 120


@dataclass
class RunSummary:
    """What one generate/advance call wrote."""

    start: datetime
    end: datetime
    rows: Counter[str] = field(default_factory=Counter)
    event_lines: int = 0
    late_events: int = 0
    duplicate_lines: int = 0
    objects: int = 0
    seconds: float = 0.0

    @property
    def total_rows(self) -> int:
        return sum(self.rows.values()) + self.event_lines

    def as_dict(self) -> dict[str, Any]:
        return {
            "start": self.start.isoformat(),
            "end": self.end.isoformat(),
            "rows": dict(sorted(self.rows.items())),
            "event_lines": self.event_lines,
            "late_events": self.late_events,
            "duplicate_lines": self.duplicate_lines,
            "objects": self.objects,
            "seconds": round(self.seconds, 3),
        }


def _utc_hour(value: datetime, name: str) -> datetime:
    if value.tzinfo is None:
        value = value.replace(tzinfo=UTC)
    value = value.astimezone(UTC)
    if value.minute or value.second or value.microsecond:
        raise ValueError(f"{name} must be on a whole UTC hour, got {value.isoformat()}")
    return value


def clear_bucket(settings: Settings) -> None:
    client = s3_client(settings)
    ensure_bucket(client, settings.s3_bucket, settings.s3_endpoint)
    for prefix in S3_PREFIXES:
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=settings.s3_bucket, Prefix=prefix
        ):
            keys = [{"Key": o["Key"]} for o in page.get("Contents", [])]
            if keys:
                client.delete_objects(Bucket=settings.s3_bucket, Delete={"Objects": keys})


def reset(settings: Settings) -> None:
    """Empty world: recreate the source schemas and clear the generator's S3 prefixes."""
    reset_schemas(settings)
    clear_bucket(settings)


def generate(
    settings: Settings,
    seed: int,
    start: datetime,
    end: datetime,
    scale: float,
    faults: Sequence[FaultSpec] = (),
    on_hour: Callable[[datetime], object] | None = None,
) -> RunSummary:
    """Rebuild all three sources from scratch for [start, end) (whole UTC hours); `on_hour` is
    called after each simulated hour is written (progress)."""
    start, end = _utc_hour(start, "start"), _utc_hour(end, "end")
    hours = int((end - start) / timedelta(hours=1))
    if hours < 1 or hours > MAX_HOURS:
        raise ValueError(f"the window must cover 1..{MAX_HOURS} hours, got {hours}")
    Volumes(scale)  # validates the scale before anything is dropped
    carried: list[FaultSpec] = []
    if database_exists(settings):
        with connect(settings) as conn:
            try:
                carried = fault_registry.pending(conn)
            except psycopg.errors.UndefinedTable:
                carried = []
    reset(settings)
    with connect(settings) as conn:
        write_clock(conn, Clock(seed=seed, scale=scale, window_start=start, now=start))
        seed_world(conn, seed, scale, start)
        fault_registry.request(conn, [*carried, *faults])
        conn.commit()
    return _run(settings, hours, on_hour)


def advance(
    settings: Settings,
    hours: int = 1,
    faults: Sequence[FaultSpec] = (),
    on_hour: Callable[[datetime], object] | None = None,
) -> RunSummary:
    """Continue from generator.clock for `hours` more simulated hours."""
    if not 1 <= hours <= MAX_HOURS:
        raise ValueError(f"hours must be in 1..{MAX_HOURS}, got {hours}")
    if faults:
        request_faults(settings, faults)
    return _run(settings, hours, on_hour)


def request_faults(settings: Settings, faults: Sequence[FaultSpec]) -> None:
    with connect(settings) as conn:
        read_clock(conn)
        fault_registry.request(conn, list(faults))
        conn.commit()


def _load_pending(conn: psycopg.Connection) -> list[Line]:
    rows = conn.execute(
        "SELECT line, meta FROM generator.pending_event ORDER BY received_at, event_id"
    ).fetchall()
    return [Line(bytes(data), int(meta["received_ms"]), meta) for data, meta in rows]


def _save_pending(conn: psycopg.Connection, lines: list[Line]) -> None:
    conn.execute("DELETE FROM generator.pending_event")
    copy_rows(
        conn,
        "generator.pending_event",
        ("event_id", "received_at", "line", "meta"),
        (
            (ln.meta["event_id"], from_ms(ln.received_ms), ln.data, orjson.dumps(ln.meta).decode())
            for ln in lines
            if ln.meta is not None
        ),
    )


def _run(
    settings: Settings, hours: int, on_hour: Callable[[datetime], object] | None = None
) -> RunSummary:
    began = time.perf_counter()
    client = s3_client(settings)
    ensure_bucket(client, settings.s3_bucket, settings.s3_endpoint)
    with connect(settings) as conn:
        clock = read_clock(conn)
        state = WorldState.load(conn, clock)
        _restore_spend(conn, client, settings, state)
        pending = _load_pending(conn)
        summary = RunSummary(start=clock.now, end=clock.now + timedelta(hours=hours))
        for i in range(hours):
            hour_ms = to_ms(clock.now) + i * HOUR
            specs = fault_registry.pending(conn)
            shop_plan = ShopFaultPlan(fault_registry.by_source(specs, "shop"))
            event_plan = EventFaultPlan(fault_registry.by_source(specs, "events"))
            crm_plan = CrmFaultPlan(fault_registry.by_source(specs, "crm"))

            pre_hour_faults(conn, state, hour_ms, shop_plan)
            act = simulate_hour(state, hour_ms)
            assign_arrival(state.seed, hour_ms, act.events)
            apply_body_faults(state.seed, hour_ms, act.events, event_plan)
            everything = pending + [to_line(ev) for ev in act.events]
            incoming = [ln for ln in everything if ln.received_ms < hour_ms + HOUR]
            pending = [ln for ln in everything if ln.received_ms >= hour_ms + HOUR]
            objects = pack_hour(state.seed, hour_ms, incoming, event_plan)
            digests = put_objects(client, settings.s3_bucket, objects)
            record_events_objects(conn, objects, digests)
            summary.objects += len(objects)
            for o in objects:
                for ln in o.lines:
                    summary.event_lines += 1
                    summary.duplicate_lines += ln.is_duplicate
                    summary.late_events += bool(
                        ln.meta and ln.meta["is_late"] and not ln.is_duplicate
                    )

            summary.rows += write_shop_hour(conn, state, hour_ms, act, shop_plan)
            summary.rows += write_crm_hour(conn, state, hour_ms, crm_plan)
            hour = from_ms(hour_ms)
            if hour.hour == 23:
                summary.objects += _write_spend(conn, client, settings, state, hour_ms)
            fault_registry.mark_applied(
                conn,
                hour,
                {"shop": shop_plan.details, "events": event_plan.details, "crm": crm_plan.details},
            )
            write_clock(
                conn, Clock(clock.seed, clock.scale, clock.window_start, hour + timedelta(hours=1))
            )
            state.seq.save(conn)
            _save_pending(conn, pending)
            conn.commit()
            if on_hour is not None:
                on_hour(hour)
    summary.seconds = time.perf_counter() - began
    return summary


def _restore_spend(
    conn: psycopg.Connection, client: Any, settings: Settings, state: WorldState
) -> int:
    """Put back the ad-spend files an S3 server restart lost (moto keeps objects in memory).

    Spend is a function of the seed, the scale, the campaigns and the day, so each recorded file
    is rendered again and put back only when its bytes hash to the recorded sha256."""
    recorded = conn.execute(
        "SELECT s3_key, hour, sha256 FROM generator.s3_object WHERE kind = 'spend' ORDER BY hour"
    ).fetchall()
    if not recorded:
        return 0
    listing = client.list_objects_v2(Bucket=settings.s3_bucket, Prefix="marketing/spend/")
    present = {o["Key"] for o in listing.get("Contents", [])}
    restored = 0
    for key, hour, digest in recorded:
        if key in present:
            continue
        day = hour.astimezone(UTC).date()
        body = render_csv([daily_spend(state.seed, state.scale, c, day) for c in state.campaigns])
        if key == spend_key(day) and hashlib.sha256(body).hexdigest() == digest:
            client.put_object(Bucket=settings.s3_bucket, Key=key, Body=body)
            restored += 1
    return restored


def _write_spend(
    conn: psycopg.Connection, client: Any, settings: Settings, state: WorldState, hour_ms: int
) -> int:
    day = from_ms(hour_ms).date()
    rows = [daily_spend(state.seed, state.scale, c, day) for c in state.campaigns]
    body = render_csv(rows)
    key = spend_key(day)
    client.put_object(Bucket=settings.s3_bucket, Key=key, Body=body)
    record_spend_object(conn, key, hour_ms, len(rows), hashlib.sha256(body).hexdigest())
    return 1
