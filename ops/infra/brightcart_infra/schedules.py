"""Schedules come from meltano.yml: parse them, map each job to a lane, and translate the cron.

meltano.yml is the single source of truth for when jobs run. EventBridge Scheduler wants
`cron(minutes hours day-of-month month day-of-week year)` with `?` in one of the two day fields
and Sunday as 1, where meltano (and Unix) cron has five fields and Sunday as 0.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

MELTANO_YML = Path(__file__).resolve().parents[3] / "meltano.yml"

ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}

# The extractor that opens a job decides its lane (and so its task size and permissions).
EXTRACTOR_LANE = {
    "tap-postgres": "shop",
    "tap-brightcart-events": "events",
    "tap-s3-csv": "marketing",
    "tap-salesforce": "crm",
}
TRANSFORM_LANE = "transform"


@dataclass(frozen=True)
class Schedule:
    """One entry of meltano.yml's `schedules:` that runs a job."""

    name: str
    job: str
    interval: str  # as written in meltano.yml
    lane: str

    @property
    def cron(self) -> str:
        return ALIASES.get(self.interval.strip(), self.interval.strip())

    @property
    def command(self) -> list[str]:
        return ["meltano", "run", self.job]


def _job_tasks(job: dict[str, Any]) -> list[str]:
    tasks = job.get("tasks", [])
    words: list[str] = []
    for task in tasks if isinstance(tasks, list) else [tasks]:
        items = task if isinstance(task, list) else [task]
        for item in items:
            words.extend(str(item).split())
    return words


def lane_of(job_name: str, tasks: list[str]) -> str:
    """The lane a job belongs to: its first known extractor, else a lane named in the job name."""
    for word in tasks:
        base = word.split("--", 1)[0]  # an inherited plugin (tap-postgres--finance-full)
        if base in EXTRACTOR_LANE:
            return EXTRACTOR_LANE[base]
    for lane in ("shop", "events", "marketing", "crm"):
        if lane in job_name:
            return lane
    return TRANSFORM_LANE


def load_schedules(path: Path = MELTANO_YML) -> list[Schedule]:
    """Every schedule in meltano.yml, in file order. A schedule must name a `job`."""
    doc = yaml.safe_load(path.read_text()) or {}
    jobs = {str(j["name"]): j for j in doc.get("jobs") or []}
    schedules: list[Schedule] = []
    for entry in doc.get("schedules") or []:
        name = str(entry["name"])
        job = entry.get("job")
        if not job:
            raise ValueError(
                f"schedule {name!r} in {path} has no `job`; production runs `meltano run <job>`, "
                "so declare the steps as a job and point the schedule at it"
            )
        interval = str(entry.get("interval", ""))
        if not interval:
            raise ValueError(f"schedule {name!r} in {path} has no `interval` (cron)")
        tasks = _job_tasks(jobs.get(str(job), {}))
        schedules.append(Schedule(name, str(job), interval, lane_of(str(job), tasks)))
    return schedules


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
    doc = yaml.safe_load(path.read_text()) or {}
    for env in doc.get("environments") or []:
        if env.get("name") != "prod":
            continue
        for loader in ((env.get("config") or {}).get("plugins") or {}).get("loaders") or []:
            if loader.get("name") == "target-redshift":
                return str((loader.get("config") or {}).get(name, default))
    return default
