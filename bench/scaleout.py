"""Section 5: how many vCPUs land a production peak hour within a window, from measured rates.

Pure arithmetic, unit-tested in tests/bench/test_scaleout.py.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

EVENTS_PER_DAY = 150_000_000  # the brief: ~150M new event rows per day
SHOP_UPDATES_PER_DAY = 12_000_000  # the brief: ~12M transactional updates per day
PEAK_FACTOR = 3.0  # the peak hour carries ~3x the average hour
WINDOW_SECONDS = 600.0  # land the peak hour within 10 minutes
GENERATOR_TO_PRODUCTION = 100.0  # scale 1.0 of the generator is 1:100 of production


def peak_hour_rows(rows_per_day: float, peak_factor: float = PEAK_FACTOR) -> float:
    """Rows in the peak hour: the average hour times the peak factor."""
    if rows_per_day < 0 or peak_factor <= 0:
        raise ValueError("rows_per_day must be >= 0 and peak_factor > 0")
    return rows_per_day / 24.0 * peak_factor


def production_rows_per_day(generated_rows: float, generated_days: float, scale: float) -> float:
    """Production daily rows implied by a generated world (scale 1.0 = 1:100 of production)."""
    if generated_days <= 0 or scale <= 0:
        raise ValueError("generated_days and scale must be > 0")
    return generated_rows / generated_days / scale * GENERATOR_TO_PRODUCTION


@dataclass(frozen=True)
class ScaleOut:
    rows: float
    rows_per_cpu_second: float
    window_seconds: float
    startup_seconds: float
    vcpus: int


def vcpus_needed(
    rows: float,
    rows_per_cpu_second: float,
    window_seconds: float = WINDOW_SECONDS,
    startup_seconds: float = 0.0,
) -> ScaleOut:
    """Smallest whole number of vCPUs, each moving ``rows_per_cpu_second`` after a fixed
    start-up, that lands ``rows`` within ``window_seconds`` (rows shard evenly across vCPUs)."""
    if rows_per_cpu_second <= 0:
        raise ValueError("rows_per_cpu_second must be > 0")
    usable = window_seconds - startup_seconds
    if usable <= 0:
        raise ValueError("start-up alone exceeds the window")
    vcpus = max(1, math.ceil(rows / (rows_per_cpu_second * usable))) if rows > 0 else 0
    return ScaleOut(rows, rows_per_cpu_second, window_seconds, startup_seconds, vcpus)
