"""Charts as inline SVG (matplotlib, Agg): nothing is loaded from anywhere when a page opens.

Every chart states its unit on the value axis ($, %, count, x); time axes read dates (Nov 03),
hours as 06:00 with the day under them, months as Nov 2026.
"""

from __future__ import annotations

import io
import re
from datetime import datetime
from typing import Any, Literal

import matplotlib

matplotlib.use("Agg")

import matplotlib.dates as mdates
import matplotlib.pyplot as plt
from matplotlib.axes import Axes
from matplotlib.figure import Figure as MplFigure
from matplotlib.ticker import FuncFormatter, MaxNLocator

from brightcart_ops.publish.figures import ChartData
from brightcart_ops.publish.formatting import UNIT_AXIS_LABEL, format_axis, format_value

PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2", "#64748b"]
WIDTH, HEIGHT = 6.4, 3.2
BAR_SHARE = {"hour": 1 / 24 * 0.85, "day": 0.8, "month": 24.0}

plt.rcParams.update(
    {
        "font.family": "DejaVu Sans",
        "font.size": 9,
        "axes.titlesize": 11,
        "axes.titlelocation": "left",
        "svg.fonttype": "none",  # text stays text: small pages, selectable labels
        "svg.hashsalt": "brightcart",  # stable ids: the same data draws the same SVG
    }
)


def _clean(svg: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return svg.strip()


def _value_axis(ax: Axes, unit: str, axis: str = "y") -> None:
    formatter = FuncFormatter(lambda value, _pos: format_axis(value, unit))
    target = ax.yaxis if axis == "y" else ax.xaxis
    target.set_major_formatter(formatter)
    if unit == "count":
        target.set_major_locator(MaxNLocator(nbins=6, integer=True))
    label = UNIT_AXIS_LABEL[unit]
    (ax.set_ylabel if axis == "y" else ax.set_xlabel)(label, color="#4b5563")


def _frame(ax: Axes, title: str, grid_axis: Literal["x", "y"] = "y") -> None:
    ax.set_title(title)
    ax.grid(axis=grid_axis, alpha=0.3)
    ax.spines[["top", "right"]].set_visible(False)
    ax.tick_params(labelsize=8)


def _svg(fig: MplFigure) -> str:
    try:
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    return _clean(buffer.getvalue())


def _date_axis(ax: Axes, grain: str | None, span_days: float) -> None:
    if grain == "hour":
        locator = mdates.AutoDateLocator(minticks=4, maxticks=8)
        ax.xaxis.set_major_locator(locator)
        formatter = mdates.ConciseDateFormatter(locator, show_offset=False)
        formatter.formats = ["%Y", "%b", "%b %d", "%H:%M", "%H:%M", "%S.%f"]
        formatter.zero_formats = ["", "%Y", "%b %d", "%b %d", "%H:%M", "%H:%M"]
        ax.xaxis.set_major_formatter(formatter)
    elif grain == "month":
        ax.xaxis.set_major_locator(mdates.MonthLocator())
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %Y"))
    else:
        interval = max(1, round(span_days / 8))
        ax.xaxis.set_major_locator(mdates.DayLocator(interval=interval))
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%b %d"))
    for label in ax.get_xticklabels():
        label.set_rotation(0)
        label.set_horizontalalignment("center")


def _legend(ax: Axes, count: int) -> None:
    """A legend in a band of headroom above the data, so it never covers a bar."""
    if count > 1:
        bottom, top = ax.get_ylim()
        ax.set_ylim(bottom, top + (top - bottom) * 0.22)
        ax.legend(fontsize=7, frameon=False, ncols=min(count, 4), loc="upper left")


def _in_progress(data: ChartData, x: datetime) -> bool:
    return data.partial_from is not None and x >= data.partial_from


def timeseries(data: ChartData, title: str, style: str) -> str:
    """Bars or lines over time; a period still in progress is drawn pale (bars) or dashed."""
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), dpi=100)
    xs: list[datetime] = list(data.categories)
    at = [float(x) for x in mdates.date2num(xs)]
    span = (xs[-1] - xs[0]).total_seconds() / 86_400 if len(xs) > 1 else 1.0
    width = BAR_SHARE.get(data.grain or "day", 0.8)
    n = len(data.series)
    pale = [0.35 if _in_progress(data, x) else 1.0 for x in xs]
    if style == "bar":
        stacked = data.stacked or n == 1
        share = width if stacked else width / n
        bottom = [0.0] * len(xs)
        for i, (label, values) in enumerate(data.series):
            heights = [v or 0.0 for v in values]
            offset = 0.0 if stacked else (i - (n - 1) / 2) * share
            colour = PALETTE[i % len(PALETTE)]
            bars = ax.bar(
                [a + offset for a in at],
                heights,
                width=share,
                bottom=bottom if stacked else None,
                color=colour,
                label=label,
            )
            for bar, alpha in zip(bars, pale, strict=True):
                bar.set_alpha(alpha)
            if stacked:
                bottom = [b + h for b, h in zip(bottom, heights, strict=True)]
    else:
        for i, (label, values) in enumerate(data.series):
            colour = PALETTE[i % len(PALETTE)]
            points = [(a, v, x) for a, v, x in zip(at, values, xs, strict=True) if v is not None]
            done = [(a, v) for a, v, x in points if not _in_progress(data, x)]
            if done:
                px, py = zip(*done, strict=True)
                marker = "o" if len(done) <= 40 else None
                ax.plot(
                    px, py, color=colour, marker=marker, markersize=3.5, linewidth=1.8, label=label
                )
                if n == 1:
                    ax.fill_between(px, py, color=colour, alpha=0.12)
            rest = [(a, v) for a, v, x in points if _in_progress(data, x)]
            if rest:
                tail = done[-1:] + rest
                px, py = zip(*tail, strict=True)
                ax.plot(px, py, color=colour, linestyle="--", linewidth=1.4, alpha=0.7)
                ax.plot(
                    [p[0] for p in rest],
                    [p[1] for p in rest],
                    "o",
                    color=colour,
                    mfc="white",
                    markersize=4,
                )
    ax.xaxis_date()
    ax.set_ylim(bottom=min(0.0, ax.get_ylim()[0]))
    _date_axis(ax, data.grain, span)
    _value_axis(ax, data.unit)
    _frame(ax, title)
    _legend(ax, n)
    return _svg(fig)


