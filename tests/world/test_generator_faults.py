"""Each fault switch produces exactly the recorded number of bad lines, rows or objects."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

import orjson
import psycopg
import pytest
from typer.testing import CliRunner

from brightcart_world.generator import FaultSpec, Manifest, advance, generate, request_faults
from brightcart_world.generator.checksums import object_lines, s3_objects
from brightcart_world.generator.events_out import s3_client
from brightcart_world.generator.faults import FaultError
from brightcart_world.generator.manifest import FaultEntry
from brightcart_world.settings import Settings

START = datetime(2026, 11, 1, tzinfo=UTC)
END = START + timedelta(hours=12)
FAULT_HOUR = END
REQUESTED = [
    FaultSpec("events", "malformed_json", 3),
    FaultSpec("events", "invalid_utf8", 2),
    FaultSpec("events", "new_field", 5),
    FaultSpec("events", "null_spike"),
    FaultSpec("events", "orphan_fk", 2),
    FaultSpec("events", "same_second"),
    FaultSpec("shop", "null_spike"),
    FaultSpec("shop", "orphan_fk", 2),
    FaultSpec("shop", "drift", 3),
    FaultSpec("shop", "hard_delete", 2),
    FaultSpec("crm", "drift", 2),
    FaultSpec("crm", "hard_delete", 1),
]


def rows(settings: Settings, sql: str, params: tuple[Any, ...] = ()) -> list[tuple[Any, ...]]:
    with psycopg.connect(settings.pg_dsn) as conn:
        return conn.execute(sql, params).fetchall()


@pytest.fixture(scope="module")
def world(make_settings: Callable[[], Settings]) -> Settings:
    s = make_settings()
    generate(s, seed=11, start=START, end=END, scale=0.002)
    request_faults(s, REQUESTED[:3])
    advance(s, hours=1, faults=REQUESTED[3:])
    return s


@pytest.fixture(scope="module")
def manifest(world: Settings) -> Manifest:
    return Manifest.load(world)


@pytest.fixture(scope="module")
def hour_lines(world: Settings) -> dict[str, list[bytes]]:
    raw = s3_objects(world, f"events/dt={FAULT_HOUR:%Y-%m-%d}/hour={FAULT_HOUR:%H}/")
    return {k: object_lines(v) for k, v in raw.items()}


def fault(manifest: Manifest, source: str, kind: str) -> FaultEntry:
    (entry,) = [f for f in manifest.faults if f.source == source and f.kind == kind]
    assert entry.status == "applied" and entry.applied_hour == FAULT_HOUR
    return entry


def decoded(hour_lines: dict[str, list[bytes]]) -> list[dict[str, Any]]:
    out = []
    for lines in hour_lines.values():
        for line in lines:
            try:
                out.append(orjson.loads(line))
            except orjson.JSONDecodeError:
                continue
    return out


def test_every_requested_fault_is_applied_once(manifest: Manifest) -> None:
    assert len(manifest.faults) == len(REQUESTED)
    assert all(f.status == "applied" and f.applied_count for f in manifest.faults)


def test_malformed_and_invalid_utf8_lines(
    manifest: Manifest, hour_lines: dict[str, list[bytes]]
) -> None:
    malformed = invalid = 0
    for lines in hour_lines.values():
        for line in lines:
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                invalid += 1
                continue
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                malformed += 1
    assert malformed == 3 == fault(manifest, "events", "malformed_json").applied_count
    assert invalid == 2 == fault(manifest, "events", "invalid_utf8").applied_count
    assert manifest.bad_lines(FAULT_HOUR) == {"malformed_json": 3, "invalid_utf8": 2}
    assert manifest.bad_lines(FAULT_HOUR - timedelta(hours=1)) == {
        "malformed_json": 0,
        "invalid_utf8": 0,
    }


def test_unexpected_field(manifest: Manifest, hour_lines: dict[str, list[bytes]]) -> None:
    with_field = {ev["event_id"] for ev in decoded(hour_lines) if "experiment_bucket" in ev}
    entry = fault(manifest, "events", "new_field")
    assert len(with_field) == 5 == entry.applied_count
    assert with_field == set(entry.details["event_ids"])


def test_null_spike_in_events(manifest: Manifest, hour_lines: dict[str, list[bytes]]) -> None:
    entry = fault(manifest, "events", "null_spike")
    spiked = set(entry.details["event_ids"])
    assert entry.applied_count == len(spiked) > 20
    events = [ev for ev in decoded(hour_lines) if ev["event_id"] in spiked]
    assert events and all(ev["customer_id"] is None and ev["utm_campaign"] is None for ev in events)
    previous = manifest.event_lines(FAULT_HOUR - timedelta(hours=1))
    assert any(e.customer_id is not None for e in previous)


def test_orphan_order_ids_in_events(
    world: Settings, manifest: Manifest, hour_lines: dict[str, list[bytes]]
) -> None:
    orders = {r[0] for r in rows(world, "SELECT order_id FROM shop.orders")}
    orphans = {
        ev["event_id"]
        for ev in decoded(hour_lines)
        if ev["event_type"] == "order_completed" and ev["properties"]["order_id"] not in orders
    }
    entry = fault(manifest, "events", "orphan_fk")
    assert len(orphans) == 2 == entry.applied_count
    assert orphans == set(entry.details["event_ids"])


def test_objects_written_in_the_same_second(world: Settings, manifest: Manifest) -> None:
    entry = fault(manifest, "events", "same_second")
    keys = entry.details["s3_keys"]
    assert len(keys) == 2 == entry.applied_count
    assert keys[0].rsplit("-", 5)[0] == keys[1].rsplit("-", 5)[0]  # same key timestamp
    client = s3_client(world)
    stamps = {client.head_object(Bucket=world.s3_bucket, Key=k)["LastModified"] for k in keys}
    assert len(stamps) == 1


def test_null_channel_on_the_hours_orders(world: Settings, manifest: Manifest) -> None:
    entry = fault(manifest, "shop", "null_spike")
    nulls = {r[0] for r in rows(world, "SELECT order_id FROM shop.orders WHERE channel IS NULL")}
    placed = {
        r[0]
        for r in rows(
            world, "SELECT order_id FROM shop.orders WHERE placed_at >= %s", (FAULT_HOUR,)
        )
    }
    assert nulls == set(entry.details["order_ids"]) == placed
    assert entry.applied_count == len(nulls) > 0


def test_order_items_pointing_to_missing_products(world: Settings, manifest: Manifest) -> None:
    entry = fault(manifest, "shop", "orphan_fk")
    orphans = rows(
        world,
        """
        SELECT i.order_item_id FROM shop.order_items i
        WHERE NOT EXISTS (SELECT 1 FROM shop.products p WHERE p.product_id = i.product_id)""",
    )
    assert sorted(r[0] for r in orphans) == sorted(entry.details["order_item_ids"])
    assert entry.applied_count == 2
    # the money identity still holds: the orphan item was part of the order when it was placed
    assert (
        rows(
            world,
            """
        SELECT count(*) FROM shop.order_items WHERE order_item_id = ANY(%s)
          AND updated_at >= %s""",
            (entry.details["order_item_ids"], FAULT_HOUR),
        )[0][0]
        == 2
    )


def test_drift_changes_rows_without_bumping_updated_at(world: Settings, manifest: Manifest) -> None:
    entry = fault(manifest, "shop", "drift")
    ids = entry.details["customer_ids"]
    got = rows(
        world,
        "SELECT customer_id, city, updated_at FROM shop.customers "
        "WHERE customer_id = ANY(%s) ORDER BY 1",
        (ids,),
    )
    assert len(got) == 3 == entry.applied_count
    for cid, city, updated_at in got:
        assert city.endswith(" (moved)") and city == entry.details["new_city"][str(cid)]
        assert updated_at < FAULT_HOUR
    crm = fault(manifest, "crm", "drift")
    leads = rows(
        world,
        'SELECT "Company", "SystemModstamp" FROM sfdc."Lead" WHERE "Id" = ANY(%s)',
        (crm.details["ids"],),
    )
    assert len(leads) == 2 == crm.applied_count
    assert all(c.endswith(" Holdings") and stamp < FAULT_HOUR for c, stamp in leads)


def test_hard_deletes(world: Settings, manifest: Manifest) -> None:
    entry = fault(manifest, "shop", "hard_delete")
    ids = entry.details["customer_ids"]
    assert len(ids) == 2 == entry.applied_count
    assert (
        rows(world, "SELECT count(*) FROM shop.customers WHERE customer_id = ANY(%s)", (ids,))[0][0]
        == 0
    )
    crm = fault(manifest, "crm", "hard_delete")
    assert crm.applied_count == 1
    assert (
        rows(
            world,
            'SELECT count(*) FROM sfdc."CampaignMember" WHERE "Id" = ANY(%s)',
            (crm.details["ids"],),
        )[0][0]
        == 0
    )


def test_cli_generate_fault_advance(make_settings: Callable[[], Settings]) -> None:
    from brightcart_ops.cli import app

    s = make_settings()
    env = {
        "BRIGHTCART_PG_DB": s.pg_db,
        "BRIGHTCART_S3_PORT": str(s.s3_port),
        "BRIGHTCART_S3_BUCKET": s.s3_bucket,
        "BRIGHTCART_HOME": str(s.home),
    }
    runner = CliRunner()
    made = runner.invoke(
        app,
        [
            "world",
            "generate",
            "--seed",
            "5",
            "--start",
            "2026-11-01",
            "--end",
            "2026-11-01T06:00",
            "--scale",
            "0.002",
        ],
        env=env,
    )
    assert made.exit_code == 0, made.output
    bad = runner.invoke(app, ["world", "fault", "events", "bogus"], env=env)
    assert bad.exit_code != 0 and "malformed_json" in bad.output
    ok = runner.invoke(app, ["world", "fault", "events", "malformed_json", "--count", "4"], env=env)
    assert ok.exit_code == 0, ok.output
    ran = runner.invoke(app, ["world", "advance", "--hours", "2"], env=env)
    assert ran.exit_code == 0, ran.output
    m = Manifest.load(s)
    hour = START + timedelta(hours=6)
    assert m.clock.now == hour + timedelta(hours=2)
    assert m.bad_lines(hour) == {"malformed_json": 4, "invalid_utf8": 0}
    assert m.bad_lines(hour + timedelta(hours=1)) == {"malformed_json": 0, "invalid_utf8": 0}
    assert [(f.kind, f.applied_count, f.applied_hour) for f in m.faults] == [
        ("malformed_json", 4, hour)
    ]
    status = runner.invoke(app, ["world", "status"], env=env)
    assert status.exit_code == 0 and "malformed_json applied" in status.output
    with pytest.raises(FaultError):
        FaultSpec("events", "nope")
