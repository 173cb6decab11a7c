"""What a dashboard page shows, as declared under ``dashboards:`` in ops/bi_datasets.yaml.

A page has headline tiles (one figure each, compared with the previous period) and charts. A
figure is either the sum of a column or a ratio of two sums (``ratio: [num, den]``): ratio KPIs
(AOV, refund rate, CAC, ROAS, conversion, retention) are defined in macros/kpis.py as a ratio of
aggregated figures, so re-aggregating them over several rows (hours, channels, sellers) is the
ratio of the sums, never a sum or mean of per-row ratios.

Chart kinds:

* ``timeseries``: one or more series over the dataset's time column (``style: bar`` or
  ``line``); ``split: <column>`` draws one stacked series per value of that column.
* ``grouped``: categories (``by``) with one bar per series side by side (attribution by rule).
* ``ranked``: horizontal bars, largest first (sellers, reasons), ``top`` of them.
* ``heatmap``: ``rows`` x ``columns`` coloured by one figure (cohort retention).
* ``funnel``: the sums of ``steps`` over the window, each as a share of the first.

``last: N`` keeps only the latest N periods of the dataset's grain (the last 48 hours of an
hourly dataset); otherwise a chart shows everything the dataset holds.

Every figure has a unit (``usd``, ``pct``, ``count``, ``ratio``); the series of one chart share
their unit, so dollars are never plotted unlabeled beside counts.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

UNITS = ("usd", "pct", "count", "ratio")
CHART_KINDS = ("timeseries", "grouped", "ranked", "heatmap", "funnel")
STYLES = ("bar", "line")
PERIODS = ("hour", "day", "month")


TILE_KEYS = {"dataset", "label", "sum", "ratio", "where", "unit", "better"}
FIGURE_KEYS = {"label", "sum", "column", "ratio", "where"}
CHART_KEYS = {
    "dataset", "title", "kind", "style", "unit", "x", "y", "series", "steps", "value", "split",
    "by", "rows", "columns", "top", "order", "none_label", "note", "last",
}  # fmt: skip
PAGE_KEYS = {"title", "audience", "period", "tiles", "charts"}


class PageSpecError(ValueError):
    """A dashboard page declaration is malformed; the message names the entry."""


def _known(raw: dict[str, Any], allowed: set[str], where: str) -> None:
    unknown = sorted(str(k) for k in raw if k not in allowed)
    if unknown:
        raise PageSpecError(
            f"{where}: unknown keys {unknown} (allowed: {sorted(allowed)}); a label with a comma "
            "needs quotes in a YAML flow mapping"
        )


def humanize(column: str) -> str:
    """'net_revenue' -> 'Net revenue'."""
    text = column.replace("_", " ").strip()
    return text[:1].upper() + text[1:]


@dataclass(frozen=True)
class Figure:
    """sum(column), or sum(numerator) / sum(denominator); rows filtered by ``where``."""

    label: str
    column: str | None = None
    ratio: tuple[str, str] | None = None
    where: tuple[tuple[str, Any], ...] = ()

    @property
    def columns(self) -> tuple[str, ...]:
        return self.ratio if self.ratio else (self.column or "",)


@dataclass(frozen=True)
class Tile:
    dataset: str
    figure: Figure
    unit: str
    better: str = "up"  # "down" for figures where a rise is bad news (refund rate, CAC)

    @property
    def label(self) -> str:
        return self.figure.label


@dataclass(frozen=True)
class ChartSpec:
    dataset: str
    title: str
    kind: str
    unit: str
    series: tuple[Figure, ...]
    style: str = "bar"
    x: str | None = None  # timeseries: the time column (default: the dataset's)
    split: str | None = None  # timeseries: one stacked series per value of this column
    by: str | None = None  # grouped/ranked: category column
    rows: str | None = None  # heatmap
    columns: str | None = None  # heatmap
    top: int = 12  # ranked: how many bars
    order: str = "value"  # grouped/ranked categories: by value (largest first) or by label
    none_label: str = "(none)"  # how a NULL category reads (untagged traffic, no reason)
    last: int | None = None  # only the latest N periods of the dataset's grain (None: all)
    note: str = ""

    @property
    def y(self) -> str:
        """The first series' column (what older single-series charts called y)."""
        first = self.series[0]
        return first.column or (first.ratio[0] if first.ratio else "")


@dataclass(frozen=True)
class PageSpec:
    tiles: tuple[Tile, ...] = ()
    charts: tuple[ChartSpec, ...] = ()
    period: str = "day"
    datasets: tuple[str, ...] = field(default=())


