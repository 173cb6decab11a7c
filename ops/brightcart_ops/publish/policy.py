"""Which datasets to refresh now: change detection, then the BI tool's limits.

1. Unchanged upstream state (same digest as the last refresh) -> skip.
2. A refresh still running in the BI tool, or one started less than ``coalesce_minutes`` ago ->
   defer: the change stays pending and goes with the next trigger (the hourly run fires every hour,
   even when it has nothing to do).
3. The dataset's rolling-24 h quota is used up -> defer.
4. The rolling-hour cap over all datasets is reached -> defer, most urgent SLA first.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from brightcart_ops.publish.datasets import Dataset, DatasetMap
from brightcart_ops.publish.log import Decision, LastRefresh
from brightcart_ops.publish.state import Upstream


@dataclass(frozen=True)
class Candidate:
    dataset: Dataset
    upstream: Upstream | None


def changed_models(upstream: Upstream, last: LastRefresh | None) -> tuple[str, ...]:
    current = upstream.versions_json()
    before = last.versions if last else {}
    names = set(current) | set(before)
    return tuple(sorted(n for n in names if current.get(n) != before.get(n)))


def change_reason(upstream: Upstream, last: LastRefresh | None, changed: tuple[str, ...]) -> str:
    if last is None:
        return "first publish"
    before = last.versions
    new_versions = [
        m
        for m in changed
        if m not in before
        or m not in upstream.versions_json()
        or before[m].get("fingerprint") != upstream.versions_json()[m]["fingerprint"]
    ]
    new_data = [m for m in changed if m not in new_versions]
    parts = []
    if new_versions:
        parts.append("new versions: " + ", ".join(new_versions))
    if new_data:
        parts.append("new intervals: " + ", ".join(new_data))
    return "; ".join(parts) or "upstream changed"


def deadline(
    dataset: Dataset, upstream: Upstream | None, maps: DatasetMap, now: datetime
) -> datetime:
    """When the dataset's SLA would be missed without a refresh (for ordering under the cap)."""
    sla = maps.sla(dataset)
    if dataset.refresh == "ops-hourly":
        through = upstream.data_through if upstream else None
        return (through or now) + timedelta(minutes=sla.max_age_minutes)
    hour, minute = sla.due_hour_minute
    due = now.replace(hour=hour, minute=minute, second=0, microsecond=0)
    return due if now <= due else due + timedelta(days=1)


def _decision(
    ds: Dataset, up: Upstream, changed: tuple[str, ...], kind: str, reason: str, status: str
) -> Decision:
    return Decision(
        ds.name,
        ds.view,
        ds.dashboards,
        kind,
        reason,
        status,
        digest=up.digest,
        versions=up.versions_json(),
        changed=changed,
        data_through=up.data_through,
    )


def decide(
    candidates: list[Candidate],
    last: dict[str, LastRefresh],
    hour_count: int,
    day_counts: dict[str, int],
    maps: DatasetMap,
    now: datetime,
    in_flight: Callable[[Dataset, LastRefresh], bool] | None = None,
    force: bool = False,
) -> list[Decision]:
    limits = maps.limits
    decisions: list[Decision] = []
    wanted: list[tuple[datetime, Decision]] = []
    for candidate in candidates:
        ds, up = candidate.dataset, candidate.upstream
        if up is None:
            decisions.append(
                Decision(ds.name, ds.view, ds.dashboards, "skip", "view not in prod", "skipped")
            )
            continue
        previous = last.get(ds.name)
        changed = changed_models(up, previous)

        def make(kind: str, reason: str, status: str) -> Decision:
            return _decision(ds, up, changed, kind, reason, status)  # noqa: B023 - used at once

        if previous is not None and previous.digest == up.digest and not force:
            reason = f"unchanged since {previous.published_at.isoformat()}"
            decisions.append(make("skip", reason, "skipped"))
            continue
        reason = "forced" if force else change_reason(up, previous, changed)
        if previous is not None and in_flight is not None and in_flight(ds, previous):
            why = f"coalesced: refresh {previous.ingestion_id} still running; {reason}"
            decisions.append(make("defer", why, "deferred"))
            continue
        window = timedelta(minutes=limits.coalesce_minutes)
        if previous is not None and now - previous.published_at < window:
            why = (
                f"coalesced: refreshed at {previous.published_at.isoformat()} "
                f"(< {limits.coalesce_minutes:g} min); {reason}"
            )
            decisions.append(make("defer", why, "deferred"))
            continue
        if day_counts.get(ds.name, 0) >= limits.daily_quota_per_dataset:
            why = f"daily quota: {limits.daily_quota_per_dataset} refreshes in 24 h; {reason}"
            decisions.append(make("defer", why, "deferred"))
            continue
        wanted.append((deadline(ds, up, maps, now), make("refresh", reason, "pending")))
    budget = max(0, limits.max_refreshes_per_hour - hour_count)
    for position, (_, decision) in enumerate(sorted(wanted, key=lambda w: (w[0], w[1].dataset))):
        if position >= budget:
            decision.decision = "defer"
            decision.status = "deferred"
            decision.reason = (
                f"hourly cap: {limits.max_refreshes_per_hour} refreshes per hour; {decision.reason}"
            )
        decisions.append(decision)
    return decisions
