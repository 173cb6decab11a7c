"""Case 3: bad input from the generator's fault switches is quarantined or flagged, never lost.

One simulated hour carries every fault at once; the real events and shop lanes load it. Each
kind is then checked against the generator's manifest (the exact ids, keys and counts it recorded).
"""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import orjson
import pytest

from brightcart_world.generator import FaultSpec, Manifest, advance
from brightcart_world.generator.checksums import object_lines
from brightcart_world.generator.manifest import FaultEntry

from .harness import TALLY, RelWorld, SqlmeshProd

FAULTS = [
    FaultSpec("events", "malformed_json", 3),
    FaultSpec("events", "invalid_utf8", 2),
    FaultSpec("events", "new_field", 4),
    FaultSpec("events", "null_spike"),
    FaultSpec("events", "orphan_fk", 2),
    FaultSpec("events", "same_second"),
    FaultSpec("events", "very_late", 3),
    FaultSpec("shop", "null_spike"),
    FaultSpec("shop", "orphan_fk", 2),
]
LATE = timedelta(hours=72)


class FaultHour:
    def __init__(self, world: RelWorld, manifest: Manifest, hour: datetime) -> None:
        self.world = world
        self.manifest = manifest
        self.hour = hour

    @property
    def readable_ids(self) -> set[str]:
        """Event ids of the good lines in the bucket (the manifest lists only those)."""
        return {e.event_id for e in self.manifest.events}

    def fault(self, source: str, kind: str) -> FaultEntry:
        (entry,) = [
            f
            for f in self.manifest.faults
            if f.source == source and f.kind == kind and f.applied_hour == self.hour
        ]
        assert entry.status == "applied" and entry.applied_count, entry
        return entry

    def landed_payloads(self, event_ids: list[str]) -> list[dict[str, Any]]:
        rows = self.world.wh_rows(
            "SELECT CAST(payload AS VARCHAR), customer_id FROM raw_events.events "
            "WHERE list_contains(?, event_id)",
            [event_ids],
        )
        return [orjson.loads(r[0]) | {"_customer_id_column": r[1]} for r in rows]


@pytest.fixture(scope="module")
def fault_hour(rel: RelWorld, sqlmesh_prod: SqlmeshProd) -> FaultHour:
    """The fault hour, fed in after the prod environment is planned on clean data."""
    advance(rel.settings, hours=1, faults=FAULTS)
    manifest = Manifest.load(rel.settings)
    hours = {f.applied_hour for f in manifest.faults}
    assert len(manifest.faults) == len(FAULTS) and len(hours) == 1, manifest.faults
    (hour,) = hours
    assert hour is not None
    for lane in ("events", "shop"):
        result = rel.lane(lane)
        assert result.status == "succeeded", f"{lane}: {result.error}"
    return FaultHour(rel, manifest, hour)


def handled(kind: str, detail: str) -> None:
    TALLY.bad_inputs_handled += 1
    TALLY.note(f"bad input {kind}: {detail}")


def _bad_lines(world: RelWorld, hour: datetime) -> dict[str, set[tuple[str, int]]]:
    """Classify every bad line of the hour by reading the object bytes themselves."""
    out: dict[str, set[tuple[str, int]]] = {"malformed_json": set(), "invalid_utf8": set()}
    prefix = f"events/dt={hour:%Y-%m-%d}/hour={hour:%H}/"
    for key, body in world.bucket_objects(prefix).items():
        for number, line in enumerate(object_lines(body), start=1):
            try:
                line.decode("utf-8")
            except UnicodeDecodeError:
                out["invalid_utf8"].add((key, number))
                continue
            try:
                orjson.loads(line)
            except orjson.JSONDecodeError:
                out["malformed_json"].add((key, number))
    return out


def _quarantined(world: RelWorld) -> set[tuple[str, int]]:
    rows = world.wh_rows("SELECT s3_key, line_number FROM raw_events.events_quarantine")
    return {(str(r[0]), int(r[1])) for r in rows}


