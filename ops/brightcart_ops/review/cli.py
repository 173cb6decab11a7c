"""CLI commands of reviewed changes: review, approve, and the audit chain (show, verify, check).

Mounted on the `brightcart` command with `register(app)`.
"""

from __future__ import annotations

import os
from pathlib import Path

import typer
from rich.console import Console

from brightcart_ops import cli_support as cli
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_ops.settings import load as load_settings
from brightcart_ops.warehouse import Warehouse

console = Console(soft_wrap=True, highlight=False)
audit_app = typer.Typer(help="The SOX audit trail: chain of a prod apply, integrity, gate check.")
PROJECT = typer.Option(PROJECT_ROOT, help="the SQLMesh project (like sqlmesh --paths)")
GATEWAY = typer.Option(
    None, help="SQLMesh gateway (default: BRIGHTCART_GATEWAY, else local)", show_default=False
)


def _gateway(value: str | None) -> str:
    return value or os.environ.get("BRIGHTCART_GATEWAY", "local")


def _warehouse(gateway: str) -> Warehouse:
    return Warehouse(load_settings(), gateway)


def review_command(
    environment: str = typer.Argument(..., help="the environment to review (dev), or prod"),
    restate_model: list[str] = typer.Option(
        None, "--restate-model", help="with prod: review a restatement of these models"
    ),
    start: str = typer.Option(None, help="with --restate-model: first day, e.g. 2026-11-02"),
    end: str = typer.Option(None, help="with --restate-model: last day, inclusive"),
    gateway: str = GATEWAY,
    project: Path = PROJECT,
) -> None:
    """Review a dev environment against prod: the plan and a data diff, as a report and a row."""
    from brightcart_ops.review.build import Restatement, create_review
    from brightcart_ops.review.planinfo import ReviewError
    from brightcart_ops.review.policy import PolicyError

    restate = None
    if restate_model:
        if environment != "prod" or not start or not end:
            cli.usage("--restate-model reviews a prod restatement: give `prod`, --start and --end")
        restate = Restatement(restate_model, start, end)
    elif environment == "prod":
        cli.usage("review a development environment (e.g. dev), not prod")
    name = _gateway(gateway)
    try:
        result = create_review(
            environment, _warehouse(name), project=project, gateway=name, restate=restate
        )
    except (ReviewError, PolicyError) as exc:
        cli.fail(str(exc))
    record = result.record
    console.print(f"review {record.review_id} of {record.environment} by {record.author}")
    for change in result.summary.changes:
        console.print(
            f"  {change.name}: {change.change} {change.category}".rstrip()
            + (" [finance]" if change.finance else "")
        )
    for line in record.summary:
        console.print(f"  {line}")
    console.print(f"report: {result.folder / 'review.html'}")
    console.print(f"approve (someone else): brightcart approve {record.review_id}")


def approve_command(
    review_id: str = typer.Argument(..., help="the review id `brightcart review` printed"),
    gateway: str = GATEWAY,
) -> None:
    """Approve a review: never its author; finance marts need the finance group."""
    from brightcart_ops.review.approve import ApprovalRefused, approve
    from brightcart_ops.review.policy import PolicyError

    try:
        approval = approve(review_id, _warehouse(_gateway(gateway)))
    except (ApprovalRefused, PolicyError) as exc:
        cli.fail(str(exc))
    console.print(
        f"review {review_id} approved by {approval.approver} (approval {approval.approval_id}); "
        "`sqlmesh plan prod` of these fingerprints may now be applied"
    )


@audit_app.command("show")
def show_command(
    plan_id: str = typer.Argument(..., help="the SQLMesh plan id of a prod apply"),
    gateway: str = GATEWAY,
) -> None:
    """Print the chain: commit, author, review, diff summary, approver, apply, audits, publishes."""
    from brightcart_ops.review.chain import chain

    result = chain(plan_id, _warehouse(_gateway(gateway)))
    if not result.steps:
        cli.usage(f"no audit-trail event names plan {plan_id}; check the plan id")
    console.print(f"audit chain of plan {plan_id}")
    for step in result.steps:
        when = f"{step.when:%Y-%m-%d %H:%M:%S}" if step.when else ""
        console.print(f"  {step.step:<11} {when:<19}  {step.who:<24} {step.what}")
    if result.intact:
        console.print("hash chain of the audit trail: intact")
    else:
        cli.fail(f"hash chain broken at events {', '.join(result.broken)}")


@audit_app.command("verify")
def verify_command(gateway: str = GATEWAY) -> None:
    """Check the audit trail's hash chain; exit 1 naming the first changed events."""
    from brightcart_ops.audit_trail import verify_chain

    broken = verify_chain(_warehouse(_gateway(gateway)))
    if broken:
        cli.fail(f"hash chain broken at events {', '.join(broken)}")
    console.print("hash chain of the audit trail: intact")


@audit_app.command("check")
def check_command(
    gateway: str = GATEWAY,
    exit_code: bool = typer.Option(
        True, "--exit-code/--no-exit-code", help="exit 1 on findings (the schedule alerts only)"
    ),
) -> None:
    """Alert on prod applies that passed no gate, and on emergencies not yet approved."""
    from brightcart_ops.review.chain import check

    findings = check(_warehouse(_gateway(gateway)))
    for f in findings:
        console.print(f"[red]{f.plan_id} ({f.when:%Y-%m-%d %H:%M}, {f.actor}): {f.problem}[/red]")
    if findings and exit_code:
        cli.fail(f"{len(findings)} prod apply(s) without a passed review gate (listed above)")
    console.print("every prod apply passed the review gate")


def register(parent: typer.Typer) -> None:
    """Mount `review`, `approve` and `audit` on the `brightcart` app."""
    parent.command("review")(review_command)
    parent.command("approve")(approve_command)
    parent.add_typer(audit_app, name="audit")
