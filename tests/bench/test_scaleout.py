"""The scale-out model's arithmetic (the benchmark itself is never part of the tests)."""

from __future__ import annotations

import pytest

from bench.scaleout import peak_hour_rows, production_rows_per_day, vcpus_needed


def test_peak_hour_of_150m_events_a_day_is_18_75m() -> None:
    assert peak_hour_rows(150_000_000) == 18_750_000


def test_vcpus_round_up_to_land_the_peak_hour_in_ten_minutes() -> None:
    # 18.75M rows at 10k rows per CPU-second: 6M rows per vCPU in 600 s -> 3.125 -> 4 vCPUs.
    assert vcpus_needed(18_750_000, 10_000).vcpus == 4
    # 60 s of start-up leaves 540 s: 5.4M rows per vCPU -> 3.47 -> 4; at 5k rows/s -> 6.94 -> 7.
    assert vcpus_needed(18_750_000, 10_000, startup_seconds=60).vcpus == 4
    assert vcpus_needed(18_750_000, 5_000, startup_seconds=60).vcpus == 7
    assert vcpus_needed(6_000_000, 10_000).vcpus == 1
    assert vcpus_needed(0, 10_000).vcpus == 0


def test_generator_scale_maps_to_production() -> None:
    # 1.5M events a day at scale 1.0 is 150M in production; 2 days at scale 0.05 = 150k lines.
    assert production_rows_per_day(150_000, 2, 0.05) == pytest.approx(150_000_000)


def test_impossible_inputs_are_refused() -> None:
    with pytest.raises(ValueError):
        vcpus_needed(1, 0)
    with pytest.raises(ValueError):
        vcpus_needed(1, 1, window_seconds=30, startup_seconds=30)
