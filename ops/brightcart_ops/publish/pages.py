"""One dashboard page, ready to render: tiles, charts, freshness and model versions.

Built from the local snapshots of the datasets the page reads (what the last successful publish
put there) and "now" on the business clock (a local world's clock, the wall clock in
production), so a page says how old its data is in the time its data lives in.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, Protocol

from brightcart_ops.publish.datasets import Dashboard, Dataset, DatasetMap
from brightcart_ops.publish.figures import (
    ChartData,
    Window,
    as_time,
    chart_data,
    floor,
    latest_periods,
    tile_value,
)
from brightcart_ops.publish.formatting import (
    change,
    format_duration,
    format_moment,
    format_value,
)
from brightcart_ops.publish.page_spec import ChartSpec, Tile, humanize


class SnapshotLike(Protocol):
    """What a page reads of a dataset snapshot (brightcart_ops.publish.adapters.local)."""

    rows: list[dict[str, Any]]
    versions: dict[str, Any]
    data_through: str | None
    refreshed_at: str
    truncated: bool


def age_text(now: datetime, through: datetime | None) -> str:
    """'2 h 10 min old', or '3 d ahead of the clock' when the clock is behind the data."""
    if through is None:
        return "unknown"
    if through > now:
        return f"{format_duration(through - now)} ahead of the clock"
    return f"{format_duration(now - through)} old"


def slug(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


def window_label(window: Window | None) -> str:
    if window is None:
        return "no data"
    if window.period == "hour":
        text = f"{window.start:%Y-%m-%d %H:%M}–{window.end:%H:%M} UTC"
    elif window.period == "month":
        text = f"{window.start:%b %Y}"
    else:
        text = f"{window.start:%a %Y-%m-%d}"
    return text if window.complete else f"{text}, to date"


@dataclass
class TileView:
    tile: Tile
    value: float | None
    previous: float | None
    window: Window | None
    value_text: str
    previous_text: str
    change: float | None
    change_text: str
    direction: str  # up, down, flat, none

    @property
    def key(self) -> str:
        return slug(self.tile.label)


def tile_view(tile: Tile, snapshot: SnapshotLike | None, dataset: Dataset, period: str) -> TileView:
    if snapshot is None or dataset.time_column is None:
        result = tile_value(tile.figure, [], dataset.time_column or "", period, None)
    else:
        through = as_time(snapshot.data_through) if snapshot.data_through else None
        result = tile_value(tile.figure, snapshot.rows, dataset.time_column, period, through)
    delta, delta_text = change(result.value, result.previous, tile.unit)
    if delta is None:
        direction = "none"
    else:
        direction = "flat" if abs(delta) < 1e-9 else ("up" if delta > 0 else "down")
    previous_window = result.window.previous() if result.window and result.window.complete else None
    previous_text = (
        f"{format_value(result.previous, tile.unit)} in {window_label(previous_window)}"
        if previous_window is not None and result.previous is not None
        else "no earlier period"
    )
    return TileView(
        tile=tile,
        value=result.value,
        previous=result.previous,
        window=result.window,
        value_text=format_value(result.value, tile.unit),
        previous_text=previous_text,
        change=delta,
        change_text=delta_text,
        direction=direction,
    )


@dataclass
class ChartView:
    spec: ChartSpec
    data: ChartData | None
    svg: str
    caption: str
    header: list[str] = field(default_factory=list)
    rows: list[list[tuple[str, float | None]]] = field(default_factory=list)

    @property
    def points(self) -> int:
        return self.data.points if self.data else 0


def _category_text(value: Any, grain: str | None) -> str:
    if isinstance(value, datetime):
        return format_moment(value, grain or "minute")
    return str(value).replace("_", " ")


def _table(
    data: ChartData, spec: ChartSpec
) -> tuple[list[str], list[list[tuple[str, float | None]]]]:
    """The chart's numbers as a table (rows of (text, raw value))."""
    if data.kind == "heatmap":
        header = [
            humanize(spec.rows or ""),
            *(f"{humanize(spec.columns or '')} {c}" for c in data.columns),
        ]
        rows = [
            [(_category_text(r, "month"), None)]
            + [(format_value(v, data.unit), v) for v in data.matrix[i]]
            for i, r in enumerate(data.categories)
        ]
        return header, rows
    first = "step" if data.kind == "funnel" else humanize(spec.by or spec.x or "time")
    header = [first, *(label for label, _ in data.series)]
    rows = []
    for i, category in enumerate(data.categories):
        cells: list[tuple[str, float | None]] = [(_category_text(category, data.grain), None)]
        for _, values in data.series:
            value = values[i] if i < len(values) else None
            cells.append((format_value(value, data.unit), value))
        rows.append(cells)
    return header, rows


