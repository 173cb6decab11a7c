"""Events to S3: arrival times (late), duplicates, Firehose-style objects, event faults."""

from __future__ import annotations

import gzip
import hashlib
import io
import time
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

import boto3
import orjson
from botocore.config import Config
from botocore.exceptions import ClientError
from tenacity import retry, retry_if_result, stop_after_attempt

from brightcart_world.generator.rng import stream, uuid4
from brightcart_world.generator.timefmt import HOUR, MINUTE, from_ms, iso_ms
from brightcart_world.generator.traffic import Event
from brightcart_world.settings import Settings

LATE_SHARE = 0.01
DUPLICATE_SHARE = 0.015
LATE_MIN_MS = HOUR
LATE_MAX_MS = 80 * HOUR
VERY_LATE_MS = 72 * HOUR  # the events staging model's lookback: later arrivals are dropped
BUCKET_MS = 15 * MINUTE
ORPHAN_ORDER_BASE = 1_000_000_000_000
NULLED_FIELDS = (
    "customer_id",
    "utm_source",
    "utm_medium",
    "utm_campaign",
    "utm_content",
    "utm_term",
)


@dataclass
class Line:
    """One line of an events object (a valid event, or a deliberately bad line)."""

    data: bytes
    received_ms: int
    meta: dict[str, Any] | None  # None for malformed / invalid UTF-8 lines
    is_duplicate: bool = False
    bad: str | None = None

    @property
    def sort_key(self) -> tuple[int, str, bool]:
        return (self.received_ms, self.meta["event_id"] if self.meta else "~", self.is_duplicate)


@dataclass
class EventsObject:
    key: str
    hour_ms: int
    lines: list[Line]
    same_second_group: int | None = None

    @property
    def malformed(self) -> int:
        return sum(1 for ln in self.lines if ln.bad == "malformed_json")

    @property
    def invalid_utf8(self) -> int:
        return sum(1 for ln in self.lines if ln.bad == "invalid_utf8")

    def body(self) -> bytes:
        raw = b"".join(ln.data + b"\n" for ln in self.lines)
        buf = io.BytesIO()
        with gzip.GzipFile(fileobj=buf, mode="wb", filename="", mtime=0) as gz:
            gz.write(raw)
        return buf.getvalue()


@dataclass
class EventFaultPlan:
    requested: dict[str, int] = field(default_factory=dict)
    details: dict[str, dict[str, Any]] = field(default_factory=dict)


def assign_arrival(seed: int, hour_ms: int, events: list[Event]) -> None:
    """Normal events arrive within seconds; about 1% arrive 1-80 hours late."""
    rng = stream(seed, "arrival", iso_ms(hour_ms))
    for ev in events:
        if rng.random() < LATE_SHARE:
            ev.received_ms = ev.occurred_ms + rng.randint(LATE_MIN_MS, LATE_MAX_MS)
            ev.is_late = True
        else:
            ev.received_ms = ev.occurred_ms + rng.randint(80, 2_500)
        ev.body["received_at"] = iso_ms(ev.received_ms)


