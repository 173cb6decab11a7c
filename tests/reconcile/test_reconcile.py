"""Reconciliation of the real source database against the raw landing written by the real
shop lane: identical data matches; injected drift shows on exactly the right entity-days and
is repaired with the real finance-full-extract job (narrowed by Meltano overrides)."""

from __future__ import annotations

import json
from datetime import UTC, date, datetime
from decimal import Decimal

import psycopg
from typer.testing import CliRunner

from brightcart_ops import reconcile as rc
from brightcart_ops.finance_cli import app
from brightcart_ops.reconcile_job import run_reconciliation

from .conftest import ShopWorld

CUTOFF = datetime(2026, 11, 4, tzinfo=UTC)  # every fixture row is stamped at this time
D1, D2, D3 = date(2026, 11, 1), date(2026, 11, 2), date(2026, 11, 3)
EXPECTED = {  # (entity, day) -> (rows, sum), computed by hand from shop_rows.py
    ("orders", D1): (4, Decimal("42.50")),
    ("orders", D2): (5, Decimal("103.75")),
    ("orders", D3): (6, Decimal("198.75")),
    ("payments", D1): (4, Decimal("90.00")),
    ("payments", D2): (5, Decimal("135.00")),
    ("payments", D3): (6, Decimal("195.00")),
    ("refunds", D1): (2, Decimal("5.00")),
    ("refunds", D2): (2, Decimal("5.00")),
    ("refunds", D3): (3, Decimal("7.50")),
}


def check(world: ShopWorld) -> dict[tuple[str, date], rc.DayResult]:
    results = rc.compare(world.settings, world.warehouse, rc.q.ENTITIES, D1, D3, CUTOFF)
    return {(r.entity, r.day): r for r in results}


def drift(world: ShopWorld) -> None:
    """Three kinds of drift on three different entity-days."""
    with psycopg.connect(world.settings.pg_dsn, autocommit=True) as con:
        con.execute("SET session_replication_role = replica")  # no trigger: updated_at stays
        con.execute("UPDATE shop.payments SET amount = amount + 1 WHERE payment_id = 2")
        con.execute("DELETE FROM shop.refunds WHERE refund_id = 8")  # hard delete at source
    world.warehouse.execute("DELETE FROM raw_shop.orders WHERE order_id = 12")  # lost in load


def test_identical_rows_match_on_every_day(shop_world: ShopWorld) -> None:
    results = check(shop_world)
    assert {k: (r.source.count, r.source.total) for k, r in results.items()} == EXPECTED
    assert all(r.source == r.warehouse and r.status == "match" for r in results.values())
    assert len({r.source.checksum for r in results.values()}) == 9  # distinct per entity-day

    outcome = CliRunner().invoke(app, ["reconcile", "--start", "2026-11-01", "--end", "2026-11-04"])
    assert outcome.exit_code == 0, outcome.output
    recorded = shop_world.warehouse.query(
        "SELECT status, count(*), sum(source_count), sum(warehouse_count), max(cutoff) "
        "FROM ops.reconciliation_results GROUP BY 1"
    )
    assert recorded == [("match", 9, 37, 37, CUTOFF)]


def test_drift_shows_on_exactly_the_drifted_days(shop_world: ShopWorld) -> None:
    drift(shop_world)
    results = check(shop_world)
    mismatched = {k for k, r in results.items() if r.status == "mismatch"}
    assert mismatched == {("payments", D1), ("orders", D3), ("refunds", D2)}
    pay, orders, refunds = results["payments", D1], results["orders", D3], results["refunds", D2]
    assert (pay.source.count, pay.warehouse.count) == (4, 4)  # same count, other sum/checksum
    assert (pay.source.total, pay.warehouse.total) == (Decimal("91.00"), Decimal("90.00"))
    assert pay.source.checksum != pay.warehouse.checksum
    assert (orders.source.count, orders.warehouse.count) == (6, 5)
    assert orders.source.total - orders.warehouse.total == Decimal("32.00")  # 5 + 2.25 * 12
    assert (refunds.source.count, refunds.warehouse.count) == (1, 2)

    s, wh = shop_world.settings, shop_world.warehouse
    assert rc.key_diff(s, wh, "payments", D1, CUTOFF) == rc.KeyDiff([], [], [2])
    assert rc.key_diff(s, wh, "orders", D3, CUTOFF) == rc.KeyDiff([12], [], [])
    assert rc.key_diff(s, wh, "refunds", D2, CUTOFF) == rc.KeyDiff([], [8], [])