def _span(snapshot: SnapshotLike, dataset: Dataset, last: int | None = None) -> str:
    if dataset.time_column is None:
        return ""
    rows = snapshot.rows
    if last and dataset.grain:
        rows = latest_periods(rows, dataset.time_column, dataset.grain, last)
    times = [as_time(r.get(dataset.time_column)) for r in rows]
    present = [t for t in times if t is not None]
    if not present:
        return ""
    grain = dataset.grain or "day"
    first, final = format_moment(min(present), grain), format_moment(max(present), grain)
    return first if first == final else f"{first} to {final}"


def chart_view(spec: ChartSpec, snapshot: SnapshotLike | None, dataset: Dataset) -> ChartView:
    if snapshot is None or not snapshot.rows:
        return ChartView(spec, None, "", "no data published yet")
    data = chart_data(spec, snapshot.rows, dataset.time_column, dataset.grain)
    if data.points == 0:
        return ChartView(spec, data, "", "no rows in the published data")
    through = as_time(snapshot.data_through) if snapshot.data_through else None
    in_progress = ""
    if data.kind == "timeseries" and through is not None and data.grain:
        data.partial_from = floor(through, data.grain)
        if data.categories and max(data.categories) >= data.partial_from:
            moment = format_moment(data.partial_from, data.grain)
            in_progress = f"; from {moment} still in progress (pale or dashed)"
    column_label = humanize(spec.columns or "")
    # matplotlib takes 0.4 s to import on an idle machine (1.4 s under load): only a publish
    # that draws a page pays for it
    from brightcart_ops.publish.charts import svg_chart

    svg = svg_chart(data, spec.title, spec.style, column_label)
    span = _span(snapshot, dataset, spec.last)
    if spec.last and dataset.grain:
        scope = f"last {spec.last} {dataset.grain}s"
    else:
        scope = "per period" if spec.kind == "timeseries" else "over the whole window"
    caption = f"{scope}, {span}" if span else scope
    caption += in_progress
    if spec.note:
        caption = f"{caption}. {spec.note}"
    header, rows = _table(data, spec)
    return ChartView(spec, data, svg, caption, header, rows)


@dataclass
class DatasetStatus:
    dataset: Dataset
    snapshot: SnapshotLike | None
    data_through: datetime | None
    refreshed_at: datetime | None
    age: str
    versions: list[dict[str, str]]


def dataset_status(dataset: Dataset, snapshot: SnapshotLike | None, now: datetime) -> DatasetStatus:
    if snapshot is None:
        return DatasetStatus(dataset, None, None, None, "not published yet", [])
    through = as_time(snapshot.data_through) if snapshot.data_through else None
    refreshed = as_time(snapshot.refreshed_at) if snapshot.refreshed_at else None
    age = age_text(now, through)
    versions = [
        {
            "model": model,
            "fingerprint": str(info.get("fingerprint", "")),
            "version": str(info.get("version", "")),
            "interval_end": format_moment(as_time(info["interval_end"]))
            if info.get("interval_end")
            else "view",
        }
        for model, info in sorted((snapshot.versions or {}).items())
    ]
    return DatasetStatus(dataset, snapshot, through, refreshed, age, versions)


@dataclass
class PageView:
    name: str
    dashboard: Dashboard
    tiles: list[TileView]
    charts: list[ChartView]
    datasets: list[DatasetStatus]
    now: datetime
    clock: str  # world or wall

    @property
    def data_through(self) -> datetime | None:
        known = [d.data_through for d in self.datasets if d.data_through is not None]
        return min(known) if known else None

    @property
    def age(self) -> str:
        return age_text(self.now, self.data_through)

    @property
    def stale(self) -> bool:
        through = self.data_through
        return through is None or self.now - through > timedelta(hours=26)


def build_page(
    maps: DatasetMap,
    dashboard: Dashboard,
    load: Callable[[str], SnapshotLike | None],
    now: datetime,
    clock: str,
    with_charts: bool = True,
) -> PageView:
    """The page of one dashboard; `with_charts=False` skips drawing (the index needs tiles)."""
    snapshots = {name: load(name) for name in dashboard.page.datasets}
    tiles = [
        tile_view(t, snapshots[t.dataset], maps.datasets[t.dataset], dashboard.page.period)
        for t in dashboard.page.tiles
    ]
    charts = (
        [
            chart_view(c, snapshots[c.dataset], maps.datasets[c.dataset])
            for c in dashboard.page.charts
        ]
        if with_charts
        else []
    )
    statuses = [
        dataset_status(maps.datasets[n], snapshots[n], now) for n in dashboard.page.datasets
    ]
    return PageView(dashboard.name, dashboard, tiles, charts, statuses, now, clock)
