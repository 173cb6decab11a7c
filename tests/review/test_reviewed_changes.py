"""Review -> approve -> promote on a generated world, with the promotion gate enforced, and the
month close reproduced from raw.

The tests run in file order and build on each other: a finance-model change is planned into dev
and reviewed, refused for its author and for a non-finance approver, refused by `sqlmesh plan
prod` without approval (prod unchanged), approved by finance and promoted; the month closed before
that change then reproduces byte for byte from raw with the versions recorded at close, and a late
refund landed into raw afterwards shows up as named rows.
"""

from __future__ import annotations

import json
from datetime import date, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from brightcart_ops.closing import artifact
from brightcart_ops.lanes import run_lane
from brightcart_ops.review.report import FILES, report_digest
from brightcart_ops.warehouse import Warehouse

from .conftest import MONTH, latest_review
from .world import AUTHOR, CONTROLLER, ENGINEER, FINANCE, ReviewWorld, add_filter, world_clock

DAILY = "marts_finance.revenue_daily"
LEDGER = "marts_finance.revenue_ledger"
KPIS = ("gmv", "discounts", "net_sales", "commission_revenue", "refunds", "net_revenue")
STATE: dict[str, Any] = {}  # what one test leaves for the next


def newest(folder: Path) -> Path:
    return max(folder.iterdir(), key=lambda p: p.stat().st_mtime)


def audit_events(world: ReviewWorld, kind: str) -> list[tuple[Any, ...]]:
    return world.rows(
        "SELECT plan_id, actor, audits FROM ops.audit_trail WHERE kind = ? ORDER BY recorded_at",
        (kind,),
    )


def removed_channel_by_day(world: ReviewWorld, channel: str) -> dict[date, dict[str, Decimal]]:
    """What dropping one channel takes out of each day, from prod's ledger, by hand:
    sale, discount, commission, refund and chargeback entries (shipping and tax are not revenue),
    and orders as distinct paid orders per category, country and seller slice."""
    money = world.rows(
        "SELECT CAST(DATE_TRUNC('day', entry_at) AS DATE), "
        "SUM(CASE WHEN entry_type = 'sale' THEN amount ELSE 0 END), "
        "-SUM(CASE WHEN entry_type = 'discount' THEN amount ELSE 0 END), "
        "SUM(CASE WHEN entry_type IN ('sale', 'discount') THEN amount ELSE 0 END), "
        "SUM(CASE WHEN entry_type = 'commission' THEN amount ELSE 0 END), "
        "-SUM(CASE WHEN entry_type IN ('refund', 'chargeback') THEN amount ELSE 0 END), "
        "SUM(CASE WHEN entry_type IN ('sale', 'discount', 'refund', 'chargeback') "
        "THEN amount ELSE 0 END) "
        "FROM marts_finance.revenue_lines WHERE channel = ? "
        "AND entry_type IN ('sale', 'discount', 'commission', 'refund', 'chargeback') GROUP BY 1",
        (channel,),
    )
    orders = dict(
        world.rows(
            "SELECT day, SUM(n) FROM (SELECT CAST(DATE_TRUNC('day', entry_at) AS DATE) AS day, "
            "category, country, seller_id, COUNT(DISTINCT order_id) AS n "
            "FROM marts_finance.revenue_lines WHERE channel = ? AND entry_type = 'sale' "
            "GROUP BY 1, 2, 3, 4) GROUP BY 1",
            (channel,),
        )
    )
    return {
        row[0]: {k: Decimal(str(v)) for k, v in zip(KPIS, row[1:], strict=True)}
        | {"orders": Decimal(int(orders.get(row[0], 0)))}
        for row in money
    }


def test_an_apply_that_passed_no_gate_is_found_and_alerted(review_world: ReviewWorld) -> None:
    plan_id, _ = review_world.prod_state()  # the first build ran with the gate off
    assert [e[0] for e in audit_events(review_world, "apply")] == [plan_id]
    assert not audit_events(review_world, "promotion_gate")
    checked = review_world.brightcart(CONTROLLER, "audit", "check")
    assert checked.exit_code == 1, checked.output
    assert f"{plan_id} " in checked.output and "without a gate decision" in checked.output
    alerts = [
        json.loads(line)
        for line in (review_world.settings.home / "alerts.jsonl").read_text().splitlines()
    ]
    assert [a["incident_key"] for a in alerts if a["kind"] == "change_control"] == [
        f"change_control:ungated:{plan_id}"
    ]
    assert alerts[-1]["runbook"] == "docs/runbooks/reviewed-changes.md"


