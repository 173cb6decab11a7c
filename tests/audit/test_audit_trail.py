"""The SOX audit trail: ops rows, hash chain, JSON-lines export locally and to S3 Object Lock."""

from __future__ import annotations

import json
import uuid
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest

from brightcart_ops.audit_trail import record_prod_event, verify_chain
from brightcart_ops.warehouse import Warehouse
from brightcart_world.settings import Settings

SNAPSHOTS = [
    {"name": "marts_finance.revenue_daily", "fingerprint": "111", "version": "v1"},
    {"name": "staging.stg_shop__orders", "fingerprint": "222", "version": "v2"},
]
AUDITS = [
    {"model": "marts_finance.revenue_daily", "audit": "not_null", "outcome": "passed"},
    {"model": "marts_finance.revenue_daily", "audit": "ledger_matches", "outcome": "failed"},
]


@pytest.fixture
def world(sources: Settings, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    home = Path("/tmp/rec") / f"audit-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True)
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(home / "warehouse.duckdb"))
    monkeypatch.setenv("BRIGHTCART_ACTOR", "jane.controller")
    monkeypatch.setenv("BRIGHTCART_GIT_COMMIT", "abc123")
    monkeypatch.delenv("BRIGHTCART_AUDIT_BUCKET", raising=False)
    yield sources.model_copy(update={"home": home})
    import shutil

    shutil.rmtree(home, ignore_errors=True)


def test_prod_apply_is_recorded_and_exported(world: Settings) -> None:
    wh = Warehouse(world, "local")
    first = record_prod_event("apply", "plan-1", "prod", SNAPSHOTS, AUDITS, wh, world)
    second = record_prod_event("run", "run-2", "prod", SNAPSHOTS[:1], AUDITS[:1], wh, world)
    assert record_prod_event("apply", "plan-dev", "dev", SNAPSHOTS, AUDITS, wh, world) is None
    assert first is not None and second is not None

    rows = wh.query(
        "SELECT kind, plan_id, actor, actor_source, git_commit, snapshots, audits_failed "
        "FROM ops.audit_trail ORDER BY recorded_at"
    )
    assert [(r[0], r[1], r[2], r[3], r[4], r[6]) for r in rows] == [
        ("apply", "plan-1", "jane.controller", "env", "abc123", 1),
        ("run", "run-2", "jane.controller", "env", "abc123", 0),
    ]
    assert [s["fingerprint"] for s in json.loads(rows[0][5])] == ["111", "222"]
    assert second.prev_hash == first.event_hash
    assert verify_chain(wh) == []

    files = list((world.home / "audit").glob("audit-*.jsonl"))
    assert len(files) == 1
    lines = [json.loads(line) for line in files[0].read_text().splitlines()]
    assert [(x["plan_id"], x["event_hash"]) for x in lines] == [
        ("plan-1", first.event_hash),
        ("run-2", second.event_hash),
    ]


def test_a_changed_audit_row_breaks_the_chain(world: Settings) -> None:
    wh = Warehouse(world, "local")
    record_prod_event("apply", "plan-1", "prod", SNAPSHOTS, AUDITS, wh, world)
    event = record_prod_event("apply", "plan-2", "prod", SNAPSHOTS, AUDITS, wh, world)
    assert event is not None
    wh.execute("UPDATE ops.audit_trail SET actor = 'someone.else' WHERE plan_id = 'plan-1'")
    broken = verify_chain(wh)
    assert len(broken) == 1 and broken[0] != event.event_id


def test_prod_export_goes_to_an_object_locked_bucket(
    world: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    bucket = f"rec-audit-{uuid.uuid4().hex[:8]}"
    s3 = boto3.client("s3")
    s3.create_bucket(Bucket=bucket, ObjectLockEnabledForBucket=True)
    monkeypatch.setenv("BRIGHTCART_AUDIT_BUCKET", bucket)
    monkeypatch.setenv("BRIGHTCART_AUDIT_RETAIN_DAYS", "30")
    event = record_prod_event("apply", "plan-9", "prod", SNAPSHOTS, AUDITS, None, world)
    assert event is not None
    key = f"audit/dt={event.recorded_at.date().isoformat()}/{event.event_id}.jsonl"
    body = json.loads(s3.get_object(Bucket=bucket, Key=key)["Body"].read())
    assert body["plan_id"] == "plan-9" and body["event_hash"] == event.event_hash
    head = s3.head_object(Bucket=bucket, Key=key)
    assert head["ObjectLockMode"] == "COMPLIANCE"
    assert (head["ObjectLockRetainUntilDate"].date() - event.recorded_at.date()).days == 30
    assert not (world.home / "audit").exists()
    versions = s3.list_object_versions(Bucket=bucket)["Versions"]
    with pytest.raises(s3.exceptions.ClientError):
        s3.delete_object(Bucket=bucket, Key=key, VersionId=versions[0]["VersionId"])
