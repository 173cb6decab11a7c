"""Backfill a source (or all of them) for a window: re-extract it beside the lane's state, restate.

Each source's lane job runs with `--full-refresh --state-id-suffix backfill` (Meltano neither
reads nor moves the hourly lane's bookmark) and a bound on both ends of [start, end):

* shop: tap-postgres `custom_where_clauses` `updated_at >= start AND updated_at < end` on every
  stream (only the window is read).
* events: tap-brightcart-events `start_date`/`end_date`; only the hourly partitions
  `dt=/hour=` in the window are listed and read.
* marketing: tap-s3-csv `start_date` (files modified since start), and a `__filter__` stream map
  on target-redshift--marketing keeping rows whose `date` is in the window.
* crm: tap-salesforce `start_date` (SOQL `SystemModstamp >= start`), and a `__filter__` stream
  map on target-redshift--crm keeping records whose `SystemModstamp` is before the end.

The loader appends only versions it does not hold, so a second backfill of the same window
inserts nothing, and restating the same interval recomputes the same rows: idempotent.
`all` re-extracts every source in turn, then restates once.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from brightcart_ops.lanes import rows_loaded_since
from brightcart_ops.meltano_window import (
    SHOP_TABLES,
    WindowRun,
    loader_window,
    postgres_window,
    range_clause,
    run_window,
)
from brightcart_ops.opslog import utcnow
from brightcart_ops.restate import restate
from brightcart_ops.warehouse import Warehouse
from brightcart_world.settings import Settings


@dataclass(frozen=True)
class Source:
    name: str
    job: str
    models: tuple[str, ...]  # restated for the window (SQLMesh adds their downstream)
    overrides: Callable[[datetime, datetime], dict[str, str]]


def _shop(start: datetime, end: datetime) -> dict[str, str]:
    clause = range_clause("updated_at", [(start, end)])
    return postgres_window("tap-postgres", {t: clause for t in SHOP_TABLES})


CRM_OBJECTS = ("Account", "Contact", "Lead", "Campaign", "CampaignMember", "Opportunity")
ALL = "all"


def _events(start: datetime, end: datetime) -> dict[str, str]:
    return {
        "TAP_BRIGHTCART_EVENTS_START_DATE": start.isoformat(),
        "TAP_BRIGHTCART_EVENTS_END_DATE": end.isoformat(),
    }


def _marketing(start: datetime, end: datetime) -> dict[str, str]:
    # The spend file's `date` column is an ISO date: compared with the window's days.
    rows = loader_window(
        "target-redshift--marketing",
        {"ad_spend": "date"},
        start.date().isoformat(),
        end.date().isoformat(),
    )
    return {"TAP_S3_CSV_START_DATE": start.isoformat(), **rows}


def _crm(start: datetime, end: datetime) -> dict[str, str]:
    seconds = "%Y-%m-%dT%H:%M:%S"
    rows = loader_window(
        "target-redshift--crm",
        dict.fromkeys(CRM_OBJECTS, "SystemModstamp"),
        start.strftime(seconds),
        end.strftime(seconds),
    )
    return {"TAP_SALESFORCE_START_DATE": start.isoformat(), **rows}


SOURCES: dict[str, Source] = {
    s.name: s
    for s in (
        Source(
            "shop",
            "shop-lane",
            tuple(f"staging.stg_shop__{t}" for t in SHOP_TABLES),
            _shop,
        ),
        Source(
            "events",
            "events-lane",
            ("staging.stg_events__events", "staging.stg_events__quarantine"),
            _events,
        ),
        Source(
            "marketing",
            "marketing-lane",
            ("staging.stg_marketing__ad_spend",),
            _marketing,
        ),
        Source(
            "crm",
            "crm-lane",
            tuple(
                f"staging.stg_crm__{t}"
                for t in (
                    "accounts",
                    "contacts",
                    "leads",
                    "campaigns",
                    "campaign_members",
                    "opportunities",
                )
            ),
            _crm,
        ),
    )
}


@dataclass
class BackfillResult:
    source: str
    rows_inserted: int
    restated: bool
    inserted_by_source: dict[str, int] = field(default_factory=dict)


def backfill(
    settings: Settings,
    source: str,
    start: date,
    end: date,
    environment: str = "dev",
    restate_models: bool = True,
    console: Console | None = None,
) -> BackfillResult:
    """Re-extract `source` (or `all`) for [start, end) and restate its models for those days."""
    if source != ALL and source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)} or {ALL}")
    if end <= start:
        raise ValueError(f"--end {end} must be after --start {start} (the end is exclusive)")
    specs = list(SOURCES.values()) if source == ALL else [SOURCES[source]]
    window = (datetime.combine(start, time.min, UTC), datetime.combine(end, time.min, UTC))
    warehouse = Warehouse(settings)
    inserted: dict[str, int] = {}
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
    ) as progress:
        task = progress.add_task(f"{source}: backfill {start}..{end}", total=len(specs) + 1)
        for spec in specs:
            progress.update(task, description=f"{spec.name}: re-extracting {start}..{end}")
            started = utcnow()
            run_window(
                settings,
                WindowRun(
                    spec.job,
                    env=spec.overrides(*window),
                    args=["--full-refresh", "--state-id-suffix", "backfill"],
                    label=f"backfill-{start}-{end}",
                    lane=spec.name,
                ),
                environment,
            )
            inserted[spec.name] = rows_loaded_since(warehouse, spec.name, started)
            progress.update(
                task,
                advance=1,
                description=f"{spec.name}: {inserted[spec.name]} new versions landed",
            )
        if restate_models:
            models = tuple(m for spec in specs for m in spec.models)
            progress.update(task, description=f"{source}: restating {len(models)} models")
            last_day = date.fromordinal(end.toordinal() - 1)
            restate(settings, models, start, last_day, environment)
        progress.update(task, advance=1, description=f"{source}: backfill {start}..{end} done")
    return BackfillResult(source, sum(inserted.values()), restate_models, inserted)