def test_a_finance_change_in_dev_is_reviewed_with_affected_days_and_kpi_deltas(
    review_world: ReviewWorld,
) -> None:
    world = review_world
    channels = world.rows(
        "SELECT channel, COUNT(*) FROM marts_finance.revenue_ledger WHERE entry_type = 'sale' "
        "GROUP BY 1 ORDER BY 2, 1"
    )
    assert len(channels) >= 2, f"the world needs sales in two channels: {channels}"
    channel = str(channels[0][0])  # the smallest channel with sales
    expected = removed_channel_by_day(world, channel)
    removed_rows = world.rows(f"SELECT COUNT(*) FROM {DAILY} WHERE channel = ?", (channel,))[0][0]
    assert expected and removed_rows > 0

    before = world.prod_snapshot()
    add_filter(world.project / "models/marts/finance/revenue_daily.sql", f"channel <> '{channel}'")
    dev = world.sqlmesh("plan", "dev", "--auto-apply", "--no-prompts")
    assert dev.returncode == 0, dev.stdout[-3000:] + dev.stderr[-3000:]
    assert world.prod_snapshot() == before, "plan dev changed prod"

    made = world.brightcart(AUTHOR, "review", "dev", "--project", str(world.project))
    assert made.exit_code == 0, made.output
    review_id = latest_review(world)
    row = world.rows(
        "SELECT author, finance, report_dir, report_sha256, changed_models FROM ops.reviews "
        "WHERE review_id = ?",
        (review_id,),
    )[0]
    assert row[0] == AUTHOR and row[1] is True
    folder = Path(row[2])
    assert report_digest({n: (folder / n).read_bytes() for n in FILES}) == row[3]
    assert DAILY in str(row[4]).split(",")
    assert f"`{DAILY}`" in (folder / "review.md").read_text()
    assert "<html" in (folder / "review.html").read_text()

    doc = json.loads((folder / "review.json").read_text())
    daily = next(d for d in doc["diffs"] if d["name"] == DAILY)
    assert (daily["keys_removed"], daily["keys_added"]) == (removed_rows, 0)
    assert daily["rows_before"] - daily["rows_after"] == removed_rows
    assert sorted(daily["affected_days"]) == sorted(d.isoformat() for d in expected)
    by_day = {d["day"]: d["values"] for d in daily["kpi_days"]}
    for day, removed in expected.items():
        for kpi, value in removed.items():
            shown = Decimal(by_day[day.isoformat()][kpi]["delta"])
            assert shown == -value, f"{day} {kpi}: review says {shown}, the ledger says {-value}"
    # a bi view over the mart carries its KPI columns; the refund rate stays a ratio
    by_seller = {
        k["name"]: k["ratio"]
        for d in doc["diffs"]
        for k in d["kpis"]
        if d["name"] == "bi.revenue_by_seller"
    }
    assert (by_seller.get("gmv"), by_seller.get("refund_rate")) == (False, True), by_seller
    models = {m["name"]: m for m in doc["models"]}
    assert models[DAILY]["category"] == "breaking" and models[DAILY]["direct"]
    STATE.update(review_id=review_id, channel=channel)


def test_the_author_cannot_approve_and_a_finance_change_needs_the_finance_group(
    review_world: ReviewWorld,
) -> None:
    review_id = STATE["review_id"]
    by_author = review_world.brightcart(AUTHOR, "approve", review_id)
    assert by_author.exit_code == 1
    assert "segregation of duties" in by_author.output
    by_engineer = review_world.brightcart(ENGINEER, "approve", review_id)
    assert by_engineer.exit_code == 1
    assert "not in the finance group" in by_engineer.output
    assert review_world.rows(
        "SELECT COUNT(*) FROM ops.review_approvals WHERE review_id = ?", (review_id,)
    ) == [(0,)]


