"""Two generated days plus one advanced hour: the data hangs together the way the pipeline needs."""

from __future__ import annotations

import csv
import io
import re
from collections import Counter
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from typing import Any

import orjson
import psycopg
import pytest

from brightcart_world.generator import Manifest, advance, generate
from brightcart_world.generator.checksums import object_lines, s3_objects
from brightcart_world.settings import Settings

START = datetime(2026, 11, 1, tzinfo=UTC)
END = datetime(2026, 11, 3, tzinfo=UTC)
KEY = re.compile(
    r"^events/dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/brightcart-events-1-"
    r"(\d{4}-\d{2}-\d{2})-(\d{2})-\d{2}-\d{2}-[0-9a-f-]{36}\.gz$"
)


def rows(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.pg_dsn) as conn:
        return conn.execute(sql, params).fetchall()


def parse(ts: str) -> datetime:
    return datetime.fromisoformat(ts.replace("Z", "+00:00"))


@pytest.fixture(scope="module")
def world(make_settings: Callable[[], Settings]) -> Settings:
    s = make_settings()
    generate(s, seed=7, start=START, end=END, scale=0.002)
    return s


@pytest.fixture(scope="module")
def events(world: Settings) -> dict[str, list[dict[str, Any]]]:
    """Every S3 events object parsed: key -> list of events (the bucket, not the manifest)."""
    return {
        key: [orjson.loads(line) for line in object_lines(raw)]
        for key, raw in s3_objects(world, "events/").items()
    }


def test_objects_follow_the_firehose_layout_and_carry_no_gzip_name(world: Settings) -> None:
    objects = s3_objects(world, "events/")
    per_hour: Counter[str] = Counter()
    for key, raw in objects.items():
        m = KEY.match(key)
        assert m, key
        assert m.group(1) == m.group(3) and m.group(2) == m.group(4), key
        per_hour[f"{m.group(1)}T{m.group(2)}"] += 1
        assert raw[:2] == b"\x1f\x8b"
        assert raw[3] & 0x08 == 0, f"{key} stores a file name in its gzip header"
        assert raw[4:8] == b"\x00\x00\x00\x00", f"{key} stores an mtime"
    assert len(per_hour) == 48
    assert min(per_hour.values()) >= 2


def test_bucket_matches_the_manifest_line_by_line(
    world: Settings, events: dict[str, list[dict[str, Any]]]
) -> None:
    manifest = Manifest.load(world)
    assert {o.s3_key for o in manifest.events_objects()} == set(events)
    listed = {(e.s3_key, e.line_number): e for e in manifest.events}
    seen = {(k, i + 1): ev for k, evs in events.items() for i, ev in enumerate(evs)}
    assert set(listed) == set(seen)
    for place, entry in listed.items():
        ev = seen[place]
        assert ev["event_id"] == entry.event_id
        assert parse(ev["received_at"]) == entry.received_at
        assert (parse(ev["received_at"]) - parse(ev["occurred_at"]) >= timedelta(hours=1)) == (
            entry.is_late
        )
    sizes = [len(orjson.dumps(ev)) for evs in events.values() for ev in evs]
    assert 800 <= sum(sizes) / len(sizes) <= 1400
    assert {ev["event_type"] for evs in events.values() for ev in evs} == {
        "page_view",
        "product_view",
        "add_to_cart",
        "checkout_started",
        "order_completed",
        "signup",
    }


def test_every_order_has_exactly_one_order_completed_event(
    world: Settings, events: dict[str, list[dict[str, Any]]]
) -> None:
    orders = dict(rows(world, "SELECT order_id, customer_id FROM shop.orders"))
    revenue = {
        r[0]: r[1]
        for r in rows(
            world,
            """
            SELECT o.order_id, sum(i.quantity * i.unit_price) - sum(i.discount_amount)
                   + o.shipping_amount + o.tax_amount
            FROM shop.orders o JOIN shop.order_items i USING (order_id) GROUP BY o.order_id""",
        )
    }
    completed: dict[int, dict[str, Any]] = {}
    for evs in events.values():
        for ev in evs:
            if ev["event_type"] == "order_completed":
                oid = ev["properties"]["order_id"]
                assert completed.setdefault(oid, ev)["event_id"] == ev["event_id"]
    in_flight = {
        r[0]
        for r in rows(
            world,
            "SELECT (meta->>'order_id')::bigint FROM generator.pending_event "
            "WHERE meta->>'event_type' = 'order_completed'",
        )
    }
    assert set(completed) | in_flight == set(orders)
    assert not set(completed) & in_flight
    for oid, ev in completed.items():
        assert ev["customer_id"] == orders[oid]
        assert Decimal(ev["properties"]["revenue"]) == revenue[oid]
    assert len(orders) > 300


