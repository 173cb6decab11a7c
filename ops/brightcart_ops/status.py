"""`brightcart status`: is every source landing and every dashboard within its SLA?

* Sources: each lane's high-water mark (brightcart_ops.landed) against its allowed lag (the lane
  registry's ``max_lag_minutes``; hourly lanes 90 min).
* Datasets: what the last publish put on the dashboards (ops.publish_log ``data_through``) against
  the dataset's SLA: ``ops-hourly`` data younger than 90 min (at risk from 75 %), ``exec-daily``
  yesterday complete by 06:00 UTC (at risk in the hour before).
* Recent failures (ops.pipeline_runs), failing audits and open incidents (ops.alerts).

:func:`check_slas` turns the same findings into alerts: ``upstream_outage:<lane>``,
``sla_at_risk:<dataset>``, ``sla_breached:<dataset>``; one per incident (the Alerter
deduplicates), resolved when the condition clears.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import typer
from rich.console import Console
from rich.table import Table

from brightcart_ops.alerts import Alert, Alerter
from brightcart_ops.cli_support import fail
from brightcart_ops.landed import high_water_marks
from brightcart_ops.metrics import FRESHNESS_LAG, SOURCE_UNREACHABLE, emit
from brightcart_ops.opslog import SCHEMA, business_clock, business_now
from brightcart_ops.publish.datasets import Dataset, DatasetMap, Sla
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.formatting import format_duration
from brightcart_ops.publish.lineage import dataset_lineage
from brightcart_ops.publish.log import LastRefresh, PublishLog
from brightcart_ops.publish.state import ProdState, read_prod_state
from brightcart_ops.registry import registry
from brightcart_ops.warehouse import Warehouse

OK, AT_RISK, BREACHED, NO_DATA = "ok", "at_risk", "breached", "no_data"


@dataclass
class SourceStatus:
    lane: str
    source: str
    high_water_mark: datetime | None
    lag_minutes: float | None
    max_lag_minutes: float
    state: str


@dataclass
class DatasetStatus:
    dataset: str
    view: str
    refresh: str
    dashboards: tuple[str, ...]
    published_at: datetime | None
    data_through: datetime | None
    state: str
    detail: str
    lanes: tuple[str, ...] = ()


@dataclass
class StatusReport:
    now: datetime
    sources: list[SourceStatus] = field(default_factory=list)
    datasets: list[DatasetStatus] = field(default_factory=list)
    recent_failures: list[dict[str, Any]] = field(default_factory=list)
    failing_audits: list[tuple[str, str, datetime]] = field(default_factory=list)
    open_incidents: list[tuple[str, str, datetime]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def healthy(self) -> bool:
        return (
            all(s.state in (OK, NO_DATA) for s in self.sources)
            and all(d.state == OK for d in self.datasets)
            and not self.open_incidents
        )


def minutes(value: float) -> str:
    """A lag or an allowance as a duration, as the dashboards show it: '1 h 5 min', '2 d 3 h'."""
    return format_duration(timedelta(minutes=value))


def source_state(lag: float | None, max_lag: float, at_risk_ratio: float) -> str:
    if lag is None:
        return NO_DATA
    if lag >= max_lag:
        return BREACHED
    return AT_RISK if lag >= at_risk_ratio * max_lag else OK


def hourly_state(sla: Sla, through: datetime | None, now: datetime) -> tuple[str, str]:
    if through is None:
        return BREACHED, "never published"
    age = (now - through).total_seconds() / 60
    detail = f"data {minutes(age)} old (SLA {minutes(sla.max_age_minutes)})"
    if age >= sla.max_age_minutes:
        return BREACHED, detail
    return (AT_RISK if age >= sla.at_risk_ratio * sla.max_age_minutes else OK), detail


def daily_state(sla: Sla, through: datetime | None, now: datetime) -> tuple[str, str]:
    """Yesterday must be complete (data through today's midnight) by the due time."""
    hour, minute = sla.due_hour_minute
    midnight = now.replace(hour=0, minute=0, second=0, microsecond=0)
    due_today = midnight.replace(hour=hour, minute=minute)
    last_due = due_today if now >= due_today else due_today - timedelta(days=1)
    next_due = last_due + timedelta(days=1)
    last_needed = last_due.replace(hour=0, minute=0)
    next_needed = next_due.replace(hour=0, minute=0)
    shown = through.isoformat() if through else "nothing"
    if through is None or through < last_needed:
        return BREACHED, f"due {last_due:%Y-%m-%d %H:%M} UTC, dashboards show data through {shown}"
    if through < next_needed and now >= next_due - timedelta(minutes=sla.at_risk_minutes):
        return AT_RISK, f"due {next_due:%Y-%m-%d %H:%M} UTC, data through {shown}"
    return OK, f"data through {shown}; next due {next_due:%Y-%m-%d %H:%M} UTC"


def dataset_state(
    dataset: Dataset, maps: DatasetMap, last: LastRefresh | None, now: datetime
) -> tuple[str, str]:
    sla = maps.sla(dataset)
    through = last.data_through if last else None
    if dataset.refresh == "ops-hourly":
        return hourly_state(sla, through, now)
    return daily_state(sla, through, now)


def _recent_failures(warehouse: Warehouse, since: datetime) -> list[dict[str, Any]]:
    if not warehouse.table_exists(SCHEMA, "pipeline_runs"):
        return []
    rows = warehouse.query(
        f"SELECT job, lane, environment, attempt, started_at, status, error "
        f"FROM {SCHEMA}.pipeline_runs WHERE status = ? AND started_at >= ? "
        "ORDER BY started_at DESC LIMIT 20",
        ("failed", since),
    )
    names = ("job", "lane", "environment", "attempt", "started_at", "status", "error")
    return [dict(zip(names, row, strict=True)) for row in rows]


def collect(
    warehouse: Warehouse | None = None,
    maps: DatasetMap | None = None,
    state: ProdState | None = None,
    now: datetime | None = None,
    gateway: str | None = None,
    read_state: bool = True,
    failures_window: timedelta = timedelta(hours=24),
) -> StatusReport:
    """Everything `brightcart status` shows, as data."""
    now = now or business_now()
    warehouse = warehouse or Warehouse(gateway_name=gateway)
    maps = maps or load_map()
    report = StatusReport(now=now)
    ratio = maps.slas["ops-hourly"].at_risk_ratio
    registered = registry().lanes
    marks = high_water_marks(warehouse, registered)
    for lane in registered.values():
        hwm = marks.get(lane.name)
        max_lag = lane.max_lag_minutes
        lag = (now - hwm).total_seconds() / 60 if hwm else None
        report.sources.append(
            SourceStatus(
                lane.name, lane.source, hwm, lag, max_lag, source_state(lag, max_lag, ratio)
            )
        )
    if state is None and read_state:
        try:
            state = read_prod_state(gateway)
        except Exception as error:  # noqa: BLE001 - status must report, not crash
            report.notes.append(f"SQLMesh state unavailable ({type(error).__name__}: {error})")
    last = PublishLog(warehouse).last_refreshes()
    outages = {s.lane for s in report.sources if s.state == BREACHED}
    for ds in maps.datasets.values():
        lanes: tuple[str, ...] = ()
        if state is not None:
            lanes = dataset_lineage(maps, state.dag, ds.name, set(state.versions)).lanes
        verdict, detail = dataset_state(ds, maps, last.get(ds.name), now)
        hit = sorted(outages & set(lanes))
        if hit and verdict != OK:
            detail += f"; upstream outage: {', '.join(hit)}"
        previous = last.get(ds.name)
        report.datasets.append(
            DatasetStatus(
                ds.name,
                ds.view,
                ds.refresh,
                ds.dashboards,
                previous.published_at if previous else None,
                previous.data_through if previous else None,
                verdict,
                detail,
                lanes,
            )
        )
    report.recent_failures = _recent_failures(warehouse, now - failures_window)
    alerter = Alerter(warehouse)
    report.open_incidents = alerter.open_incidents()
    report.failing_audits = [i for i in report.open_incidents if i[0].startswith("audit_failure:")]
    return report


def check_slas(
    warehouse: Warehouse | None = None,
    alerter: Alerter | None = None,
    report: StatusReport | None = None,
    **collect_options: Any,
) -> list[str]:
    """Raise (once per incident) or resolve SLA and outage alerts. Returns keys newly raised."""
    warehouse = warehouse or Warehouse()
    alerter = alerter or Alerter(warehouse)
    report = report or collect(warehouse=warehouse, **collect_options)
    raised: list[str] = []

    def fire(alert: Alert) -> None:
        if alerter.raise_(alert):
            raised.append(alert.incident_key)

    lags = [s.lag_minutes for s in report.sources if s.lag_minutes is not None]
    if lags:
        emit(FRESHNESS_LAG, max(lags))
    for source in report.sources:
        emit(SOURCE_UNREACHABLE, 1 if source.state == BREACHED else 0, {"Lane": source.lane})
        if source.state == BREACHED:
            fire(
                Alert(
                    kind="upstream_outage",
                    key=source.lane,
                    subject=f"{source.source} has not landed for "
                    f"{minutes(source.lag_minutes or 0)}",
                    detail=f"high-water mark {source.high_water_mark}; allowed "
                    f"{minutes(source.max_lag_minutes)}",
                )
            )
        elif source.state in (OK, AT_RISK):
            alerter.resolve("upstream_outage", source.lane, note="source is landing again")
    for ds in report.datasets:
        if ds.state == BREACHED:
            fire(
                Alert(
                    kind="sla_breached",
                    key=ds.dataset,
                    subject=f"{ds.dataset} ({', '.join(ds.dashboards)}) missed its "
                    f"{ds.refresh} SLA",
                    detail=ds.detail,
                )
            )
            alerter.resolve("sla_at_risk", ds.dataset, note="escalated to sla_breached")
        elif ds.state == AT_RISK:
            fire(
                Alert(
                    kind="sla_at_risk",
                    key=ds.dataset,
                    subject=f"{ds.dataset} ({', '.join(ds.dashboards)}) at risk of its SLA",
                    detail=ds.detail,
                    severity="warning",
                )
            )
        else:
            alerter.resolve("sla_at_risk", ds.dataset, note=ds.detail)
            alerter.resolve("sla_breached", ds.dataset, note=ds.detail)
    return raised


STYLE = {OK: "green", AT_RISK: "yellow", BREACHED: "bold red", NO_DATA: "dim"}


def _ts(value: datetime | None) -> str:
    return value.strftime("%Y-%m-%d %H:%M") if value else "-"


def render(report: StatusReport, console: Console | None = None) -> None:
    console = console or Console()
    clock = "the world's clock" if business_clock() == "world" else "the wall clock"
    sources = Table(title=f"Sources at {_ts(report.now)} UTC ({clock})")
    for column in ("lane", "source", "high-water mark", "lag", "allowed", "state"):
        sources.add_column(column)
    for s in report.sources:
        lag = minutes(s.lag_minutes) if s.lag_minutes is not None else "-"
        sources.add_row(
            s.lane,
            s.source,
            _ts(s.high_water_mark),
            lag,
            minutes(s.max_lag_minutes),
            f"[{STYLE[s.state]}]{s.state}[/]",
        )
    console.print(sources)
    datasets = Table(title="Dashboard datasets")
    for column in ("dataset", "refresh", "dashboards", "published", "state", "detail"):
        datasets.add_column(column)
    for d in report.datasets:
        datasets.add_row(
            d.dataset,
            d.refresh,
            ", ".join(d.dashboards),
            _ts(d.published_at),
            f"[{STYLE[d.state]}]{d.state}[/]",
            d.detail,
        )
    console.print(datasets)
    if report.recent_failures:
        failures = Table(title="Failed steps (24 h)")
        for column in ("started", "job", "lane", "attempt", "error"):
            failures.add_column(column)
        for f in report.recent_failures:
            error = (f["error"] or "").strip().splitlines()
            failures.add_row(
                _ts(f["started_at"]),
                f["job"],
                f["lane"] or "-",
                str(f["attempt"]),
                error[-1][:100] if error else "",
            )
        console.print(failures)
    if report.failing_audits:
        console.print(
            "[bold red]Failing audits:[/] " + ", ".join(k for k, _, _ in report.failing_audits)
        )
    if report.open_incidents:
        incidents = Table(title="Open incidents")
        for column in ("incident", "subject", "since"):
            incidents.add_column(column)
        for key, subject, since in report.open_incidents:
            incidents.add_row(key, subject, _ts(since))
        console.print(incidents)
    for note in report.notes:
        console.print(f"[yellow]note:[/] {note}")
    console.print("[green]all green[/]" if report.healthy else "[red]attention needed[/]")


def breached(report: StatusReport) -> list[str]:
    """Sources and datasets past their SLA."""
    return [s.lane for s in report.sources if s.state == BREACHED] + [
        d.dataset for d in report.datasets if d.state == BREACHED
    ]


def command(
    check: bool = typer.Option(
        False,
        "--check",
        help="also raise or resolve the SLA and outage alerts; exit 1 when something is breached",
    ),
) -> None:
    """Freshness per source and dataset against its SLA (lags measured on the same clock as the
    dashboards: a local world's, or the wall clock in production), failures and incidents."""
    warehouse = Warehouse()
    report = collect(warehouse=warehouse)
    render(report)
    if check:
        for key in check_slas(warehouse=warehouse, report=report):
            Console().print(f"[red]alert raised:[/] {key}")
        late = breached(report)
        if late:
            fail(f"past their SLA: {', '.join(late)}; see the runbooks in docs/runbooks/")