def test_an_unapproved_plan_prod_is_refused_and_prod_is_unchanged(
    review_world: ReviewWorld,
) -> None:
    world = review_world
    before = world.prod_snapshot()
    refusals = len(audit_events(world, "promotion_refused"))
    refused = world.sqlmesh("plan", "prod", "--auto-apply", "--no-prompts")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output[-3000:]
    assert "refused by the review gate" in output
    assert f"review {STATE['review_id']} covers this plan but nobody approved it" in output
    assert DAILY in output
    assert world.prod_snapshot() == before, "a refused promotion changed prod"
    assert len(audit_events(world, "promotion_refused")) == refusals + 1
    alerts = (world.settings.home / "alerts.jsonl").read_text().splitlines()
    assert not [a for a in alerts if '"lane_failure:transform"' in a], "a refusal is no failure"


def test_another_users_approval_lets_plan_prod_through(review_world: ReviewWorld) -> None:
    world = review_world
    review_id, channel = STATE["review_id"], STATE["channel"]
    approved = world.brightcart(FINANCE, "approve", review_id)
    assert approved.exit_code == 0, approved.output
    old_plan, _ = world.prod_state()
    promoted = world.sqlmesh("plan", "prod", "--auto-apply", "--no-prompts", actor=ENGINEER)
    assert promoted.returncode == 0, promoted.stdout[-3000:] + promoted.stderr[-3000:]
    plan_id, _ = world.prod_state()
    assert plan_id != old_plan
    assert world.rows(f"SELECT COUNT(*) FROM {DAILY} WHERE channel = ?", (channel,)) == [(0,)]
    chain = world.brightcart(AUTHOR, "audit", "show", plan_id)
    assert chain.exit_code == 0, chain.output
    for expected in (review_id, AUTHOR, FINANCE, ENGINEER, "apply", "publish", DAILY):
        assert expected in chain.output, expected


def test_a_finance_restatement_needs_an_approved_restatement_review(
    review_world: ReviewWorld,
) -> None:
    world = review_world
    # the ledger: an incremental finance model, restated for one day of bookings
    restate = ("--restate-model", LEDGER, "--start", "2026-11-01", "--end", "2026-11-01")
    before = world.prod_snapshot()
    refused = world.sqlmesh("plan", "prod", *restate, "--auto-apply", "--no-prompts")
    output = refused.stdout + refused.stderr
    assert refused.returncode != 0, output[-3000:]
    assert "restating finance marts needs an approved restatement review covering" in output
    assert f"{LEDGER} 2026-11-01 00:00..2026-11-02 00:00" in output
    assert world.prod_snapshot() == before, "a refused restatement changed prod"

    made = world.brightcart(AUTHOR, "review", "prod", *restate, "--project", str(world.project))
    assert made.exit_code == 0, made.output
    review_id = latest_review(world)
    assert world.brightcart(FINANCE, "approve", review_id).exit_code == 0
    applied = world.sqlmesh("plan", "prod", *restate, "--auto-apply", "--no-prompts")
    assert applied.returncode == 0, applied.stdout[-3000:] + applied.stderr[-3000:]
    gate = json.loads(audit_events(world, "promotion_gate")[-1][2])[0]
    assert (gate["outcome"], gate["restatement_review_id"]) == ("approved", review_id)


def test_reproduce_rebuilds_the_closed_month_byte_for_byte(review_world: ReviewWorld) -> None:
    world = review_world
    result = world.brightcart(AUTHOR, "reproduce", MONTH, "--project", str(world.project))
    assert result.exit_code == 0, result.output
    assert f"{MONTH} reproduces exactly" in result.output
    close_id = world.rows("SELECT close_id FROM ops.month_close WHERE month = ?", (MONTH,))[0][0]
    recorded = artifact.recorded(Warehouse(world.settings, "local"), str(close_id))
    assert {a.model for a in recorded} >= {DAILY, "marts_finance.revenue_ledger"}
    rebuilt = newest(world.settings.home / "reproduce" / MONTH)
    for item in recorded:
        assert (rebuilt / f"{item.model}.csv").read_bytes() == Path(item.location).read_bytes()
    # prod's revenue_daily is no longer the version recorded at close (the channel is gone), so
    # an identical rebuild proves the recorded version was used, not today's
    today = artifact.export(Warehouse(world.settings, "local"), DAILY, "revenue_date", MONTH, DAILY)
    closed = next(a for a in recorded if a.model == DAILY)
    assert today.sha256 != closed.sha256
    assert world.rows(
        "SELECT identical FROM ops.month_close_reproductions ORDER BY reproduced_at"
    ) == [(True,)]