def apply_body_faults(seed: int, hour_ms: int, events: list[Event], plan: EventFaultPlan) -> None:
    """Faults that change event bodies: null spike, unexpected field, orphan order ids, events
    received more than 72 hours after they occurred."""
    if "null_spike" in plan.requested:
        for ev in events:
            for name in NULLED_FIELDS:
                ev.body[name] = None
        plan.details["null_spike"] = {"event_ids": [ev.event_id for ev in events]}
    on_time = [ev for ev in events if not ev.is_late]
    if "new_field" in plan.requested:
        chosen = on_time[: plan.requested["new_field"]]
        for ev in chosen:
            ev.body["experiment_bucket"] = "checkout_v2_b"
        plan.details["new_field"] = {
            "field": "experiment_bucket",
            "event_ids": [ev.event_id for ev in chosen],
        }
    if "orphan_fk" in plan.requested:
        rng = stream(seed, "orphan-events", iso_ms(hour_ms))
        donors = [ev for ev in on_time if ev.body["event_type"] == "checkout_started"] or on_time
        made = []
        for i in range(plan.requested["orphan_fk"]):
            donor = donors[i % len(donors)]
            body = dict(donor.body)
            body["event_id"] = uuid4(rng)
            body["event_type"] = "order_completed"
            body["properties"] = {
                "order_id": ORPHAN_ORDER_BASE + i,
                "revenue": "42.00",
                "currency": "USD",
                "quantity": 1,
            }
            ev = Event(body, donor.occurred_ms + 1, donor.received_ms + 1, False)
            body["occurred_at"] = iso_ms(ev.occurred_ms)
            body["received_at"] = iso_ms(ev.received_ms)
            made.append(ev)
        events.extend(made)
        plan.details["orphan_fk"] = {
            "event_ids": [ev.event_id for ev in made],
            "order_ids": [ORPHAN_ORDER_BASE + i for i in range(len(made))],
        }
    if "very_late" in plan.requested:
        taken = set(plan.details.get("new_field", {}).get("event_ids", []))
        chosen = [
            ev
            for ev in on_time
            if ev.event_id not in taken and ev.body["event_type"] != "order_completed"
        ][: plan.requested["very_late"]]
        for n, ev in enumerate(chosen, start=1):
            ev.occurred_ms = ev.received_ms - VERY_LATE_MS - n * MINUTE
            ev.body["occurred_at"] = iso_ms(ev.occurred_ms)
            ev.is_late = True
        plan.details["very_late"] = {"event_ids": [ev.event_id for ev in chosen]}


def to_line(ev: Event) -> Line:
    return Line(orjson.dumps(ev.body), ev.received_ms, ev.meta())


