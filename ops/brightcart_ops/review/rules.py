"""Who may approve a review: segregation of duties and the finance group.

Both `brightcart approve` (before recording) and the promotion gate (before applying) ask the
same question, so a row written around the CLI is still judged by these rules.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from brightcart_ops.review.policy import Policy
from brightcart_ops.review.store import ReviewRecord


def _same_person(identity: str, other: str) -> bool:
    """Equal identities, or an identity equal to the local part of the other's e-mail."""
    a, b = identity.strip().casefold(), other.strip().casefold()
    if not a or not b or b == "unknown":
        return False
    return a == b or a == b.partition("@")[0] or b == a.partition("@")[0]


def authors(review: ReviewRecord) -> list[str]:
    return [a for a in (review.author, review.git_author) if a and a != "unknown"]


def approval_problems(
    review: ReviewRecord,
    approver: str,
    policy: Policy,
    approved_at: datetime | None = None,
    now: datetime | None = None,
) -> list[str]:
    """Why `approver` cannot approve `review` (empty: the approval stands)."""
    problems = []
    for author in authors(review):
        if _same_person(approver, author):
            problems.append(
                f"{approver} authored this change ({author}); segregation of duties requires "
                "an approval by someone else"
            )
            break
    if review.finance and not policy.in_group(approver, policy.finance_group):
        problems.append(
            f"{approver} is not in the {policy.finance_group} group, which must approve a "
            f"change to finance marts (members: {policy.describe(policy.finance_group)})"
        )
    if approved_at is not None and now is not None:
        if now - approved_at > timedelta(days=policy.approval_valid_days):
            problems.append(
                f"the approval of {approved_at:%Y-%m-%d} is older than "
                f"{policy.approval_valid_days} days; review and approve again"
            )
    return problems
