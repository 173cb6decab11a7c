"""The review report: review.json (the record), review.md and review.html, and their hash.

The three files live in the review's folder ($BRIGHTCART_HOME/reviews/<review id>/, or
BRIGHTCART_REVIEW_DIR/<review id>/); with BRIGHTCART_AUDIT_BUCKET set they are also written to
that Object Lock bucket under reviews/<review id>/. `report_sha256` covers all three, so an
approval names exactly the report its approver saw.
"""

from __future__ import annotations

import hashlib
import json
import os
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from brightcart_ops.review.datadiff import MAX_DAYS_LISTED, ModelDiff
from brightcart_ops.review.planinfo import PromotionSummary, short
from brightcart_ops.review.policy import Policy
from brightcart_ops.review.store import ReviewRecord
from brightcart_ops.settings import Settings

FILES = ("review.json", "review.md", "review.html")


def reviews_root(settings: Settings) -> Path:
    return Path(os.environ.get("BRIGHTCART_REVIEW_DIR") or settings.home / "reviews")


def _text(value: Decimal | None) -> str:
    return "" if value is None else str(value)


def _diff_document(diff: ModelDiff) -> dict[str, Any]:
    additive = [k.name for k in diff.kpis if not k.ratio and k.name not in diff.columns_removed]
    changed_days = [d for d in diff.kpi_days if d.changed]
    return {
        "name": diff.name,
        "finance": diff.finance,
        "change": diff.change,
        "grain": diff.keys,
        "time_column": diff.time_column,
        "rows_before": diff.rows_before,
        "rows_after": diff.rows_after,
        "keys_added": diff.keys_added,
        "keys_removed": diff.keys_removed,
        "rows_compared": diff.rows_compared,
        "rows_changed": diff.rows_changed,
        "columns_changed": diff.columns_changed,
        "columns_added": diff.columns_added,
        "columns_removed": diff.columns_removed,
        "note": diff.note,
        "kpis": [{"name": k.name, "macro": k.macro, "ratio": k.ratio} for k in diff.kpis],
        "additive_kpis": additive,
        "ratio_kpis": [k.name for k in diff.kpis if k.ratio],
        "affected_days": [d.day.isoformat() for d in changed_days],
        "kpi_days": [
            {
                "day": d.day.isoformat(),
                "rows_before": d.rows_before,
                "rows_after": d.rows_after,
                "values": {
                    k: {
                        "before": _text(d.values[k][0]),
                        "after": _text(d.values[k][1]),
                        "delta": _text(d.delta(k)),
                        "changed": (d.delta(k) or 0) != 0,
                    }
                    for k in additive
                },
            }
            for d in changed_days
        ],
    }


def document(
    record: ReviewRecord, summary: PromotionSummary, diffs: list[ModelDiff], policy: Policy
) -> dict[str, Any]:
    """The review as one JSON-able document (what review.json holds and the templates show)."""
    changed = [c for c in summary.changes]
    if summary.kind == "restatement":
        title = "restate " + ", ".join(sorted({x["model"] for x in summary.restated()}))
    else:
        direct = [c.name for c in changed if c.direct]
        title = "change to " + ", ".join(direct[:4]) + (" …" if len(direct) > 4 else "")
    window = (
        f"{summary.window[0]:%Y-%m-%d %H:%M} to {summary.window[1]:%Y-%m-%d %H:%M} UTC"
        if summary.window
        else ""
    )
    names = sorted(set(summary.base) | set(summary.target))
    return {
        "review_id": record.review_id,
        "title": title,
        "kind": record.kind,
        "environment": record.environment,
        "plan_id": record.plan_id,
        "author": record.author,
        "author_source": record.author_source,
        "git_commit": record.git_commit,
        "git_author": record.git_author,
        "created_at": record.created_at.isoformat(timespec="seconds"),
        "finance": record.finance,
        "finance_group": policy.finance_group,
        "window": window,
        "base_digest": record.base_digest,
        "target_digest": record.target_digest,
        "models": [
            {
                "name": c.name,
                "change": c.change,
                "category": c.category,
                "direct": c.direct,
                "finance": c.finance,
                "new_data": c.new_data,
                "kind": c.kind,
            }
            for c in changed
        ],
        "restatements": [
            {
                "model": x["model"],
                "start": f"{x['start']:%Y-%m-%d %H:%M}",
                "end": f"{x['end']:%Y-%m-%d %H:%M}",
                "finance": x["finance"],
            }
            for x in summary.restated()
        ],
        "backfills": [
            {
                "model": b.model,
                "intervals": b.intervals,
                "start": f"{b.start:%Y-%m-%d %H:%M}",
                "end": f"{b.end:%Y-%m-%d %H:%M}",
            }
            for b in summary.backfills
        ],
        "diffs": [_diff_document(d) for d in diffs],
        "text_diffs": [{"name": c.name, "diff": c.text_diff} for c in changed if c.text_diff],
        "fingerprints": [
            {
                "name": short(n),
                "base": summary.base.get(n, "-"),
                "target": summary.target.get(n, "-"),
            }
            for n in names
            if summary.base.get(n) != summary.target.get(n)
        ],
        "target_fingerprints": summary.target,
    }