@pytest.mark.parametrize("kind", ["malformed_json", "invalid_utf8"])
def test_unreadable_lines_are_quarantined_one_for_one(fault_hour: FaultHour, kind: str) -> None:
    world = fault_hour.world
    expected = _bad_lines(world, fault_hour.hour)[kind]
    entry = fault_hour.fault("events", kind)
    assert (
        len(expected) == entry.applied_count == fault_hour.manifest.bad_lines(fault_hour.hour)[kind]
    )
    quarantined = _quarantined(world)
    assert expected <= quarantined, f"{kind}: lines not in quarantine {expected - quarantined}"
    landed = world.wh_rows(
        "SELECT count(*) FROM raw_events.events WHERE list_contains(?, s3_key || ':' || "
        "CAST(line_number AS VARCHAR))",
        [[f"{k}:{n}" for k, n in expected]],
    )[0][0]
    assert landed == 0, "a bad line also landed as an event"
    if kind == "invalid_utf8":
        raw = world.wh_rows(
            "SELECT raw_line FROM raw_events.events_quarantine WHERE list_contains(?, "
            "s3_key || ':' || CAST(line_number AS VARCHAR))",
            [[f"{k}:{n}" for k, n in expected]],
        )
        assert all("\\x" in str(r[0]) for r in raw), "invalid bytes are kept escaped"
    handled(kind, f"quarantined={len(expected)} manifest={entry.applied_count}")


def test_new_field_lands_inside_the_payload(fault_hour: FaultHour) -> None:
    entry = fault_hour.fault("events", "new_field")
    assert len(entry.details["event_ids"]) == entry.applied_count
    ids = sorted(set(entry.details["event_ids"]) & fault_hour.readable_ids)
    payloads = fault_hour.landed_payloads(ids)
    with_field = {p["event_id"] for p in payloads if "experiment_bucket" in p}
    assert with_field == set(ids) and ids
    assert fault_hour.world.rejects().get("raw_events.events__rejects", 0) == 0
    handled("schema drift (new field)", f"landed={len(with_field)} manifest={len(ids)}")


def test_null_spike_lands_and_is_countable(fault_hour: FaultHour) -> None:
    events = fault_hour.fault("events", "null_spike")
    # lines that another fault of the hour cut or corrupted are quarantined, and events still
    # in flight arrive later: what landed must be exactly the spiked events the bucket holds
    ids = sorted(set(events.details["event_ids"]) & fault_hour.readable_ids)
    assert len(events.details["event_ids"]) == events.applied_count and ids
    payloads = fault_hour.landed_payloads(ids)
    assert {p["event_id"] for p in payloads} == set(ids)
    assert all(p["_customer_id_column"] is None and p["utm_campaign"] is None for p in payloads)
    shop = fault_hour.fault("shop", "null_spike")
    order_ids = set(shop.details["order_ids"])
    null_channel = {
        r[0]
        for r in fault_hour.world.wh_rows(
            "SELECT order_id FROM raw_shop.orders QUALIFY row_number() OVER "
            "(PARTITION BY order_id ORDER BY updated_at DESC) = 1 AND channel IS NULL"
        )
    }
    assert null_channel == order_ids and len(order_ids) == shop.applied_count
    handled(
        "null spike",
        f"events null={len(ids)} manifest={events.applied_count}; "
        f"orders null channel={len(null_channel)} manifest={shop.applied_count}",
    )