def test_rows_changed_after_the_cutoff_are_not_drift(shop_world: ShopWorld) -> None:
    with psycopg.connect(shop_world.settings.pg_dsn, autocommit=True) as con:
        con.execute("SET brightcart.now = '2026-11-04T01:00:00Z'")  # after the landed mark
        con.execute("UPDATE shop.orders SET status = 'shipped' WHERE order_id = 3")
    results = check(shop_world)
    assert all(r.status == "match" for r in results.values())
    assert results["orders", D1].source.count == 3  # order 3 left out on both sides


def test_mismatch_alerts_once_repairs_and_records(shop_world: ShopWorld) -> None:
    drift(shop_world)
    report = run_reconciliation(
        shop_world.settings,
        D1,
        D3,
        cutoff=CUTOFF,
        restate_models=False,
        warehouse=shop_world.warehouse,
        alerter=shop_world.alerter,
    )
    assert {(r.entity, r.day) for r in report.mismatches} == {
        ("payments", D1),
        ("orders", D3),
        ("refunds", D2),
    }
    assert report.tombstones == {"refunds": 1}
    assert not report.errors
    final = {(r.entity, r.day): r.status for r in report.rechecked}
    # The lost order comes back through the narrowed re-extract; the deleted refund is
    # tombstoned; the payment changed without an updated_at bump re-extracts with the same
    # (payment_id, updated_at) and lands as a new version because the shop loader's version
    # key includes the content hash (_record_hash, meltano.yml).
    assert final == {
        ("payments", D1): "repaired",
        ("orders", D3): "repaired",
        ("refunds", D2): "repaired",
    }

    wh = shop_world.warehouse
    rows = wh.query(
        "SELECT phase, status, count(*) FROM ops.reconciliation_results WHERE run_id = ? "
        "GROUP BY 1, 2 ORDER BY 1, 2",
        (report.run_id,),
    )
    assert [(str(p), str(st), int(n)) for p, st, n in rows] == [
        ("check", "match", 6),
        ("check", "mismatch", 3),
        ("recheck", "repaired", 3),
    ]
    assert wh.query(
        "SELECT count(*), max(_load_id) FROM raw_shop.refunds WHERE refund_id = 8 "
        "AND _sdc_deleted_at IS NOT NULL"
    )[0] == (1, f"reconcile:{report.run_id}")
    assert wh.query("SELECT count(*) FROM raw_shop.orders WHERE order_id = 12")[0][0] == 1

    assert wh.query(
        "SELECT amount FROM raw_shop.payments WHERE payment_id = 2 "
        "ORDER BY updated_at DESC, _sdc_sequence DESC LIMIT 1"
    )[0][0] == Decimal("23")

    alerts = [json.loads(line) for line in shop_world.alerts_file.read_text().splitlines()]
    assert [(a["incident_key"], a["resolved"]) for a in alerts] == [
        ("reconciliation_mismatch:finance", False),
        ("reconciliation_mismatch:finance", True),
    ]
    assert "refunds 2026-11-02: source 1 rows / 2.50" in alerts[0]["detail"]

    again = run_reconciliation(
        shop_world.settings,
        D1,
        D3,
        cutoff=CUTOFF,
        restate_models=False,
        warehouse=wh,
        alerter=shop_world.alerter,
    )
    assert again.mismatches == [] and again.rechecked == []
    assert len(shop_world.alerts_file.read_text().splitlines()) == len(alerts)


def test_a_failed_repair_alerts_again_and_stays_mismatched(shop_world: ShopWorld) -> None:
    drift(shop_world)
    report = run_reconciliation(
        shop_world.settings,
        D1,
        D3,
        cutoff=CUTOFF,
        restate_models=False,
        environment="no-such-environment",  # Meltano refuses it: the re-extract fails
        warehouse=shop_world.warehouse,
        alerter=shop_world.alerter,
    )
    assert len(report.errors) == 1 and report.errors[0].startswith("re-extract failed")
    final = {(r.entity, r.day): r.status for r in report.rechecked}
    assert final == {
        ("payments", D1): "mismatch",
        ("orders", D3): "mismatch",
        ("refunds", D2): "repaired",  # the tombstone needs no extraction
    }
    alerts = [json.loads(line) for line in shop_world.alerts_file.read_text().splitlines()]
    assert [(a["incident_key"], a["resolved"]) for a in alerts] == [
        ("reconciliation_mismatch:finance", False),
        ("reconciliation_mismatch:finance-unrepaired", False),
    ]
    assert "orders 2026-11-03" in alerts[1]["detail"]
    failed = shop_world.warehouse.query(
        "SELECT count(*) FROM ops.pipeline_runs WHERE job LIKE 'finance-full-extract:%' "
        "AND status = 'failed'"
    )
    assert failed[0][0] == 1