def _templates() -> Environment:
    return Environment(
        loader=PackageLoader("brightcart_ops.review", "templates"),
        autoescape=select_autoescape(["html"]),
        keep_trailing_newline=True,
    )


def _shown(doc: dict[str, Any]) -> dict[str, Any]:
    """The document as the templates show it: at most MAX_DAYS_LISTED days per mart."""
    shown = dict(doc)
    shown["diffs"] = []
    for diff in doc["diffs"]:
        days = diff["kpi_days"]
        shown["diffs"].append(
            diff
            | {
                "kpi_days": days[:MAX_DAYS_LISTED],
                "days_not_listed": max(0, len(days) - MAX_DAYS_LISTED),
            }
        )
    return shown


def render(doc: dict[str, Any]) -> dict[str, str]:
    env = _templates()
    shown = _shown(doc)
    return {
        "review.json": json.dumps(doc, indent=2, sort_keys=True) + "\n",
        "review.md": env.get_template("review.md.j2").render(r=shown),
        "review.html": env.get_template("review.html.j2").render(r=shown),
    }


def report_digest(files: dict[str, bytes]) -> str:
    """sha256 over the sha256 of each report file, in a fixed order."""
    lines = "".join(f"{name} {hashlib.sha256(files[name]).hexdigest()}\n" for name in FILES)
    return hashlib.sha256(lines.encode()).hexdigest()


def write(folder: Path, rendered: dict[str, str]) -> str:
    """Write the report files; returns their digest."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in FILES:
        (folder / name).write_text(rendered[name], encoding="utf-8")
    bucket = os.environ.get("BRIGHTCART_AUDIT_BUCKET")
    if bucket:
        _upload(bucket, folder.name, rendered)
    return report_digest({n: rendered[n].encode() for n in FILES})


def _upload(bucket: str, review_id: str, rendered: dict[str, str]) -> None:
    import boto3

    client = boto3.client("s3")
    for name in FILES:
        client.put_object(
            Bucket=bucket,
            Key=f"reviews/{review_id}/{name}",
            Body=rendered[name].encode(),
            ChecksumAlgorithm="SHA256",
        )


def read_digest(folder: Path, review_id: str) -> str:
    """The digest of the report as it is now (local folder, else the audit bucket)."""
    if all((folder / n).exists() for n in FILES):
        return report_digest({n: (folder / n).read_bytes() for n in FILES})
    bucket = os.environ.get("BRIGHTCART_AUDIT_BUCKET")
    if not bucket:
        raise FileNotFoundError(
            f"the report of review {review_id} is not in {folder} and no audit bucket is set"
        )
    import boto3

    client = boto3.client("s3")
    files = {
        n: client.get_object(Bucket=bucket, Key=f"reviews/{review_id}/{n}")["Body"].read()
        for n in FILES
    }
    return report_digest(files)
