"""`brightcart review <env>`: the plan against prod and the data diff, as a report and an ops row.

The author is who runs the review (the identity the audit trail records); the git commit and its
author e-mail are recorded beside it. The review is also an event in the hash-chained audit trail.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from brightcart_ops.audit_trail import git_commit, git_output, identity, record_prod_event
from brightcart_ops.review import report
from brightcart_ops.review.datadiff import ModelDiff, diff_models
from brightcart_ops.review.planinfo import (
    PROD,
    PromotionSummary,
    promotion_summary,
    restatement_summary,
)
from brightcart_ops.review.policy import Policy
from brightcart_ops.review.policy import load as load_policy
from brightcart_ops.review.store import ReviewRecord, ReviewStore
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_ops.sqlmesh_context import close_context, open_context
from brightcart_ops.warehouse import Warehouse


@dataclass
class Restatement:
    models: Sequence[str]
    start: str
    end: str


@dataclass
class ReviewResult:
    record: ReviewRecord
    folder: Path
    diffs: list[ModelDiff]
    summary: PromotionSummary


def git_author(commit: str) -> str:
    """The author e-mail of a commit of the project, or unknown."""
    return "unknown" if commit == "unknown" else git_output("log", "-1", "--format=%ae", commit)


def _summarise(context: Any, environment: str, restate: Restatement | None, policy: Policy) -> Any:
    if restate is not None:
        return restatement_summary(context, restate.models, restate.start, restate.end, policy)
    return promotion_summary(context, environment, policy)


def create_review(
    environment: str,
    warehouse: Warehouse,
    project: Path = PROJECT_ROOT,
    gateway: str = "local",
    restate: Restatement | None = None,
    policy: Policy | None = None,
) -> ReviewResult:
    """Review `environment` against prod (or a prod restatement) and record it."""
    policy = policy or load_policy()
    context = open_context(project, gateway)
    try:
        summary = _summarise(context, environment, restate, policy)
        diffs = diff_models(context, summary) if summary.kind == "change" else []
    finally:
        close_context(context)
    author, source = identity(PROD)
    commit = git_commit()
    record = ReviewRecord(
        kind=summary.kind,
        environment=summary.environment,
        author=author,
        author_source=source,
        git_commit=commit,
        git_author=git_author(commit),
        plan_id=summary.plan_id,
        base_digest=summary.base_digest,
        target_digest=summary.target_digest,
        target_fingerprints=summary.target,
        restatements=summary.restatements,
        finance=summary.finance,
        changed_models=[c.name for c in summary.changes] + [x["model"] for x in summary.restated()],
        summary=[d.summary_line() for d in diffs],
    )
    folder = report.reviews_root(warehouse.settings) / record.review_id
    record.report_dir = str(folder)
    record.report_sha256 = report.write(
        folder, report.render(report.document(record, summary, diffs, policy))
    )
    ReviewStore(warehouse).add_review(record)
    record_prod_event(
        "review",
        record.plan_id,
        PROD,
        snapshots=[{"name": n, "fingerprint": f, "version": ""} for n, f in summary.target.items()],
        audits=[
            {
                "control": "review",
                "outcome": "recorded",
                "review_id": record.review_id,
                "report_sha256": record.report_sha256,
                "finance": str(record.finance).lower(),
            }
        ],
        warehouse=warehouse,
        settings=warehouse.settings,
    )
    return ReviewResult(record, folder, diffs, summary)