def _category(value: Any, limit: int = 22) -> str:
    text = value.strftime("%b %Y") if isinstance(value, datetime) else str(value)
    text = text.replace("_", " ")
    return text if len(text) <= limit else text[: limit - 1] + "…"


def grouped(data: ChartData, title: str) -> str:
    fig, ax = plt.subplots(figsize=(WIDTH, HEIGHT), dpi=100)
    n = max(1, len(data.series))
    share = 0.8 / n
    positions = list(range(len(data.categories)))
    for i, (label, values) in enumerate(data.series):
        offset = (i - (n - 1) / 2) * share
        ax.bar(
            [p + offset for p in positions],
            [v or 0.0 for v in values],
            width=share,
            color=PALETTE[i % len(PALETTE)],
            label=label,
        )
    pad = max(0.0, (3 - len(positions)) / 2)  # a lone category stays a bar, not a wall
    ax.set_xlim(-0.6 - pad, len(positions) - 0.4 + pad)
    labels = [_category(c) for c in data.categories]
    rotate = sum(len(label) for label in labels) > 60
    ax.set_xticks(
        positions, labels, rotation=25 if rotate else 0, ha="right" if rotate else "center"
    )
    _value_axis(ax, data.unit)
    _frame(ax, title)
    _legend(ax, n)
    return _svg(fig)


