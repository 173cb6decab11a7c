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

from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time

from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

from brightcart_ops.landed import rows_loaded_since
from brightcart_ops.meltano_window import (
    env_prefix,
    loader_window,
    postgres_window,
    range_clause,
    window_columns,
)
from brightcart_ops.opslog import utcnow
from brightcart_ops.registry import Lane, registry
from brightcart_ops.restate import restate
from brightcart_ops.runner import Window, run_window
from brightcart_ops.settings import Settings
from brightcart_ops.warehouse import Warehouse

ALL = "all"


def overrides(lane: Lane, start: datetime, end: datetime) -> dict[str, str]:
    """Meltano environment overrides bounding the lane's job to [start, end), per the
    registry's `backfill.bound` of the lane."""
    bound = lane.backfill
    if bound.bound == "tap_where":
        columns = window_columns(lane)
        clauses = {
            s.table: range_clause(columns[s.name], [(start, end)])
            for s in lane.streams
            if s.name in columns
        }
        return postgres_window(lane.extractor, lane, clauses)
    tap = env_prefix(lane.extractor)
    if bound.bound == "tap_dates":
        return {f"{tap}_START_DATE": start.isoformat(), f"{tap}_END_DATE": end.isoformat()}
    if bound.precision == "day":  # an ISO date column: compared with the window's days
        first, after = start.date().isoformat(), end.date().isoformat()
    else:
        seconds = "%Y-%m-%dT%H:%M:%S"
        first, after = start.strftime(seconds), end.strftime(seconds)
    rows = loader_window(lane.loader, window_columns(lane), first, after)
    return {f"{tap}_START_DATE": start.isoformat(), **rows}


@dataclass(frozen=True)
class Source:
    """A lane as backfill sees it: its job, the models restated, its window overrides."""

    name: str
    job: str
    models: tuple[str, ...]  # restated for the window (SQLMesh adds their downstream)
    lane: Lane

    def overrides(self, start: datetime, end: datetime) -> dict[str, str]:
        return overrides(self.lane, start, end)


def sources() -> dict[str, Source]:
    """Every lane of the registry, in declaration order."""
    return {
        lane.name: Source(lane.name, lane.job, lane.models, lane)
        for lane in registry().lanes.values()
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
    known = sources()
    if source != ALL and source not in known:
        raise ValueError(f"unknown source {source!r}; choose one of {', '.join(known)} or {ALL}")
    if end <= start:
        raise ValueError(f"--end {end} must be after --start {start} (the end is exclusive)")
    specs = list(known.values()) if source == ALL else [known[source]]
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
                spec.job,
                Window(
                    f"backfill-{start}-{end}",
                    env=spec.overrides(*window),
                    args=("--full-refresh", "--state-id-suffix", "backfill"),
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
