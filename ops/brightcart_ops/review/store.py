"""The ops tables of reviewed changes: ops.reviews and ops.review_approvals (append-only).

A review is identified by the fingerprints it reviewed: `target_digest` (every model of the
environment to promote, name -> SQLMesh fingerprint) and `base_digest` (prod when the review was
made). The promotion gate honours an approval only for a plan whose fingerprints hash to the same
target digest on top of the same prod.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from brightcart_ops.opslog import SCHEMA, ensure, new_id, utcnow
from brightcart_ops.warehouse import Warehouse

REVIEWS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.reviews (
    review_id VARCHAR NOT NULL,
    created_at TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,                  -- change (dev -> prod) or restatement (prod)
    environment VARCHAR NOT NULL,           -- the environment reviewed
    author VARCHAR NOT NULL,                -- who asked for the review (identity of the author)
    author_source VARCHAR NOT NULL,         -- env, aws, os
    git_commit VARCHAR NOT NULL,
    git_author VARCHAR NOT NULL,            -- author e-mail of that commit, or unknown
    plan_id VARCHAR NOT NULL,               -- SQLMesh plan id of the reviewed environment
    base_digest VARCHAR NOT NULL,           -- sha256 of prod's name -> fingerprint at review
    target_digest VARCHAR NOT NULL,         -- sha256 of the reviewed name -> fingerprint
    target_fingerprints VARCHAR(65535) NOT NULL,  -- JSON object name -> fingerprint
    restatements VARCHAR(65535) NOT NULL,   -- JSON object name -> [start_ms, end_ms]
    finance BOOLEAN NOT NULL,               -- a finance mart changes or is restated
    changed_models VARCHAR(65535) NOT NULL, -- comma-separated, as the report lists them
    summary VARCHAR(65535) NOT NULL,        -- one line per model: rows, keys, columns changed
    report_sha256 VARCHAR NOT NULL,         -- over review.json, review.md and review.html
    report_dir VARCHAR(1024) NOT NULL
)
"""
APPROVALS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.review_approvals (
    approval_id VARCHAR NOT NULL,
    review_id VARCHAR NOT NULL,
    approved_at TIMESTAMPTZ NOT NULL,
    approver VARCHAR NOT NULL,
    approver_source VARCHAR NOT NULL,
    approver_groups VARCHAR NOT NULL,       -- comma-separated policy groups of the approver
    plan_id VARCHAR NOT NULL,               -- the review's plan id
    target_digest VARCHAR NOT NULL,         -- the review's fingerprints
    report_sha256 VARCHAR NOT NULL,         -- the report the approver saw
    event_hash VARCHAR NOT NULL             -- the approval's event in ops.audit_trail
)
"""
DDL = [REVIEWS_DDL, APPROVALS_DDL]


def fingerprint_digest(fingerprints: Mapping[str, str]) -> str:
    """sha256 of the canonical name -> fingerprint list (an empty prod has a digest too)."""
    canonical = json.dumps(sorted(fingerprints.items()), separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


@dataclass
class ReviewRecord:
    kind: str
    environment: str
    author: str
    author_source: str
    git_commit: str
    git_author: str
    plan_id: str
    base_digest: str
    target_digest: str
    target_fingerprints: dict[str, str]
    restatements: dict[str, list[int]]
    finance: bool
    changed_models: list[str]
    summary: list[str]
    report_sha256: str = ""
    report_dir: str = ""
    review_id: str = field(default_factory=lambda: new_id()[:12])
    created_at: datetime = field(default_factory=utcnow)


@dataclass
class ApprovalRecord:
    review_id: str
    approver: str
    approver_source: str
    approver_groups: list[str]
    plan_id: str
    target_digest: str
    report_sha256: str
    event_hash: str
    approval_id: str = field(default_factory=lambda: new_id()[:12])
    approved_at: datetime = field(default_factory=utcnow)


REVIEW_COLUMNS = (
    "review_id, created_at, kind, environment, author, author_source, git_commit, git_author, "
    "plan_id, base_digest, target_digest, target_fingerprints, restatements, finance, "
    "changed_models, summary, report_sha256, report_dir"
)
APPROVAL_COLUMNS = (
    "approval_id, review_id, approved_at, approver, approver_source, approver_groups, plan_id, "
    "target_digest, report_sha256, event_hash"
)


def _aware(value: Any) -> datetime:
    moment = value if isinstance(value, datetime) else datetime.fromisoformat(str(value))
    return moment.replace(tzinfo=UTC) if moment.tzinfo is None else moment.astimezone(UTC)


def _review(row: Sequence[Any]) -> ReviewRecord:
    return ReviewRecord(
        review_id=str(row[0]),
        created_at=_aware(row[1]),
        kind=str(row[2]),
        environment=str(row[3]),
        author=str(row[4]),
        author_source=str(row[5]),
        git_commit=str(row[6]),
        git_author=str(row[7]),
        plan_id=str(row[8]),
        base_digest=str(row[9]),
        target_digest=str(row[10]),
        target_fingerprints=json.loads(str(row[11])),
        restatements=json.loads(str(row[12])),
        finance=bool(row[13]),
        changed_models=[m for m in str(row[14]).split(",") if m],
        summary=[s for s in str(row[15]).split("\n") if s],
        report_sha256=str(row[16]),
        report_dir=str(row[17]),
    )


def _approval(row: Sequence[Any]) -> ApprovalRecord:
    return ApprovalRecord(
        approval_id=str(row[0]),
        review_id=str(row[1]),
        approved_at=_aware(row[2]),
        approver=str(row[3]),
        approver_source=str(row[4]),
        approver_groups=[g for g in str(row[5]).split(",") if g],
        plan_id=str(row[6]),
        target_digest=str(row[7]),
        report_sha256=str(row[8]),
        event_hash=str(row[9]),
    )


class ReviewStore:
    """Reads and appends review and approval rows in the ops schema."""

    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        ensure(warehouse, DDL)

    def add_review(self, review: ReviewRecord) -> None:
        self.warehouse.execute(
            f"INSERT INTO {SCHEMA}.reviews ({REVIEW_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                review.review_id,
                review.created_at,
                review.kind,
                review.environment,
                review.author,
                review.author_source,
                review.git_commit,
                review.git_author,
                review.plan_id,
                review.base_digest,
                review.target_digest,
                json.dumps(review.target_fingerprints, sort_keys=True),
                json.dumps(review.restatements, sort_keys=True),
                review.finance,
                ",".join(review.changed_models),
                "\n".join(review.summary),
                review.report_sha256,
                review.report_dir,
            ),
        )

    def add_approval(self, approval: ApprovalRecord) -> None:
        self.warehouse.execute(
            f"INSERT INTO {SCHEMA}.review_approvals ({APPROVAL_COLUMNS}) VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            (
                approval.approval_id,
                approval.review_id,
                approval.approved_at,
                approval.approver,
                approval.approver_source,
                ",".join(approval.approver_groups),
                approval.plan_id,
                approval.target_digest,
                approval.report_sha256,
                approval.event_hash,
            ),
        )

    def review(self, review_id: str) -> ReviewRecord | None:
        rows = self.warehouse.query(
            f"SELECT {REVIEW_COLUMNS} FROM {SCHEMA}.reviews WHERE review_id = ?", (review_id,)
        )
        return _review(rows[0]) if rows else None

    def reviews_for(self, target_digest: str, kind: str | None = None) -> list[ReviewRecord]:
        rows = self.warehouse.query(
            f"SELECT {REVIEW_COLUMNS} FROM {SCHEMA}.reviews WHERE target_digest = ? "
            "ORDER BY created_at DESC",
            (target_digest,),
        )
        return [r for r in map(_review, rows) if kind is None or r.kind == kind]

    def approvals(self, review_id: str) -> list[ApprovalRecord]:
        rows = self.warehouse.query(
            f"SELECT {APPROVAL_COLUMNS} FROM {SCHEMA}.review_approvals WHERE review_id = ? "
            "ORDER BY approved_at DESC",
            (review_id,),
        )
        return [_approval(r) for r in rows]

    def approval(self, approval_id: str) -> ApprovalRecord | None:
        rows = self.warehouse.query(
            f"SELECT {APPROVAL_COLUMNS} FROM {SCHEMA}.review_approvals WHERE approval_id = ?",
            (approval_id,),
        )
        return _approval(rows[0]) if rows else None