def _figure(raw: Any, where: str, default_label: str | None = None, check: bool = True) -> Figure:
    """A column name, or a mapping with label and sum|ratio (and optional where)."""
    if isinstance(raw, str):
        return Figure(label=default_label or humanize(raw), column=raw)
    if not isinstance(raw, dict):
        raise PageSpecError(f"{where}: a figure is a column name or a mapping, got {raw!r}")
    if check:
        _known(raw, FIGURE_KEYS, where)
    filters = tuple(sorted((str(k), v) for k, v in (raw.get("where") or {}).items()))
    if "ratio" in raw:
        pair = raw["ratio"]
        if not (isinstance(pair, list) and len(pair) == 2):
            raise PageSpecError(f"{where}: ratio must be [numerator, denominator]")
        label = str(raw.get("label") or default_label or f"{pair[0]} / {pair[1]}")
        return Figure(label=label, ratio=(str(pair[0]), str(pair[1])), where=filters)
    column = raw.get("sum") or raw.get("column")
    if not column:
        raise PageSpecError(f"{where}: give sum: <column> or ratio: [num, den]")
    label = str(raw.get("label") or default_label or humanize(str(column)))
    return Figure(label=label, column=str(column), where=filters)


def _unit(raw: dict[str, Any], where: str) -> str:
    unit = str(raw.get("unit") or "count")
    if unit not in UNITS:
        raise PageSpecError(f"{where}: unit {unit!r} not in {UNITS}")
    return unit


def parse_tile(raw: dict[str, Any], where: str) -> Tile:
    _known(raw, TILE_KEYS, where)
    if "dataset" not in raw:
        raise PageSpecError(f"{where}: missing 'dataset'")
    figure = _figure(raw, where, default_label=raw.get("label"), check=False)
    better = str(raw.get("better") or "up")
    if better not in ("up", "down"):
        raise PageSpecError(f"{where}: better must be up or down, got {better!r}")
    return Tile(dataset=str(raw["dataset"]), figure=figure, unit=_unit(raw, where), better=better)


def parse_chart(raw: dict[str, Any], where: str) -> ChartSpec:
    """New-style charts, and the older {dataset, x, y, title, kind: line|bar} form."""
    _known(raw, CHART_KEYS, where)
    if "dataset" not in raw or "title" not in raw:
        raise PageSpecError(f"{where}: a chart needs 'dataset' and 'title'")
    kind = str(raw.get("kind") or "timeseries")
    style = str(raw.get("style") or "bar")
    if kind in STYLES:  # older form: kind was the drawing style of a time series
        kind, style = "timeseries", kind
    if kind not in CHART_KINDS:
        raise PageSpecError(f"{where}: kind {kind!r} not in {CHART_KINDS}")
    if style not in STYLES:
        raise PageSpecError(f"{where}: style {style!r} not in {STYLES}")
    raw_series = raw.get("series") or raw.get("steps") or raw.get("y") or raw.get("value")
    if raw_series is None:
        raise PageSpecError(f"{where}: give y (or series/steps/value)")
    items = raw_series if isinstance(raw_series, list) else [raw_series]
    series = tuple(_figure(item, f"{where} series {i}") for i, item in enumerate(items))
    chart = ChartSpec(
        dataset=str(raw["dataset"]),
        title=str(raw["title"]),
        kind=kind,
        unit=_unit(raw, where),
        series=series,
        style=style,
        x=str(raw["x"]) if raw.get("x") else None,
        split=str(raw["split"]) if raw.get("split") else None,
        by=str(raw["by"]) if raw.get("by") else None,
        rows=str(raw["rows"]) if raw.get("rows") else None,
        columns=str(raw["columns"]) if raw.get("columns") else None,
        top=int(raw.get("top") or 12),
        order=str(raw.get("order") or "value"),
        none_label=str(raw.get("none_label") or "(none)"),
        last=int(raw["last"]) if raw.get("last") else None,
        note=str(raw.get("note") or ""),
    )
    if chart.order not in ("value", "label"):
        raise PageSpecError(f"{where}: order must be value or label, got {chart.order!r}")
    needs = {"grouped": ("by",), "ranked": ("by",), "heatmap": ("rows", "columns")}
    for attribute in needs.get(kind, ()):
        if getattr(chart, attribute) is None:
            raise PageSpecError(f"{where}: a {kind} chart needs {attribute!r}")
    if kind in ("ranked", "heatmap") and len(series) != 1:
        raise PageSpecError(f"{where}: a {kind} chart draws exactly one figure")
    return chart


def parse_page(spec: dict[str, Any], where: str) -> PageSpec:
    _known(spec, PAGE_KEYS, where)
    period = str(spec.get("period") or "day")
    if period not in PERIODS:
        raise PageSpecError(f"{where}: period {period!r} not in {PERIODS}")
    tiles = tuple(parse_tile(t, f"{where} tile {i}") for i, t in enumerate(spec.get("tiles") or []))
    charts = tuple(
        parse_chart(c, f"{where} chart {i}") for i, c in enumerate(spec.get("charts") or [])
    )
    datasets = tuple(dict.fromkeys([t.dataset for t in tiles] + [c.dataset for c in charts]))
    return PageSpec(tiles=tiles, charts=charts, period=period, datasets=datasets)