def test_orphan_foreign_keys_land_and_are_flagged(fault_hour: FaultHour) -> None:
    world = fault_hour.world
    events = fault_hour.fault("events", "orphan_fk")
    orphan_events = {
        r[0]
        for r in world.wh_rows(
            "SELECT e.event_id FROM raw_events.events e WHERE e.event_type = 'order_completed' "
            "AND NOT EXISTS (SELECT 1 FROM raw_shop.orders o WHERE o.order_id = "
            "CAST(json_extract_string(e.payload, '$.properties.order_id') AS BIGINT))"
        )
    }
    assert orphan_events == set(events.details["event_ids"]) & fault_hour.readable_ids
    assert len(events.details["event_ids"]) == events.applied_count
    shop = fault_hour.fault("shop", "orphan_fk")
    orphan_items = {
        r[0]
        for r in world.wh_rows(
            "SELECT DISTINCT i.order_item_id FROM raw_shop.order_items i WHERE NOT EXISTS "
            "(SELECT 1 FROM raw_shop.products p WHERE p.product_id = i.product_id)"
        )
    }
    assert orphan_items == set(shop.details["order_item_ids"])
    handled(
        "orphan foreign key",
        f"events={len(orphan_events)} manifest={events.applied_count}; "
        f"order items={len(orphan_items)} manifest={shop.applied_count}",
    )


def test_duplicate_events_land_once_per_line(fault_hour: FaultHour) -> None:
    world = fault_hour.world
    manifest = fault_hour.manifest
    dup_lines = {(e.s3_key, e.line_number) for e in manifest.events if e.is_duplicate}
    assert dup_lines, "the generator wrote no duplicate line at this size"
    rows = world.wh_rows("SELECT count(*) - count(DISTINCT event_id) FROM raw_events.events")[0][0]
    assert rows == len(dup_lines), "each duplicate line lands once, and only once"
    world.assert_lane_equals_source("events", "duplicates")
    handled("duplicate events", f"repeated lines landed={rows} manifest={len(dup_lines)}")


def test_late_events_land_under_their_received_hour(fault_hour: FaultHour) -> None:
    world = fault_hour.world
    late = [e for e in fault_hour.manifest.events if e.is_late and not e.is_duplicate]
    assert late, "the generator wrote no late event at this size"
    very_late = {e.event_id for e in late if e.received_at - e.occurred_at > LATE}
    landed = {
        str(r[0])
        for r in world.wh_rows(
            "SELECT event_id FROM raw_events.events WHERE list_contains(?, event_id)",
            [[e.event_id for e in late]],
        )
    }
    assert landed == {e.event_id for e in late}
    landed_very_late = {
        str(r[0])
        for r in world.wh_rows(
            "SELECT DISTINCT event_id FROM raw_events.events "
            "WHERE received_at - occurred_at > INTERVAL 72 HOUR"
        )
    }
    assert landed_very_late == very_late
    # the very_late fault makes some arrive at any world size; a four-day world has its own too
    assert very_late, "no event more than 72 h late arrived in this world"
    assert set(fault_hour.fault("events", "very_late").details["event_ids"]) <= very_late
    handled(
        "late events",
        f"late landed={len(landed)} manifest={len(late)}; "
        f"more than 72 h late={len(landed_very_late)} manifest={len(very_late)}",
    )


def test_gzip_without_stored_name_and_same_second_objects_load(fault_hour: FaultHour) -> None:
    world = fault_hour.world
    objects = world.bucket_objects("events/")
    nameless = [k for k, body in objects.items() if body[:2] == b"\x1f\x8b" and body[3] & 0x08 == 0]
    assert nameless and len(nameless) == len(objects), "every Firehose object has no FNAME"
    loaded = {
        str(r[0])
        for r in world.wh_rows(
            "SELECT DISTINCT s3_key FROM raw_events.events UNION "
            "SELECT DISTINCT s3_key FROM raw_events.events_quarantine"
        )
    }
    assert set(nameless) <= loaded
    same = fault_hour.fault("events", "same_second")
    keys = list(same.details["s3_keys"])
    assert len(keys) == 2 and set(keys) <= loaded
    expected = {(k, n) for k, n in world.expected_event_lines()[0] if k in keys}
    got = {
        (str(r[0]), int(r[1]))
        for r in world.wh_rows(
            "SELECT s3_key, line_number FROM raw_events.events WHERE list_contains(?, s3_key)",
            [keys],
        )
    }
    assert got == expected and expected
    world.assert_lane_equals_source("events", "gzip and same-second objects")
    handled("gzip with no stored name", f"objects loaded={len(nameless)} of {len(objects)}")
    handled("same-second objects", f"objects={len(keys)} lines landed={len(got)}")