def pack_hour(
    seed: int, hour_ms: int, incoming: list[Line], plan: EventFaultPlan
) -> list[EventsObject]:
    """Split the hour's received lines into quarter-hour objects, add duplicates and bad lines."""
    rng = stream(seed, "pack", iso_ms(hour_ms))
    buckets: list[list[Line]] = [[] for _ in range(4)]
    for ln in sorted(incoming, key=lambda x: x.sort_key):
        buckets[(ln.received_ms - hour_ms) // BUCKET_MS].append(ln)
    for b in range(4):
        for ln in list(buckets[b]):
            if ln.meta is not None and rng.random() < DUPLICATE_SHARE:
                target = (b + 1 + rng.randrange(3)) % 4
                buckets[target].append(Line(ln.data, ln.received_ms, ln.meta, is_duplicate=True))
    for bucket in buckets:
        bucket.sort(key=lambda x: x.sort_key)
    first = next((i for i, bucket in enumerate(buckets) if bucket), 0)
    _add_bad_lines(seed, hour_ms, buckets[first], plan)

    groups: list[tuple[int, list[Line], int | None]] = []
    for b, bucket in enumerate(buckets):
        if not bucket:
            continue
        if b == first and "same_second" in plan.requested and len(bucket) >= 2:
            half = len(bucket) // 2
            groups += [(b, bucket[:half], 0), (b, bucket[half:], 0)]
        else:
            groups.append((b, bucket, None))
    objects = []
    group_start: dict[int, int] = {}
    for n, (b, lines, group) in enumerate(groups):
        start = max(hour_ms + b * BUCKET_MS, min(ln.received_ms for ln in lines))
        if group is not None:
            start = group_start.setdefault(group, start)
        stamp = from_ms(start).strftime("%Y-%m-%d-%H-%M-%S")
        d = from_ms(hour_ms)
        key = (
            f"events/dt={d:%Y-%m-%d}/hour={d:%H}/brightcart-events-1-{stamp}-"
            f"{uuid4(stream(seed, 'object-key', iso_ms(hour_ms), n))}.gz"
        )
        objects.append(EventsObject(key, hour_ms, lines, group))
    if "same_second" in plan.requested:
        plan.details["same_second"] = {
            "s3_keys": [o.key for o in objects if o.same_second_group is not None]
        }
    return objects


def _add_bad_lines(seed: int, hour_ms: int, bucket: list[Line], plan: EventFaultPlan) -> None:
    rng = stream(seed, "bad-lines", iso_ms(hour_ms))
    when = bucket[-1].received_ms if bucket else hour_ms
    for kind in ("malformed_json", "invalid_utf8"):
        n = plan.requested.get(kind, 0)
        if not n:
            continue
        added = []
        for _ in range(n):
            eid = uuid4(rng)
            body = orjson.dumps(
                {
                    "event_id": eid,
                    "event_type": "page_view",
                    "occurred_at": iso_ms(when),
                    "received_at": iso_ms(when),
                    "page": {"title": "PLACEHOLDER"},
                    "schema_version": 1,
                }
            )
            if kind == "malformed_json":
                data = body[: len(body) // 2]  # a record cut off mid-write
            else:
                data = body.replace(b"PLACEHOLDER", b"Caf\xe9 cr\xe8me \xff\xfe")  # Latin-1 bytes
            added.append(Line(data, when, None, bad=kind))
            bucket.append(added[-1])
        plan.details[kind] = {"count": len(added)}


def s3_client(settings: Settings) -> Any:
    env = settings.aws_env()
    return boto3.client(
        "s3",
        endpoint_url=env["AWS_ENDPOINT_URL"],
        aws_access_key_id=env["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=env["AWS_SECRET_ACCESS_KEY"],
        region_name=env["AWS_DEFAULT_REGION"],
        config=Config(
            retries={"max_attempts": 6, "mode": "standard"}, connect_timeout=5, read_timeout=30
        ),
    )


def ensure_bucket(client: Any, bucket: str, endpoint: str) -> None:
    try:
        client.head_bucket(Bucket=bucket)
    except ClientError as exc:
        if exc.response.get("Error", {}).get("Code") not in ("404", "NoSuchBucket"):
            raise RuntimeError(
                f"cannot reach bucket {bucket} at {endpoint}: {exc}; check that the S3 server "
                "runs (`brightcart sources status`) and BRIGHTCART_S3_PORT"
            ) from exc
        client.create_bucket(Bucket=bucket)


def put_objects(client: Any, bucket: str, objects: list[EventsObject]) -> dict[str, str]:
    """Upload; returns key -> sha256 of the uploaded bytes."""
    digests: dict[str, str] = {}
    i = 0
    while i < len(objects):
        obj = objects[i]
        if (
            obj.same_second_group is not None
            and i + 1 < len(objects)
            and objects[i + 1].same_second_group == obj.same_second_group
        ):
            pair = (obj, objects[i + 1])
            bodies = (pair[0].body(), pair[1].body())
            _put_same_second(client, bucket, pair[0].key, bodies[0], pair[1].key, bodies[1])
            for o, body in zip(pair, bodies, strict=True):
                digests[o.key] = hashlib.sha256(body).hexdigest()
            i += 2
            continue
        body = obj.body()
        client.put_object(Bucket=bucket, Key=obj.key, Body=body)
        digests[obj.key] = hashlib.sha256(body).hexdigest()
        i += 1
    return digests


def _last_modified(client: Any, bucket: str, key: str) -> datetime:
    return client.head_object(Bucket=bucket, Key=key)["LastModified"]


@retry(
    retry=retry_if_result(lambda same: not same),
    stop=stop_after_attempt(5),
    retry_error_callback=lambda state: False,
)
def _put_same_second(
    client: Any, bucket: str, key_a: str, body_a: bytes, key_b: str, body_b: bytes
) -> bool:
    """Write two objects back to back inside one wall-clock second (S3 LastModified has second
    resolution), then check it; rewrite both if a second boundary fell between them."""
    fraction = time.time() % 1
    if fraction > 0.5:
        time.sleep(1.0 - fraction + 0.01)
    client.put_object(Bucket=bucket, Key=key_a, Body=body_a)
    client.put_object(Bucket=bucket, Key=key_b, Body=body_b)
    a = _last_modified(client, bucket, key_a).replace(microsecond=0)
    b = _last_modified(client, bucket, key_b).replace(microsecond=0)
    return a == b
