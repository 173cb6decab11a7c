"""The audit chain of one prod apply, and the after-the-fact check for ungated ones.

`chain(plan_id)` follows the links the audit trail holds: the gate's decision for the plan names
the review and the approval; the review names the commit and its author and summarises the diff;
the apply event names who applied it and the audits that failed; ops.publish_log names what was
published after it. `ungated_applies()` lists prod applies without a gate decision (applied with
the gate off, or around the project's SQLMesh config) and emergencies still without an approved
review; `check()` raises one change_control alert per such apply and resolves emergencies that
were approved after the fact.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from brightcart_ops.audit_trail import AUDIT_DDL, verify_chain
from brightcart_ops.opslog import SCHEMA, ensure
from brightcart_ops.review.gate import valid_approval
from brightcart_ops.review.policy import load as load_policy
from brightcart_ops.review.store import ReviewStore
from brightcart_ops.warehouse import Warehouse

GATE_KINDS = ("promotion_gate", "emergency_promotion", "promotion_refused")


@dataclass
class Step:
    step: str
    when: datetime | None
    who: str
    what: str


@dataclass
class Chain:
    plan_id: str
    steps: list[Step] = field(default_factory=list)
    intact: bool = True
    broken: list[str] = field(default_factory=list)


@dataclass
class Event:
    event_id: str
    recorded_at: datetime
    kind: str
    plan_id: str
    actor: str
    git_commit: str
    audits: list[dict[str, str]]
    audits_failed: int


def _events(warehouse: Warehouse, where: str, params: tuple[Any, ...]) -> list[Event]:
    ensure(warehouse, [AUDIT_DDL])
    rows = warehouse.query(
        "SELECT event_id, recorded_at, kind, plan_id, actor, git_commit, audits, audits_failed "
        f"FROM {SCHEMA}.audit_trail WHERE {where} ORDER BY recorded_at, event_id",
        params,
    )
    return [
        Event(
            str(r[0]),
            r[1],
            str(r[2]),
            str(r[3] or ""),
            str(r[4]),
            str(r[5]),
            json.loads(str(r[6])),
            int(r[7]),
        )
        for r in rows
    ]


def _control(event: Event) -> dict[str, str]:
    for item in event.audits:
        if "control" in item:
            return item
    return {}


def _publishes(warehouse: Warehouse, plan_id: str) -> list[tuple[Any, ...]]:
    if not warehouse.table_exists(SCHEMA, "publish_log"):
        return []
    return warehouse.query(
        f"SELECT published_at, dataset, decision, status, reason FROM {SCHEMA}.publish_log "
        "WHERE plan_id = ? ORDER BY published_at, dataset",
        (plan_id,),
    )


def chain(plan_id: str, warehouse: Warehouse) -> Chain:
    """Commit, author, review, diff summary, approver, gate, apply, audits, publishes."""
    result = Chain(plan_id)
    events = _events(warehouse, "plan_id = ?", (plan_id,))
    store = ReviewStore(warehouse)
    gate = next((e for e in events if e.kind in GATE_KINDS), None)
    control = _control(gate) if gate else {}
    review = store.review(control.get("review_id", "")) if control.get("review_id") else None
    if review is not None:
        result.steps.append(
            Step("commit", None, review.git_author, f"{review.git_commit} (git author)")
        )
        result.steps.append(
            Step(
                "review",
                review.created_at,
                review.author,
                f"review {review.review_id} of {review.environment} (plan {review.plan_id}): "
                f"{', '.join(review.changed_models) or '-'}; report {review.report_dir} "
                f"sha256 {review.report_sha256[:16]}",
            )
        )
        for line in review.summary:
            result.steps.append(Step("diff", None, "", line))
    approval = (
        store.approval(control.get("approval_id", "")) if control.get("approval_id") else None
    )
    if approval is not None:
        result.steps.append(
            Step(
                "approval",
                approval.approved_at,
                approval.approver,
                f"approval {approval.approval_id} (groups {', '.join(approval.approver_groups)}"
                f"; report sha256 {approval.report_sha256[:16]})",
            )
        )
    if control.get("restatement_review_id"):
        result.steps.append(
            Step("restatement", None, "", f"review {control['restatement_review_id']} approved")
        )
    for event in events:
        if event.kind in GATE_KINDS:
            details = control.get("reasons") if event is gate else _control(event).get("reasons")
            result.steps.append(
                Step(
                    "gate",
                    event.recorded_at,
                    event.actor,
                    f"{_control(event).get('outcome', event.kind)}"
                    + (f": {details}" if details else ""),
                )
            )
        elif event.kind in ("apply", "run"):
            failed = [a.get("audit", "") for a in event.audits if a.get("audit")]
            result.steps.append(
                Step(event.kind, event.recorded_at, event.actor, f"git {event.git_commit}")
            )
            result.steps.append(
                Step(
                    "audits",
                    None,
                    "",
                    "all blocking audits passed"
                    + (f"; non-blocking failures: {', '.join(failed)}" if failed else ""),
                )
            )
    for row in _publishes(warehouse, plan_id):
        result.steps.append(Step("publish", row[0], "", f"{row[1]}: {row[2]} {row[3]} ({row[4]})"))
    result.broken = verify_chain(warehouse)
    result.intact = not result.broken
    return result


@dataclass
class Finding:
    plan_id: str
    when: datetime
    actor: str
    problem: str


def ungated_applies(warehouse: Warehouse) -> list[Finding]:
    """Prod applies with no gate decision, and emergencies not yet approved after the fact."""
    events = _events(warehouse, "kind IN ('apply', 'emergency_promotion', 'promotion_gate')", ())
    gated = {e.plan_id for e in events if e.kind in ("promotion_gate", "emergency_promotion")}
    findings = [
        Finding(e.plan_id, e.recorded_at, e.actor, "applied to prod without a gate decision")
        for e in events
        if e.kind == "apply" and e.plan_id not in gated
    ]
    store = ReviewStore(warehouse)
    policy = load_policy()
    for e in events:
        if e.kind != "emergency_promotion":
            continue
        digest = _control(e).get("target_digest", "")
        approved = any(
            valid_approval(r, store, policy, None)[0] is not None
            for r in store.reviews_for(digest, "change")
        )
        if not approved:
            findings.append(
                Finding(
                    e.plan_id,
                    e.recorded_at,
                    e.actor,
                    "emergency promotion without an approved review of its fingerprints",
                )
            )
    return findings


def check(warehouse: Warehouse) -> list[Finding]:
    """Alert on every finding; resolve emergencies that have been approved since."""
    from brightcart_ops.alerts import Alert, Alerter

    alerter = Alerter(warehouse)
    findings = ungated_applies(warehouse)
    open_emergencies = {f.plan_id for f in findings if f.problem.startswith("emergency")}
    for finding in findings:
        prefix = "emergency" if finding.plan_id in open_emergencies else "ungated"
        alerter.raise_(
            Alert(
                kind="change_control",
                key=f"{prefix}:{finding.plan_id}",
                subject=f"prod plan {finding.plan_id} by {finding.actor}: {finding.problem}",
                detail="Review the change that is in prod now (`brightcart review`), have it "
                "approved, and find out how it got past the gate (`brightcart audit show "
                f"{finding.plan_id}`).",
            )
        )
    for key, _, _ in alerter.open_incidents():
        kind, _, rest = key.partition(":")
        if kind == "change_control" and rest.startswith("emergency:"):
            if rest.split(":", 1)[1] not in open_emergencies:
                alerter.resolve("change_control", rest, note="approved after the fact")
    return findings
