"""Schedules come from meltano.yml (through the lane registry); translate their cron for AWS.

meltano.yml is the single source of truth for when jobs run, and the lane registry
(brightcart_ops.registry) says which task runs each job. EventBridge Scheduler wants
`cron(minutes hours day-of-month month day-of-week year)` with `?` in one of the two day fields
and Sunday as 1, where meltano (and Unix) cron has five fields and Sunday as 0.
"""

from __future__ import annotations

import calendar
from pathlib import Path

from brightcart_ops.registry import CRON_ALIASES as ALIASES
from brightcart_ops.registry import Schedule, registry
from brightcart_ops.yamlfile import read_yaml

MELTANO_YML = Path(__file__).resolve().parents[3] / "meltano.yml"

__all__ = ["ALIASES", "MELTANO_YML", "Schedule", "load_schedules", "runs_per_month"]


def load_schedules(path: Path = MELTANO_YML) -> list[Schedule]:
    """Every schedule in meltano.yml, in file order, with the task that runs its job."""
    return list(registry(path).schedules)


def _shift_dow(field: str) -> str:
    """Unix day-of-week (0/7 = Sunday) to EventBridge's (1 = Sunday)."""

    def one(token: str) -> str:
        return str(int(token) % 7 + 1) if token.isdigit() else token.upper()

    parts = []
    for item in field.split(","):
        step = ""
        if "/" in item:
            item, step = item.split("/", 1)
            step = "/" + step
        if "-" in item:
            lo, hi = item.split("-", 1)
            parts.append(f"{one(lo)}-{one(hi)}{step}")
        else:
            parts.append(one(item) + step)
    return ",".join(parts)


def to_eventbridge(cron: str) -> str:
    """A five-field cron (or @alias) as an EventBridge Scheduler expression."""
    fields = ALIASES.get(cron.strip(), cron.strip()).split()
    if len(fields) != 5:
        raise ValueError(f"expected a five-field cron, got {cron!r}")
    minute, hour, dom, month, dow = fields
    if dow == "*":
        dow = "?"
    elif dom == "*":
        dom = "?"
        dow = _shift_dow(dow)
    else:
        raise ValueError(
            f"{cron!r} restricts both day-of-month and day-of-week; EventBridge allows only one"
        )
    return f"cron({minute} {hour} {dom} {month} {dow} *)"


def _expand(field: str, lo: int, hi: int) -> set[int]:
    values: set[int] = set()
    for item in field.split(","):
        step = 1
        if "/" in item:
            item, step_text = item.split("/", 1)
            step = int(step_text)
        if item in ("*", "?"):
            start, end = lo, hi
        elif "-" in item:
            a, b = item.split("-", 1)
            start, end = int(a), int(b)
        else:
            start = int(item)
            end = hi if step > 1 else start
        values.update(range(start, end + 1, step))
    return values


def runs_per_month(cron: str, year: int = 2026, month: int = 11) -> int:
    """How many times a five-field cron fires in one calendar month (30 days by default)."""
    minute, hour, dom, mon, dow = ALIASES.get(cron.strip(), cron.strip()).split()
    minutes = _expand(minute, 0, 59)
    hours = _expand(hour, 0, 23)
    days = _expand(dom, 1, 31)
    months = _expand(mon, 1, 12)
    weekdays = {d % 7 for d in _expand(dow, 0, 7)}
    if month not in months:
        return 0
    fires_per_day = len(minutes) * len(hours)
    count = 0
    for day in range(1, calendar.monthrange(year, month)[1] + 1):
        weekday = (calendar.weekday(year, month, day) + 1) % 7  # Sunday = 0
        dom_ok = day in days
        dow_ok = weekday in weekdays
        # Unix rule: when both day fields are restricted, either may match.
        if dom != "*" and dow != "*":
            ok = dom_ok or dow_ok
        else:
            ok = dom_ok and dow_ok
        if ok:
            count += fires_per_day
    return count


def prod_loader_setting(name: str, path: Path = MELTANO_YML, default: str = "") -> str:
    """A setting of target-redshift in meltano.yml's `prod` environment (e.g. `s3_prefix`)."""
    doc = read_yaml(path) or {}
    for env in doc.get("environments") or []:
        if env.get("name") != "prod":
            continue
        for loader in ((env.get("config") or {}).get("plugins") or {}).get("loaders") or []:
            if loader.get("name") == "target-redshift":
                return str((loader.get("config") or {}).get(name, default))
    return default
