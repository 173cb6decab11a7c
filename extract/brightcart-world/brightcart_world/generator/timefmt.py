"""Simulated time as integer epoch milliseconds (exact arithmetic, no float drift)."""

from __future__ import annotations

from datetime import UTC, datetime

MINUTE = 60_000
HOUR = 3_600_000
DAY = 24 * HOUR


def to_ms(value: datetime) -> int:
    if value.tzinfo is None:
        raise ValueError(f"timestamp {value} has no time zone; pass UTC-aware datetimes")
    return int(value.timestamp() * 1000)


def from_ms(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=UTC)


def iso_ms(ms: int) -> str:
    """2026-11-01T03:12:44.123Z"""
    return from_ms(ms).strftime("%Y-%m-%dT%H:%M:%S.") + f"{ms % 1000:03d}Z"