def test_a_late_refund_landed_after_close_shows_as_differing_rows(
    review_world: ReviewWorld,
) -> None:
    world = review_world
    clock = world_clock(world)
    with world.source() as con:
        line = con.execute(
            "SELECT o.order_id, i.order_item_id, o.paid_at FROM shop.orders o "
            "JOIN shop.order_items i USING (order_id) WHERE o.paid_at < %s "
            "AND o.status <> 'cancelled' ORDER BY o.paid_at LIMIT 1",
            (clock - timedelta(hours=12),),
        ).fetchone()
        assert line is not None
        top = con.execute("SELECT COALESCE(MAX(refund_id), 0) FROM shop.refunds").fetchone()
        refund_id = int(top[0]) + 1 if top else 1
        refunded_at = line[2] + timedelta(hours=1)
        stamp = (clock + timedelta(minutes=1)).isoformat()  # the source's simulated clock
        con.execute("SELECT set_config('brightcart.now', %s, false)", (stamp,))
        con.execute(
            "INSERT INTO shop.refunds (refund_id, order_id, order_item_id, refund_type, amount, "
            "reason, refunded_at, created_at, updated_at) VALUES "
            "(%s, %s, %s, 'partial', 1.23, 'late goodwill refund', %s, %s, %s)",
            (refund_id, line[0], line[1], refunded_at, refunded_at, refunded_at),
        )
        # the shop's heartbeat at the end of that hour: the hour is complete once landed, so the
        # ledger books the refund (known at its entry, dated back at refunded_at)
        hour_end = clock.replace(minute=0, second=0, microsecond=0) + timedelta(hours=1)
        beat = hour_end - timedelta(seconds=1)
        con.execute("SELECT set_config('brightcart.now', %s, false)", (beat.isoformat(),))
        con.execute(
            "INSERT INTO shop.heartbeat (writer, beat_at) VALUES ('generator', %s) "
            "ON CONFLICT (writer) DO UPDATE SET beat_at = EXCLUDED.beat_at",
            (beat,),
        )
    landed = run_lane(world.settings, "shop-lane", "dev", attempts=2, backoff_seconds=2)
    assert landed.status == "succeeded", landed.error

    result = world.brightcart(AUTHOR, "reproduce", MONTH, "--project", str(world.project))
    assert result.exit_code == 1, result.output
    rebuilt = newest(world.settings.home / "reproduce" / MONTH)
    differences = (rebuilt / "differences.txt").read_text().splitlines()
    assert f"marts_refunds.refunds: only now: refund_id={refund_id}," in "\n".join(differences)
    ledger = [d for d in differences if d.startswith("marts_finance.revenue_ledger: only now:")]
    assert len(ledger) == 1 and "entry_type=refund" in ledger[0] and "amount=-1.23" in ledger[0]
    day = refunded_at.date().isoformat()
    daily = [d for d in differences if d.startswith(f"{DAILY}: changed revenue_date={day},")]
    assert len(daily) == 1, differences
    changes = daily[0].split(": ", 2)[2].split("; ")
    refunds_change = next(p for p in changes if p.startswith("refunds "))
    before, after = (Decimal(x) for x in refunds_change.split(" ", 1)[1].split(" -> "))
    assert after - before == Decimal("1.23")
    assert "raw_shop.refunds: 1 rows landed after the close" in result.output
    assert world.rows(
        "SELECT identical FROM ops.month_close_reproductions ORDER BY reproduced_at"
    ) == [(True,), (False,)]