def ranked(data: ChartData, title: str) -> str:
    count = len(data.categories)
    fig, ax = plt.subplots(figsize=(WIDTH, max(HEIGHT, 0.9 + 0.24 * count)), dpi=100)
    values = [v or 0.0 for v in data.series[0][1]]
    positions = list(range(count))[::-1]  # largest at the top
    ax.barh(positions, values, color=PALETTE[0], height=0.7)
    ax.set_yticks(positions, [_category(c, 28) for c in data.categories])
    pad = max(0.0, (4 - count) / 2)
    ax.set_ylim(-0.6 - pad, count - 0.4 + pad)
    top = max(values, default=0.0)
    for position, value in zip(positions, values, strict=True):
        ax.text(
            value + top * 0.01, position, format_value(value, data.unit), va="center", fontsize=7
        )
    empty_scale = 0.01 if data.unit == "pct" else 1.0  # all zero: a scale that reads as zero
    ax.set_xlim(
        left=min(0.0, min(values, default=0.0)), right=top * 1.18 if top > 0 else empty_scale
    )
    _value_axis(ax, data.unit, axis="x")
    _frame(ax, title, grid_axis="x")
    return _svg(fig)


def heatmap(data: ChartData, title: str, column_label: str) -> str:
    rows, cols = len(data.categories), len(data.columns)
    fig, ax = plt.subplots(figsize=(WIDTH, max(2.4, 1.2 + 0.42 * rows)), dpi=100)
    grid = [[float("nan") if v is None else v for v in row] for row in data.matrix]
    present = [v for row in data.matrix for v in row if v is not None]
    high = 1.0 if data.unit == "pct" else max(present, default=1.0) or 1.0
    image = ax.imshow(grid, cmap="Blues", vmin=0, vmax=high, aspect="auto")
    for r in range(rows):
        for c in range(cols):
            value = data.matrix[r][c]
            if value is None:
                continue
            dark = value / high > 0.55
            ax.text(
                c,
                r,
                format_value(value, data.unit),
                ha="center",
                va="center",
                fontsize=8,
                color="white" if dark else "#1f2937",
            )
    ax.set_xticks(range(cols), [str(c) for c in data.columns])
    ax.set_yticks(range(rows), [_category(r) for r in data.categories])
    pad_x, pad_y = max(0.0, (4 - cols) / 2), max(0.0, (2 - rows) / 2)  # few cells stay cells
    ax.set_xlim(-0.5 - pad_x, cols - 0.5 + pad_x)
    ax.set_ylim(rows - 0.5 + pad_y, -0.5 - pad_y)
    ax.set_xlabel(column_label, color="#4b5563")
    ax.set_title(title)
    ax.tick_params(labelsize=8, length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    colourbar = fig.colorbar(image, ax=ax, fraction=0.04, pad=0.02)
    colourbar.ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: format_axis(v, data.unit)))
    colourbar.ax.tick_params(labelsize=7)
    return _svg(fig)


def funnel(data: ChartData, title: str) -> str:
    values = [v or 0.0 for v in data.series[0][1]]
    count = len(values)
    fig, ax = plt.subplots(figsize=(WIDTH, max(HEIGHT, 0.9 + 0.4 * count)), dpi=100)
    positions = list(range(count))[::-1]
    ax.barh(positions, values, color=PALETTE[0], height=0.65)
    first = values[0] if values and values[0] else None
    for position, value in zip(positions, values, strict=True):
        share = f" ({value / first * 100:.1f}% of {data.categories[0].lower()})" if first else ""
        ax.text(
            value + max(values) * 0.01,
            position,
            format_value(value, data.unit) + share,
            va="center",
            fontsize=7,
        )
    ax.set_yticks(positions, [str(c) for c in data.categories])
    ax.set_xlim(right=max(values, default=1.0) * 1.45 or 1)
    _value_axis(ax, data.unit, axis="x")
    _frame(ax, title, grid_axis="x")
    return _svg(fig)


def svg_chart(data: ChartData, title: str, style: str = "bar", column_label: str = "") -> str:
    """One chart as an inline <svg> element."""
    if data.kind == "timeseries":
        return timeseries(data, title, style)
    if data.kind == "grouped":
        return grouped(data, title)
    if data.kind == "ranked":
        return ranked(data, title)
    if data.kind == "heatmap":
        return heatmap(data, title, column_label)
    return funnel(data, title)