def test_every_minute_of_the_window_has_traffic(
    world: Settings, events: dict[str, list[dict[str, Any]]]
) -> None:
    minutes = {
        parse(ev["occurred_at"]).replace(second=0, microsecond=0)
        for evs in events.values()
        for ev in evs
    }
    in_flight = rows(world, "SELECT (meta->>'occurred_ms')::bigint FROM generator.pending_event")
    minutes |= {datetime.fromtimestamp(r[0] // 60_000 * 60, tz=UTC) for r in in_flight}
    assert len(minutes) == int((END - START) / timedelta(minutes=1))
    assert min(minutes) == START and max(minutes) == END - timedelta(minutes=1)


def test_utm_campaigns_are_salesforce_campaigns_with_spend(
    world: Settings, events: dict[str, list[dict[str, Any]]]
) -> None:
    crm = {r[0] for r in rows(world, 'SELECT "utm_campaign__c" FROM sfdc."Campaign"')}
    spend_files = s3_objects(world, "marketing/spend/")
    assert sorted(spend_files) == [
        "marketing/spend/dt=2026-11-01/ad_spend_2026-11-01.csv",
        "marketing/spend/dt=2026-11-02/ad_spend_2026-11-02.csv",
    ]
    spent = set()
    for body in spend_files.values():
        reader = csv.DictReader(io.StringIO(body.decode()))
        assert reader.fieldnames == [
            "date",
            "platform",
            "campaign",
            "spend",
            "clicks",
            "impressions",
        ]
        spent |= {r["campaign"] for r in reader}
    used = {ev["utm_campaign"] for evs in events.values() for ev in evs if ev["utm_campaign"]}
    assert used and used <= crm and used <= spent


def test_captured_payment_equals_items_minus_discounts_plus_shipping_and_tax(
    world: Settings,
) -> None:
    mismatches = rows(
        world,
        """
        SELECT p.payment_id FROM shop.payments p JOIN shop.orders o USING (order_id)
        JOIN (SELECT order_id, sum(quantity * unit_price) AS items,
                     sum(discount_amount) AS discounts
              FROM shop.order_items GROUP BY order_id) i USING (order_id)
        WHERE p.status = 'captured'
          AND p.amount <> i.items - i.discounts + o.shipping_amount + o.tax_amount""",
    )
    assert mismatches == []
    assert rows(world, "SELECT count(*) FROM shop.payments WHERE status = 'captured'")[0][0] > 300


def test_order_lifecycle_is_consistent(world: Settings) -> None:
    bad = rows(
        world,
        """
        SELECT order_id FROM shop.orders WHERE
           (status = 'paid' AND paid_at IS NULL)
        OR (status = 'shipped' AND NOT (shipped_at > paid_at))
        OR (status = 'delivered' AND NOT (delivered_at > shipped_at))
        OR (status = 'cancelled' AND (cancelled_at IS NULL OR paid_at IS NOT NULL))
        OR (paid_at IS NOT NULL AND NOT EXISTS (SELECT 1 FROM shop.payments p
              WHERE p.order_id = orders.order_id AND p.status = 'captured'))
        OR updated_at < created_at""",
    )
    assert bad == []
    statuses = dict(rows(world, "SELECT status, count(*) FROM shop.orders GROUP BY 1"))
    assert statuses.get("shipped", 0) > 0 and statuses.get("cancelled", 0) > 0
    assert rows(world, "SELECT count(*) FROM shop.payments WHERE status = 'failed'")[0][0] > 0


def test_advance_adds_one_plausible_hour(world: Settings) -> None:
    before = Manifest.load(world)
    assert before.clock.now == END
    orders_before = rows(world, "SELECT count(*) FROM shop.orders")[0][0]
    summary = advance(world, hours=1)
    after = Manifest.load(world)
    hour = END
    assert after.clock.now == END + timedelta(hours=1)
    new = after.events_objects(hour)
    assert len(new) >= 2 and not {o.s3_key for o in new} & {o.s3_key for o in before.objects}

    # count late and duplicate lines from the bucket itself
    raw = s3_objects(world, "events/dt=2026-11-03/hour=00/")
    assert set(raw) == {o.s3_key for o in new}
    seen: set[str] = set()
    late = duplicates = 0
    for key in sorted(raw):
        for line in object_lines(raw[key]):
            ev = orjson.loads(line)
            if ev["event_id"] in seen:
                duplicates += 1
                continue
            seen.add(ev["event_id"])
            late += parse(ev["received_at"]) - parse(ev["occurred_at"]) >= timedelta(hours=1)
    assert late == len(after.late(hour)) == summary.late_events
    assert duplicates == len(after.duplicates(hour)) == summary.duplicate_lines
    assert duplicates > 0
    assert late > 0, "late events received in this hour (generated 1-80 h earlier)"
    # shop: new orders placed in the hour, heartbeat and campaign cost synced at hh:59:59
    placed = rows(world, "SELECT count(*) FROM shop.orders WHERE placed_at >= %s", (hour,))[0][0]
    assert placed > 0
    assert rows(world, "SELECT count(*) FROM shop.orders")[0][0] == orders_before + placed
    stamp = hour + timedelta(minutes=59, seconds=59)
    assert rows(world, "SELECT beat_at, updated_at FROM shop.heartbeat") == [(stamp, stamp)]
    assert {r[0] for r in rows(world, 'SELECT "SystemModstamp" FROM sfdc."Campaign"')} == {stamp}
    assert rows(world, "SELECT max(updated_at) FROM shop.orders")[0][0] <= stamp
