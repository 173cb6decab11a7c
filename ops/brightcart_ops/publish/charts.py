"""Charts as inline SVG (matplotlib, Agg): nothing is loaded from anywhere when a page opens."""

from __future__ import annotations

import io
import re
from collections import defaultdict
from datetime import date, datetime
from decimal import Decimal
from typing import Any

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt

PALETTE = ["#2563eb", "#16a34a", "#dc2626", "#9333ea", "#ea580c", "#0891b2"]


def _number(value: Any) -> float:
    if value is None:
        return 0.0
    if isinstance(value, Decimal | int | float):
        return float(value)
    return float(str(value))


def _x(value: Any) -> Any:
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def series(rows: list[dict[str, Any]], x: str, y: str) -> list[tuple[Any, float]]:
    """Sum y per x (views may carry extra grain such as channel), sorted by x."""
    totals: dict[Any, float] = defaultdict(float)
    for row in rows:
        if row.get(x) is None:
            continue
        totals[_x(row[x])] += _number(row.get(y))
    return sorted(totals.items(), key=lambda item: item[0])


def _clean(svg: str) -> str:
    svg = re.sub(r"<\?xml[^>]*\?>", "", svg)
    svg = re.sub(r"<!DOCTYPE[^>]*>", "", svg)
    svg = re.sub(r"<metadata>.*?</metadata>", "", svg, flags=re.S)
    return svg.strip()


def _label(value: Any) -> str:
    if isinstance(value, datetime):
        return value.strftime("%m-%d %H:%M")
    if isinstance(value, date):
        return value.strftime("%Y-%m-%d")
    return str(value)


def svg_chart(points: list[tuple[Any, float]], title: str, kind: str, colour_index: int) -> str:
    """One chart as an inline <svg> element; x values are shown as ordered categories."""
    colour = PALETTE[colour_index % len(PALETTE)]
    labels = [_label(p[0]) for p in points]
    ys = [p[1] for p in points]
    positions = list(range(len(points)))
    fig, ax = plt.subplots(figsize=(6.4, 3.0), dpi=100)
    try:
        if kind == "bar":
            ax.bar(positions, ys, color=colour, width=0.7)
        else:
            ax.plot(positions, ys, color=colour, marker="o", markersize=4, linewidth=1.8)
            ax.fill_between(positions, ys, color=colour, alpha=0.15)
        step = max(1, len(points) // 8)
        ax.set_xticks(positions[::step], labels[::step], rotation=30, ha="right", fontsize=8)
        ax.set_xlim(-0.6, max(len(points) - 0.4, 0.6))
        ax.set_ylim(bottom=min(0.0, min(ys, default=0.0)))
        ax.set_title(title, loc="left", fontsize=11)
        ax.grid(axis="y", alpha=0.3)
        ax.spines[["top", "right"]].set_visible(False)
        fig.tight_layout()
        buffer = io.StringIO()
        fig.savefig(buffer, format="svg", metadata={"Date": None})
    finally:
        plt.close(fig)
    return _clean(buffer.getvalue())
