"""The finance world's calendar.

The world runs from START to END (whole UTC hours). START lies more than 30 days before END, so
money dated 30 days back still falls on a business day of the world.
"""

from __future__ import annotations

from datetime import UTC, date, datetime

START = datetime(2026, 9, 28, tzinfo=UTC)
END = datetime(2026, 11, 4, 6, tzinfo=UTC)
SEED = 11
SCALE = 0.0003  # about 30 orders a day
FIRST, LAST = START.date(), date(2026, 11, 3)  # every business day that ended by the landing