def test_nothing_lost_after_bad_input(fault_hour: FaultHour) -> None:
    world = fault_hour.world
    for lane in ("events", "shop"):
        world.assert_lane_equals_source(lane, "after the fault hour")
    assert sum(world.rejects().values()) == 0, world.rejects()
    TALLY.note("bad input: warehouse equals source for events and shop after the fault hour")


def test_null_channel_spike_stops_the_finance_marts(fault_hour: FaultHour) -> None:
    """The prod environment (planned on clean data before the fault hour) runs on it: the blocking
    not_null(channel) audits of the revenue ledger and of the orders mart fail the run, the models
    after them are skipped (no revenue_hourly row for the spiked hour), nothing is published, the
    failure is alerted and the run reports failure (the blocking-audit runbook takes it on).

    SQLMesh audits a model's interval after writing it: the ledger's table holds the spiked rows,
    its interval stays unfinished and the next run redoes it. What must not happen is that anything
    downstream or any dashboard takes them in."""
    world = fault_hour.world
    assert world.wh_table_exists("marts_finance", "revenue_ledger"), "no prod environment"
    log = world.settings.home / "logs" / "transform.log"
    seen = log.stat().st_size
    published = _count(world, "ops", "publish_log")
    assert _open_transform_incidents(world) == 0, "a transform incident was open before the run"
    result = world.sqlmesh("run")
    with log.open("rb") as handle:
        handle.seek(seen)
        written = handle.read().decode("utf-8", errors="replace")
    assert result.status == "failed", "a prod run went through a null channel spike"
    failed = written[written.find("Failed models") :]
    # The first blocking not_null(channel) audit on the way to the ledger stops the run: the
    # orders' staging view's, or the ledger's own.
    # (SQLMesh names them quoted or not: "warehouse"."marts_finance"."revenue_ledger")
    stopped_at = [
        m for m in ("stg_shop__orders", "revenue_ledger") if re.search(rf'\."?{m}\b', failed)
    ]
    assert stopped_at and "'not_null' audit error" in failed, written[-3000:]
    spiked = sorted(fault_hour.fault("shop", "null_spike").details["order_ids"])
    assert spiked
    assert _count(world, "ops", "publish_log") == published, "a failed run published"
    assert _open_transform_incidents(world) == 1, "the failed prod run raised no transform alert"
    hourly = world.wh_rows(
        "SELECT count(*), count(*) FILTER (WHERE channel IS NULL) "
        "FROM marts_finance.revenue_hourly WHERE revenue_hour >= ?",
        [fault_hour.hour],
    )[0]
    assert hourly == (0, 0), "the spiked hour reached revenue_hourly past a failed audit"
    handled(
        "null spike stops the finance marts",
        f"sqlmesh run failed at {stopped_at[0]} on not_null(channel) for {len(spiked)} "
        "spiked orders; "
        "revenue_hourly rows for the hour=0; nothing published; one alert",
    )


def _count(world: RelWorld, schema: str, table: str) -> int:
    if not world.wh_table_exists(schema, table):
        return 0
    return int(world.wh_rows(f"SELECT count(*) FROM {schema}.{table}")[0][0])


def _open_transform_incidents(world: RelWorld) -> int:
    if not world.wh_table_exists("ops", "alerts"):
        return 0
    return int(
        world.wh_rows(
            "SELECT count(DISTINCT alert_id) FROM ops.alerts "
            "WHERE incident_key = 'lane_failure:transform' AND resolved_at IS NULL"
        )[0][0]
    )
