"""The numbers behind a dashboard page, computed from a dataset snapshot's rows.

Pure functions over rows (dicts as the local snapshot stores them: ISO strings for times,
floats for money): headline tiles for the latest complete period against the one before, and
the data of every chart kind. Nothing here draws or formats; see charts.py and formatting.py.
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from functools import lru_cache
from typing import Any

from brightcart_ops.publish.page_spec import ChartSpec, Figure

Row = dict[str, Any]
MAX_SPLIT_SERIES = 6
NONE_LABEL = "(none)"


def _utc(value: datetime) -> datetime:
    """Aware UTC; a naive time is taken as UTC."""
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


@lru_cache(maxsize=1 << 18)
def _parsed(text: str) -> datetime:
    """An ISO string as an aware UTC datetime. A page reads each row's time once per tile and
    chart (a 55,000-row snapshot made half a million parses per render): each string is parsed
    once."""
    return _utc(datetime.fromisoformat(text))


def as_time(value: Any) -> datetime | None:
    """A row's time value (ISO string, date or datetime) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        return _parsed(value)
    if isinstance(value, datetime):
        return _utc(value)
    if isinstance(value, date):
        return datetime(value.year, value.month, value.day, tzinfo=UTC)
    raise TypeError(f"not a time value: {value!r}")


def floor(moment: datetime, period: str) -> datetime:
    if period == "hour":
        return moment.replace(minute=0, second=0, microsecond=0)
    if period == "day":
        return moment.replace(hour=0, minute=0, second=0, microsecond=0)
    return moment.replace(day=1, hour=0, minute=0, second=0, microsecond=0)


