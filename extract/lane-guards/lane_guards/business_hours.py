"""Business hours of the OLTP database, in which heavy extraction must not start.

The window is one environment variable, ``BRIGHTCART_BUSINESS_HOURS``, such as
``Mon-Fri 07:00-21:00 America/New_York`` (days, local start-end, IANA time zone). Unset means
that default; ``off`` disables the rule (local worlds, whose clock is simulated).
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass
from datetime import UTC, datetime, time
from zoneinfo import ZoneInfo

DEFAULT_WINDOW = "Mon-Fri 07:00-21:00 America/New_York"
DAYS = ["mon", "tue", "wed", "thu", "fri", "sat", "sun"]
_PATTERN = re.compile(
    r"^\s*(?P<d1>[A-Za-z]{3})(?:-(?P<d2>[A-Za-z]{3}))?\s+"
    r"(?P<h1>\d{1,2}):(?P<m1>\d{2})-(?P<h2>\d{1,2}):(?P<m2>\d{2})\s+(?P<tz>\S+)\s*$"
)


@dataclass(frozen=True)
class BusinessHours:
    first_day: int
    last_day: int
    start: time
    end: time
    zone: ZoneInfo

    @classmethod
    def parse(cls, text: str) -> BusinessHours:
        match = _PATTERN.match(text)
        if not match:
            raise ValueError(
                f"BRIGHTCART_BUSINESS_HOURS={text!r} is not of the form "
                f"'Mon-Fri 07:00-21:00 America/New_York'"
            )
        d1 = match["d1"].lower()
        d2 = (match["d2"] or match["d1"]).lower()
        if d1 not in DAYS or d2 not in DAYS:
            raise ValueError(f"unknown day in BRIGHTCART_BUSINESS_HOURS={text!r}")
        return cls(
            first_day=DAYS.index(d1),
            last_day=DAYS.index(d2),
            start=time(int(match["h1"]), int(match["m1"])),
            end=time(int(match["h2"]), int(match["m2"])),
            zone=ZoneInfo(match["tz"]),
        )

    def contains(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        weekday = local.weekday()
        if self.first_day <= self.last_day:
            day_ok = self.first_day <= weekday <= self.last_day
        else:  # a window such as Sat-Tue wraps around the week
            day_ok = weekday >= self.first_day or weekday <= self.last_day
        return day_ok and self.start <= local.time() < self.end


def parse(text: str) -> BusinessHours | None:
    """The configured window, or None when the rule is switched off."""
    return None if text.strip().lower() == "off" else BusinessHours.parse(text)


def now() -> datetime:
    """The wall clock, or BRIGHTCART_GUARD_NOW (ISO 8601) so the rule can be exercised."""
    override = os.environ.get("BRIGHTCART_GUARD_NOW")
    if override:
        moment = datetime.fromisoformat(override.replace("Z", "+00:00"))
        return moment if moment.tzinfo else moment.replace(tzinfo=UTC)
    return datetime.now(UTC)
