"""How figures read on a dashboard: units ($, %, counts, x), changes and durations."""

from __future__ import annotations

import math
from datetime import date, datetime, timedelta

UNIT_NAME = {"usd": "US$", "pct": "%", "count": "count", "ratio": "x"}
UNIT_AXIS_LABEL = {
    "usd": "US dollars",
    "pct": "percent",
    "count": "count",
    "ratio": "ratio (x)",
}


def format_value(value: float | None, unit: str) -> str:
    """A figure as a person reads it: $34,109 / $173.42 / 0.5% / 1,234 / 3.50x."""
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return "n/a"
    if unit == "usd":
        sign = "-" if value < 0 else ""
        amount = abs(value)
        return f"{sign}${amount:,.0f}" if amount >= 10_000 else f"{sign}${amount:,.2f}"
    if unit == "pct":
        return f"{value * 100:.1f}%"
    if unit == "ratio":
        return f"{value:.2f}x"
    if float(value).is_integer():
        return f"{value:,.0f}"
    return f"{value:,.1f}"


def _trim(number: float, decimals: int) -> str:
    """12.50 -> '12.5', 3.00 -> '3': as many decimals as the tick needs, never a rounded lie."""
    text = f"{number:,.{decimals}f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


def format_axis(value: float, unit: str) -> str:
    """Compact tick labels: $12k, $2.5k, $7.5, 12.5%, 1,234, 3.5x."""
    sign = "-" if value < 0 else ""
    amount = abs(value)
    if unit == "usd":
        if amount >= 1_000_000:
            return f"{sign}${_trim(amount / 1_000_000, 2)}M"
        if amount >= 1_000:
            return f"{sign}${_trim(amount / 1_000, 2)}k"
        return f"{sign}${_trim(amount, 2)}"
    if unit == "pct":
        return f"{sign}{_trim(amount * 100, 2)}%"
    if unit == "ratio":
        return f"{sign}{_trim(amount, 2)}x"
    return f"{sign}{_trim(amount, 1)}"


def change(value: float | None, previous: float | None, unit: str) -> tuple[float | None, str]:
    """(change, text): percentage points for rates, relative change otherwise."""
    if value is None or previous is None:
        return None, "no earlier period"
    if unit == "pct":
        delta = (value - previous) * 100
        return delta, f"{delta:+.2f} pp" if abs(delta) < 1 else f"{delta:+.1f} pp"
    if previous == 0:
        return None, "was 0" if value else "no change"
    relative = (value - previous) / abs(previous)
    return relative, f"{relative * 100:+.1f}%"


def format_duration(delta: timedelta) -> str:
    """2 d 4 h / 3 h 5 min / 12 min / 40 s (a negative duration reads 'ahead by ...')."""
    seconds = int(delta.total_seconds())
    if seconds < 0:
        return "ahead by " + format_duration(timedelta(seconds=-seconds))
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes, secs = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h" if hours else f"{days} d"
    if hours:
        return f"{hours} h {minutes} min" if minutes else f"{hours} h"
    if minutes:
        return f"{minutes} min"
    return f"{secs} s"


def format_moment(value: datetime | date | None, grain: str = "minute") -> str:
    """UTC timestamps as 2026-11-08 02:00 UTC; days as 2026-11-08; months as Nov 2026."""
    if value is None:
        return "n/a"
    if grain == "month":
        return value.strftime("%b %Y")
    if grain == "day" or not isinstance(value, datetime):
        return value.strftime("%Y-%m-%d")
    return value.strftime("%Y-%m-%d %H:%M UTC")
