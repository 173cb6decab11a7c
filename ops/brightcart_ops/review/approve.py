"""`brightcart approve <review-id>`: record an approval by someone other than the author.

The approver is the identity the audit trail records (BRIGHTCART_ACTOR, else the AWS caller in
production, else the OS user). The approval names the review's plan id, its fingerprints and the
hash of the report as it is when approved (a report changed since the review is refused), and is
an event in the hash-chained audit trail.
"""

from __future__ import annotations

from pathlib import Path

from brightcart_ops.audit_trail import identity, record_prod_event
from brightcart_ops.review import report
from brightcart_ops.review.planinfo import PROD
from brightcart_ops.review.policy import Policy
from brightcart_ops.review.policy import load as load_policy
from brightcart_ops.review.rules import approval_problems
from brightcart_ops.review.store import ApprovalRecord, ReviewStore
from brightcart_ops.warehouse import Warehouse


class ApprovalRefused(RuntimeError):
    """The approval was not recorded; the message says why."""


def approve(review_id: str, warehouse: Warehouse, policy: Policy | None = None) -> ApprovalRecord:
    policy = policy or load_policy()
    store = ReviewStore(warehouse)
    review = store.review(review_id)
    if review is None:
        raise ApprovalRefused(
            f"there is no review {review_id!r}: run `brightcart review <env>` and approve the id "
            "it prints"
        )
    approver, source = identity(PROD)
    problems = approval_problems(review, approver, policy)
    if problems:
        raise ApprovalRefused(f"review {review_id} not approved: " + "; ".join(problems))
    try:
        seen = report.read_digest(Path(review.report_dir), review_id)
    except (OSError, KeyError) as exc:
        raise ApprovalRefused(
            f"review {review_id} not approved: its report cannot be read ({exc})"
        ) from exc
    if seen != review.report_sha256:
        raise ApprovalRefused(
            f"review {review_id} not approved: the report in {review.report_dir} changed since "
            f"the review (sha256 {seen[:16]} vs recorded {review.report_sha256[:16]}); run "
            "`brightcart review` again"
        )
    approval = ApprovalRecord(
        review_id=review.review_id,
        approver=approver,
        approver_source=source,
        approver_groups=policy.groups_of(approver),
        plan_id=review.plan_id,
        target_digest=review.target_digest,
        report_sha256=review.report_sha256,
        event_hash="",
    )
    event = record_prod_event(
        "approval",
        review.plan_id,
        PROD,
        snapshots=[
            {"name": n, "fingerprint": f, "version": ""}
            for n, f in review.target_fingerprints.items()
        ],
        audits=[
            {
                "control": "approval",
                "outcome": "approved",
                "review_id": review.review_id,
                "approval_id": approval.approval_id,
                "report_sha256": review.report_sha256,
                "target_digest": review.target_digest,
                "groups": ",".join(approval.approver_groups),
            }
        ],
        warehouse=warehouse,
        settings=warehouse.settings,
    )
    approval.event_hash = event.event_hash if event else ""
    store.add_approval(approval)
    return approval
