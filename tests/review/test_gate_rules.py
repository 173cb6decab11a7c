"""The promotion gate's rules on real ops tables (DuckDB), without SQLMesh plans: which approvals
count, restatements, emergencies, gate modes, approver groups (IAM through moto's server), and
how differing artifact rows are named."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path

import boto3
import pytest

from brightcart_ops.alerts import Alerter
from brightcart_ops.audit_trail import verify_chain
from brightcart_ops.closing.artifact import differing_rows
from brightcart_ops.review.chain import check
from brightcart_ops.review.gate import PlanFacts, decide, gate_mode, record
from brightcart_ops.review.policy import parse
from brightcart_ops.review.rules import approval_problems
from brightcart_ops.review.store import (
    ApprovalRecord,
    ReviewRecord,
    ReviewStore,
    fingerprint_digest,
)
from brightcart_ops.warehouse import Warehouse
from brightcart_world.settings import Settings

NOW = datetime(2026, 11, 20, 12, tzinfo=UTC)
DAILY = '"warehouse"."marts_finance"."revenue_daily"'
ORDERS = '"warehouse"."marts_orders"."orders"'
PROD = {DAILY: "111", ORDERS: "222"}
CHANGED = {DAILY: "333", ORDERS: "222"}
POLICY = parse(
    {
        "finance_group": "finance",
        "groups": {
            "finance": ["fiona", "arn:aws:sts::*:assumed-role/FinanceApprover/*"],
            "data_engineering": ["alice", "bob"],
        },
        "finance_marts": {"schemas": ["marts_finance"], "owners": ["finance_data"]},
        "approval_valid_days": 14,
    }
)
DAY_MS = 86_400_000
NOV_2 = int(datetime(2026, 11, 2, tzinfo=UTC).timestamp() * 1000)


@pytest.fixture
def store(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[ReviewStore]:
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    yield ReviewStore(Warehouse(Settings(home=tmp_path), "local"))


def review(
    store: ReviewStore,
    target: dict[str, str],
    base: dict[str, str] = PROD,
    kind: str = "change",
    author: str = "alice",
    restatements: dict[str, list[int]] | None = None,
) -> ReviewRecord:
    record = ReviewRecord(
        kind=kind,
        environment="dev" if kind == "change" else "prod",
        author=author,
        author_source="env",
        git_commit="abc",
        git_author="alice@brightcart.example",
        plan_id=uuid.uuid4().hex,
        base_digest=fingerprint_digest(base),
        target_digest=fingerprint_digest(target),
        target_fingerprints=target,
        restatements=restatements or {},
        finance=True,
        changed_models=["marts_finance.revenue_daily"],
        summary=[],
        report_sha256="f" * 64,
        report_dir="/nowhere",
        created_at=NOW - timedelta(hours=2),
    )
    store.add_review(record)
    return record


def approve(store: ReviewStore, record: ReviewRecord, approver: str, age_days: int = 0) -> None:
    store.add_approval(
        ApprovalRecord(
            review_id=record.review_id,
            approver=approver,
            approver_source="env",
            approver_groups=POLICY.groups_of(approver),
            plan_id=record.plan_id,
            target_digest=record.target_digest,
            report_sha256=record.report_sha256,
            event_hash="e" * 64,
            approved_at=NOW - timedelta(days=age_days, hours=1),
        )
    )


def facts(
    target: dict[str, str], restatements: dict[str, tuple[int, int]] | None = None
) -> PlanFacts:
    return PlanFacts(
        plan_id="plan-1",
        environment="prod",
        target=target,
        versions={},
        restatements=restatements or {},
        owners={DAILY: "finance_data", ORDERS: "orders_team"},
    )


def test_a_change_needs_an_approved_review_of_exactly_its_fingerprints(store: ReviewStore) -> None:
    refused = decide(facts(CHANGED), PROD, store, POLICY, NOW)
    assert not refused.allowed and "no review covers these fingerprints" in refused.reasons[0]
    message = refused.message(facts(CHANGED), PROD)
    assert "marts_finance.revenue_daily" in message and "marts_orders.orders" not in message

    other = review(store, {DAILY: "999", ORDERS: "222"})  # reviewed other files
    approve(store, other, "fiona")
    assert not decide(facts(CHANGED), PROD, store, POLICY, NOW).allowed

    record = review(store, CHANGED)
    pending = decide(facts(CHANGED), PROD, store, POLICY, NOW)
    assert not pending.allowed
    assert f"review {record.review_id} covers this plan but nobody approved it" in pending.reasons
    approve(store, record, "fiona")
    approved = decide(facts(CHANGED), PROD, store, POLICY, NOW)
    assert approved.allowed and approved.outcome == "approved"
    assert (approved.review_id, approved.approver) == (record.review_id, "fiona")


def test_approvals_written_around_the_cli_are_judged_again(store: ReviewStore) -> None:
    record = review(store, CHANGED)
    approve(store, record, "alice")  # the author, by e-mail local part too
    approve(store, record, "bob")  # not finance
    approve(store, record, "fiona", age_days=20)  # too old
    decision = decide(facts(CHANGED), PROD, store, POLICY, NOW)
    assert not decision.allowed
    text = " ".join(decision.reasons)
    assert "segregation of duties" in text
    assert "bob is not in the finance group" in text
    assert "older than 14 days" in text


def test_a_review_made_against_another_prod_does_not_count(store: ReviewStore) -> None:
    record = review(store, CHANGED, base={DAILY: "000", ORDERS: "222"})
    approve(store, record, "fiona")
    decision = decide(facts(CHANGED), PROD, store, POLICY, NOW)
    assert not decision.allowed
    assert any("prod changed since" in r for r in decision.reasons)


def test_no_change_passes_and_finance_restatements_need_their_own_review(
    store: ReviewStore,
) -> None:
    assert decide(facts(PROD), PROD, store, POLICY, NOW).outcome == "no change"
    window = {DAILY: (NOV_2, NOV_2 + DAY_MS)}
    orders_only = decide(facts(PROD, {ORDERS: (NOV_2, NOV_2 + DAY_MS)}), PROD, store, POLICY, NOW)
    assert orders_only.allowed  # not a finance mart
    refused = decide(facts(PROD, window), PROD, store, POLICY, NOW)
    assert not refused.allowed
    assert "marts_finance.revenue_daily 2026-11-02 00:00..2026-11-03 00:00" in refused.reasons[-1]

    narrow = review(
        store, PROD, kind="restatement", restatements={DAILY: [NOV_2, NOV_2 + DAY_MS // 2]}
    )
    approve(store, narrow, "fiona")
    assert not decide(facts(PROD, window), PROD, store, POLICY, NOW).allowed  # window not covered
    wide = review(store, PROD, kind="restatement", restatements={DAILY: [NOV_2, NOV_2 + DAY_MS]})
    approve(store, wide, "fiona")
    decision = decide(facts(PROD, window), PROD, store, POLICY, NOW)
    assert decision.allowed and decision.restatement_review_id == wide.review_id


def test_a_restated_window_that_ran_to_the_present_stays_covered_as_the_clock_moves(
    store: ReviewStore,
) -> None:
    """SQLMesh restates the models below a restated one up to the present: a review made at
    10:xx saw the window end at 10:00; the plan applied at 12:00 asks up to 12:00."""
    made = NOW - timedelta(hours=2)  # when `review` records its reviews
    present = int(made.timestamp() * 1000)
    later = int(NOW.timestamp() * 1000)
    to_the_present = review(store, PROD, kind="restatement", restatements={DAILY: [NOV_2, present]})
    approve(store, to_the_present, "fiona")
    decision = decide(facts(PROD, {DAILY: (NOV_2, later)}), PROD, store, POLICY, NOW)
    assert decision.allowed and decision.restatement_review_id == to_the_present.review_id
    # an earlier start is not covered
    earlier = decide(facts(PROD, {DAILY: (NOV_2 - DAY_MS, later)}), PROD, store, POLICY, NOW)
    assert not earlier.allowed


def test_a_restated_window_that_ended_before_the_review_is_not_stretched(
    store: ReviewStore,
) -> None:
    made = NOW - timedelta(hours=2)
    ended = int((made - timedelta(hours=3)).timestamp() * 1000)  # a window the author ended
    past = review(store, PROD, kind="restatement", restatements={DAILY: [NOV_2, ended]})
    approve(store, past, "fiona")
    later = int(NOW.timestamp() * 1000)
    assert decide(facts(PROD, {DAILY: (NOV_2, ended)}), PROD, store, POLICY, NOW).allowed
    assert not decide(facts(PROD, {DAILY: (NOV_2, later)}), PROD, store, POLICY, NOW).allowed


def test_emergency_and_gate_modes(store: ReviewStore, monkeypatch: pytest.MonkeyPatch) -> None:
    emergency = decide(facts(CHANGED), PROD, store, POLICY, NOW, emergency="payments outage fix")
    assert emergency.allowed and emergency.outcome == "emergency"
    assert decide(facts(CHANGED), PROD, store, POLICY, NOW, mode="off").outcome == "gate off"
    assert decide(replace(facts(CHANGED), environment="dev"), PROD, store, POLICY, NOW).allowed
    monkeypatch.setenv("BRIGHTCART_PROMOTION_GATE", "off")
    assert (gate_mode("local"), gate_mode("redshift")) == ("off", "enforce")
    monkeypatch.delenv("BRIGHTCART_PROMOTION_GATE")
    assert gate_mode("local") == "off"
    monkeypatch.setenv("BRIGHTCART_PROMOTION_GATE", "enforce")
    assert gate_mode("postgres") == "enforce"


def test_approver_groups_by_pattern_and_by_iam_group(sources: Settings) -> None:
    arn = "arn:aws:sts::123456789012:assumed-role/FinanceApprover/fiona@brightcart.example"
    assert POLICY.in_group(arn, "finance")
    assert not POLICY.in_group(arn.replace("FinanceApprover", "DataEngineer"), "finance")

    iam = boto3.client("iam")
    group = f"finance-approvers-{uuid.uuid4().hex[:6]}"
    iam.create_group(GroupName=group)
    user = iam.create_user(UserName=f"frank-{uuid.uuid4().hex[:6]}")["User"]
    iam.add_user_to_group(GroupName=group, UserName=user["UserName"])
    policy = parse(
        {"groups": {"finance": [f"iam-group:{group}"]}, "finance_marts": {"schemas": ["x"]}}
    )
    assert policy.in_group(user["Arn"], "finance")
    assert not policy.in_group("arn:aws:iam::123456789012:user/mallory", "finance")
    record = ReviewRecord(
        "change", "dev", user["Arn"], "aws", "abc", "unknown", "p", "b", "t", {}, {}, True, [], []
    )
    assert "segregation of duties" in " ".join(approval_problems(record, user["Arn"], policy))


def test_differing_rows_are_paired_by_grain() -> None:
    header = "revenue_date,channel,refunds,net_revenue\n"
    closed = header + "2026-11-01,ios,0.00,10.00\n2026-11-01,web,1.00,20.00\n"
    now = header + "2026-11-01,ios,0.00,10.00\n2026-11-01,web,2.23,18.77\n2026-11-02,web,0,1\n"
    lines = differing_rows(closed.encode(), now.encode(), ("revenue_date", "channel"))
    assert lines == [
        "changed revenue_date=2026-11-01, channel=web: "
        "refunds 1.00 -> 2.23; net_revenue 20.00 -> 18.77",
        "only now: revenue_date=2026-11-02, channel=web, refunds=0, net_revenue=1",
    ]
    assert differing_rows(closed.encode(), closed.encode(), ("revenue_date",)) == []


def test_an_emergency_is_recorded_alerted_and_resolved_once_approved_after_the_fact(
    store: ReviewStore, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("BRIGHTCART_HOME", str(tmp_path))
    monkeypatch.setenv("BRIGHTCART_ACTOR", "alice")
    policy_file = tmp_path / "policy.yaml"
    policy_file.write_text(
        "groups: {finance: [fiona]}\nfinance_marts: {schemas: [marts_finance]}\n"
    )
    monkeypatch.setenv("BRIGHTCART_REVIEW_POLICY", str(policy_file))
    monkeypatch.delenv("BRIGHTCART_ALERT_TOPIC_ARN", raising=False)
    monkeypatch.delenv("BRIGHTCART_AUDIT_BUCKET", raising=False)
    plan = facts(CHANGED)
    decision = decide(plan, PROD, store, POLICY, NOW, emergency="INC-7: ledger double counts")
    record(decision, plan, store.warehouse)
    events = store.warehouse.query(
        "SELECT kind, plan_id, actor, audits FROM ops.audit_trail ORDER BY recorded_at"
    )
    assert [(e[0], e[1], e[2]) for e in events] == [("emergency_promotion", "plan-1", "alice")]
    assert "INC-7: ledger double counts" in str(events[0][3])
    alerts = Alerter(store.warehouse).open_incidents()
    assert [a[0] for a in alerts] == ["change_control:emergency:plan-1"]

    assert [f.problem for f in check(store.warehouse)] == [
        "emergency promotion without an approved review of its fingerprints"
    ]
    after_the_fact = review(store, CHANGED)
    approve(store, after_the_fact, "alice")  # the author's own approval does not count
    assert len(check(store.warehouse)) == 1
    approve(store, after_the_fact, "fiona")  # reviewed and approved the same day
    assert check(store.warehouse) == []
    assert Alerter(store.warehouse).open_incidents() == []
    assert verify_chain(store.warehouse) == []