def shift(start: datetime, period: str, steps: int) -> datetime:
    """The start of the period `steps` periods after (or before) `start`."""
    if period == "hour":
        return start + timedelta(hours=steps)
    if period == "day":
        return start + timedelta(days=steps)
    month = start.month - 1 + steps
    return start.replace(year=start.year + month // 12, month=month % 12 + 1)


@dataclass(frozen=True)
class Window:
    start: datetime
    end: datetime
    period: str
    complete: bool  # False: the period in progress ("to date"), shown without a comparison

    def holds(self, moment: datetime) -> bool:
        return self.start <= moment < self.end

    def previous(self) -> Window:
        return Window(shift(self.start, self.period, -1), self.start, self.period, True)


def headline_window(
    times: Iterable[datetime], period: str, data_through: datetime | None
) -> Window | None:
    """The latest period wholly before `data_through` (when upstream data is complete).

    Without `data_through` the latest period present counts as complete. When the data starts
    after that period (a young world), the period in progress is shown "to date" instead.
    """
    present = sorted(times)
    if not present:
        return None
    if data_through is None:
        start = floor(present[-1], period)
        return Window(start, shift(start, period, 1), period, True)
    current = floor(data_through, period)
    latest = Window(shift(current, period, -1), current, period, True)
    if present[0] >= latest.end:
        return Window(current, shift(current, period, 1), period, False)
    return latest


def _matches(row: Row, where: Sequence[tuple[str, Any]]) -> bool:
    return all(str(row.get(column)) == str(value) for column, value in where)


def _number(value: Any) -> float | None:
    if value is None:
        return None
    return float(value)


def evaluate(figure: Figure, rows: Iterable[Row]) -> float | None:
    """sum(column) or sum(numerator) / sum(denominator) over the rows that match `where`."""
    matching = [r for r in rows if _matches(r, figure.where)]
    if figure.ratio:
        numerator, denominator = figure.ratio
        num = sum(_number(r.get(numerator)) or 0.0 for r in matching)
        den = sum(_number(r.get(denominator)) or 0.0 for r in matching)
        return num / den if den else None
    assert figure.column is not None
    values = [_number(r.get(figure.column)) for r in matching]
    present = [v for v in values if v is not None]
    return sum(present) if present else (0.0 if matching else None)


@dataclass(frozen=True)
class TileValue:
    value: float | None
    previous: float | None
    window: Window | None


def tile_value(
    figure: Figure, rows: list[Row], time_column: str, period: str, data_through: datetime | None
) -> TileValue:
    timed = [(as_time(r.get(time_column)), r) for r in rows if _matches(r, figure.where)]
    dated = [(t, r) for t, r in timed if t is not None]
    window = headline_window((t for t, _ in dated), period, data_through)
    if window is None:
        return TileValue(None, None, None)
    current = evaluate(figure, (r for t, r in dated if window.holds(t)))
    if current is None:
        current = None if figure.ratio else 0.0
    previous = None
    if window.complete:
        before = window.previous()
        earlier = [r for t, r in dated if before.holds(t)]
        if earlier or any(t < before.start for t, _ in dated):
            previous = evaluate(figure, earlier)
            if previous is None and not figure.ratio:
                previous = 0.0
    return TileValue(current, previous, window)


@dataclass
class ChartData:
    """What a chart draws; `categories` are x values (times) or labels, in drawing order."""

    kind: str
    unit: str
    categories: list[Any] = field(default_factory=list)
    series: list[tuple[str, list[float | None]]] = field(default_factory=list)
    columns: list[Any] = field(default_factory=list)  # heatmap columns
    matrix: list[list[float | None]] = field(default_factory=list)  # heatmap rows x columns
    stacked: bool = False
    grain: str | None = None  # timeseries: hour, day or month
    partial_from: datetime | None = None  # timeseries: periods from here on are in progress

    @property
    def points(self) -> int:
        if self.kind == "heatmap":
            return sum(1 for row in self.matrix for v in row if v is not None)
        return len(self.categories)


def _label(value: Any, none_label: str = NONE_LABEL) -> Any:
    return none_label if value is None or value == "" else value


def natural_key(value: Any) -> tuple[int, float, str]:
    """Numbers, and labels that start with one ('7-13 days'), in numeric order; then text."""
    if isinstance(value, int | float):
        return (0, float(value), "")
    text = "" if value is None else str(value)
    match = re.match(r"\s*(-?\d+(?:\.\d+)?)", text)
    if match:
        return (0, float(match.group(1)), text)
    return (1, 0.0, text)


def _order(keys: Iterable[Any], values: dict[Any, float | None], by: str) -> list[Any]:
    if by == "label":
        return sorted(keys, key=natural_key)
    return sorted(keys, key=lambda k: (-(values.get(k) or 0.0), str(k)))


def _group(rows: Iterable[Row], column: str) -> dict[Any, list[Row]]:
    groups: dict[Any, list[Row]] = defaultdict(list)
    for row in rows:
        groups[row.get(column)].append(row)
    return groups


def _time_axis(times: list[datetime], grain: str | None) -> list[datetime]:
    """Every period from the first to the last time (so gaps read as zero, not as nothing)."""
    if not times or grain is None:
        return sorted(set(times))
    axis, current, last = [], floor(min(times), grain), max(times)
    while current <= last:
        axis.append(current)
        current = shift(current, grain, 1)
    return axis


def timeseries(spec: ChartSpec, rows: list[Row], x: str, grain: str | None) -> ChartData:
    by_time: dict[datetime, list[Row]] = defaultdict(list)
    for row in rows:
        moment = as_time(row.get(x))
        if moment is not None:
            by_time[moment].append(row)
    axis = _time_axis(list(by_time), grain)
    data = ChartData("timeseries", spec.unit, categories=axis, grain=grain)
    if spec.split:
        figure = spec.series[0]
        totals = {
            key: evaluate(figure, group) or 0.0 for key, group in _group(rows, spec.split).items()
        }
        ranked = sorted(totals, key=lambda k: (-abs(totals[k]), str(k)))
        kept, rest = ranked[:MAX_SPLIT_SERIES], ranked[MAX_SPLIT_SERIES:]
        for key in kept:
            values = [
                evaluate(figure, [r for r in by_time.get(t, []) if r.get(spec.split) == key])
                for t in axis
            ]
            name = str(_label(key, spec.none_label)).replace("_", " ")
            data.series.append((name, [v or 0.0 for v in values]))
        if rest:
            values = [
                evaluate(figure, [r for r in by_time.get(t, []) if r.get(spec.split) in rest])
                for t in axis
            ]
            data.series.append(("other", [v or 0.0 for v in values]))
        data.stacked = spec.style == "bar"
        return data
    for figure in spec.series:
        values = [evaluate(figure, by_time.get(t, [])) for t in axis]
        if not figure.ratio:
            values = [v or 0.0 for v in values]
        data.series.append((figure.label, values))
    return data


def grouped(spec: ChartSpec, rows: list[Row]) -> ChartData:
    assert spec.by is not None
    groups = _group(rows, spec.by)
    first = spec.series[0]
    order = _order(groups, {k: evaluate(first, g) for k, g in groups.items()}, spec.order)
    data = ChartData("grouped", spec.unit, categories=[_label(k, spec.none_label) for k in order])
    for figure in spec.series:
        data.series.append((figure.label, [evaluate(figure, groups[k]) for k in order]))
    return data


def ranked(spec: ChartSpec, rows: list[Row]) -> ChartData:
    assert spec.by is not None
    figure = spec.series[0]
    groups = _group(rows, spec.by)
    values = {k: evaluate(figure, g) for k, g in groups.items()}
    present = [k for k, v in values.items() if v is not None]
    order = _order(present, values, spec.order)[: spec.top]
    return ChartData(
        "ranked",
        spec.unit,
        categories=[_label(k, spec.none_label) for k in order],
        series=[(figure.label, [values[k] for k in order])],
    )


def _maybe_time(value: Any) -> Any:
    """ISO date strings (cohort months) as datetimes, so they read as Oct 2026."""
    if isinstance(value, str):
        try:
            return as_time(value)
        except ValueError:
            return value
    return value


def heatmap(spec: ChartSpec, rows: list[Row]) -> ChartData:
    assert spec.rows is not None and spec.columns is not None
    figure = spec.series[0]
    row_keys = sorted(
        {r.get(spec.rows) for r in rows if r.get(spec.rows) is not None}, key=natural_key
    )
    col_keys = sorted(
        {r.get(spec.columns) for r in rows if r.get(spec.columns) is not None}, key=natural_key
    )
    cells: dict[tuple[Any, Any], list[Row]] = defaultdict(list)
    for row in rows:
        cells[(row.get(spec.rows), row.get(spec.columns))].append(row)
    matrix = [
        [evaluate(figure, cells[(rk, ck)]) if cells.get((rk, ck)) else None for ck in col_keys]
        for rk in row_keys
    ]
    return ChartData(
        "heatmap",
        spec.unit,
        categories=[_maybe_time(k) for k in row_keys],
        columns=col_keys,
        matrix=matrix,
        series=[(figure.label, [])],
    )


def funnel(spec: ChartSpec, rows: list[Row]) -> ChartData:
    values = [evaluate(step, rows) for step in spec.series]
    return ChartData(
        "funnel",
        spec.unit,
        categories=[step.label for step in spec.series],
        series=[("sessions", values)],
    )


def latest_periods(rows: list[Row], time_column: str, grain: str, count: int) -> list[Row]:
    """The rows of the latest `count` periods of the data (by its own latest time)."""
    times = [as_time(r.get(time_column)) for r in rows]
    present = [t for t in times if t is not None]
    if not present:
        return []
    since = shift(floor(max(present), grain), grain, -(count - 1))
    return [r for r, t in zip(rows, times, strict=True) if t is not None and t >= since]


def chart_data(
    spec: ChartSpec, rows: list[Row], time_column: str | None, grain: str | None
) -> ChartData:
    if spec.last and time_column and grain:
        rows = latest_periods(rows, time_column, grain, spec.last)
    if spec.kind == "timeseries":
        x = spec.x or time_column
        if x is None:
            raise ValueError(f"chart {spec.title!r}: the dataset has no time column; give x")
        return timeseries(spec, rows, x, grain)
    if spec.kind == "grouped":
        return grouped(spec, rows)
    if spec.kind == "ranked":
        return ranked(spec, rows)
    if spec.kind == "heatmap":
        return heatmap(spec, rows)
    return funnel(spec, rows)
