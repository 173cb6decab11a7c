"""The events tap's exclusive `end_date`: partitions from the end on are neither read nor kept."""

from __future__ import annotations

from pathlib import Path

import pytest

from .support import S3Env, event, gz, run_tap

HOURS = {
    hour: f"events/dt=2026-11-01/hour={hour:02d}/brightcart-events-{hour:02d}.gz"
    for hour in (3, 4, 5)
}


def seed(s3: S3Env, bucket: str) -> None:
    for hour, key in HOURS.items():
        lines = [event(f"h{hour}-{n}", f"2026-11-01T{hour:02d}:0{n}:00Z") for n in range(3)]
        s3.client.put_object(Bucket=bucket, Key=key, Body=gz(lines))


@pytest.mark.parametrize(
    ("bounds", "hours"),
    [
        ({"end_date": "2026-11-01T05:00:00Z"}, [3, 4]),  # exclusive at a partition start
        ({"start_date": "2026-11-01T04:00:00Z", "end_date": "2026-11-01T05:00:00Z"}, [4]),
        ({"end_date": "2026-11-01T04:30:00+00:00"}, [3, 4]),  # inside an hour: that hour is read
        ({"end_date": "2026-11-02"}, [3, 4, 5]),  # a date means its midnight UTC
    ],
    ids=["aligned", "start-and-end", "inside-an-hour", "date"],
)
def test_end_date_bounds_the_partitions_read(
    s3: S3Env, bucket: str, tmp_path: Path, bounds: dict[str, str], hours: list[int]
) -> None:
    seed(s3, bucket)
    out = run_tap(s3, tmp_path, {"bucket": bucket} | bounds)
    read = sorted({key for key, _ in out.keys("events")})
    assert read == [HOURS[h] for h in hours]
    assert len(out.records["events"]) == 3 * len(hours)
    assert out.last_state is not None
    done = out.last_state["bookmarks"]["events"]["done"]
    assert sorted(done) == [f"dt=2026-11-01/hour={h:02d}" for h in hours]


def test_end_date_not_after_start_date_is_refused(s3: S3Env, bucket: str, tmp_path: Path) -> None:
    seed(s3, bucket)
    bounds = {"start_date": "2026-11-01T04:00:00Z", "end_date": "2026-11-01T04:00:00Z"}
    with pytest.raises(AssertionError, match="must be after start_date"):
        run_tap(s3, tmp_path, {"bucket": bucket} | bounds)
