"""Backfill one source for a window: re-extract it beside the lane's state, restate the window.

* shop: the shop-lane job with `--full-refresh --state-id-suffix backfill` (Meltano neither
  reads nor moves the hourly lane's bookmark) and tap-postgres `custom_where_clauses`
  `updated_at >= start AND updated_at < end` on every stream.
* events, marketing, crm: their taps only know a start (`start_date`), so the re-extract reads
  from `start` onwards under a separate state id; only the window is restated.

The loader appends only versions it does not hold, so a second backfill of the same window
inserts nothing, and restating the same interval recomputes the same rows: idempotent.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, time

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from brightcart_ops.lanes import rows_loaded_since
from brightcart_ops.meltano_window import (
    SHOP_TABLES,
    WindowRun,
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


def _start_only(variable: str) -> Callable[[datetime, datetime], dict[str, str]]:
    return lambda start, _end: {variable: start.isoformat()}


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
            _start_only("TAP_BRIGHTCART_EVENTS_START_DATE"),
        ),
        Source(
            "marketing",
            "marketing-lane",
            ("staging.stg_marketing__ad_spend",),
            _start_only("TAP_S3_CSV_START_DATE"),
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
            _start_only("TAP_SALESFORCE_START_DATE"),
        ),
    )
}


@dataclass
class BackfillResult:
    source: str
    rows_inserted: int
    restated: bool


def backfill(
    settings: Settings,
    source: str,
    start: date,
    end: date,
    environment: str = "dev",
    restate_models: bool = True,
    console: Console | None = None,
) -> BackfillResult:
    """Re-extract `source` for [start, end) and restate its models for the same days."""
    if source not in SOURCES:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(SOURCES)}")
    if end <= start:
        raise ValueError(f"--end {end} must be after --start {start} (the end is exclusive)")
    spec = SOURCES[source]
    window = (datetime.combine(start, time.min, UTC), datetime.combine(end, time.min, UTC))
    warehouse = Warehouse(settings)
    started = utcnow()
    with Progress(
        SpinnerColumn(),
        TextColumn("{task.description}"),
        TimeElapsedColumn(),
        console=console or Console(stderr=True),
    ) as progress:
        task = progress.add_task(f"{source}: re-extracting {start}..{end}", total=2)
        run_window(
            settings,
            WindowRun(
                spec.job,
                env=spec.overrides(*window),
                args=["--full-refresh", "--state-id-suffix", "backfill"],
                label=f"backfill-{start}-{end}",
                lane=source,
            ),
            environment,
        )
        inserted = rows_loaded_since(warehouse, source, started)
        progress.update(task, advance=1, description=f"{source}: {inserted} new versions landed")
        if restate_models:
            progress.update(task, description=f"{source}: restating {len(spec.models)} models")
            last_day = date.fromordinal(end.toordinal() - 1)
            restate(settings, spec.models, start, last_day, environment)
        progress.update(task, advance=1, description=f"{source}: backfill {start}..{end} done")
    return BackfillResult(source, inserted, restate_models)
