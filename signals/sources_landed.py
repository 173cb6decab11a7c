"""Signal: run an interval only once every source lane it reads has landed past its end."""

from __future__ import annotations

import datetime as dt
import typing as t
from datetime import datetime

from sqlmesh import DatetimeRanges, ExecutionContext, signal

from brightcart_ops.landed import HIGH_WATER_MARKS_SQL
from brightcart_ops.registry import registry


def _as_utc(value: t.Any) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    if value.tzinfo is None:
        return t.cast(datetime, value.replace(tzinfo=dt.UTC))
    return t.cast(datetime, value.astimezone(dt.UTC))


# How far past its newest landed record a lane is known to be complete: each source writes a
# heartbeat at least this often (the lane registry's heartbeat_seconds, in meltano.yml), so a
# high-water mark of 10:59:59 on the shop lane means every change before 11:00 has landed. The
# mark itself is defined once, in brightcart_ops.landed.
# (Plain values: SQLMesh stores the globals a signal uses with the model, by their repr.)
HEARTBEAT_SECONDS = registry().heartbeat_seconds()


def lane_high_water_marks(context: ExecutionContext, lanes: list[str]) -> dict[str, datetime]:
    """max(high_water_mark) over succeeded load log rows plus the heartbeat, per lane."""
    listed = ", ".join("'" + lane.replace("'", "''") + "'" for lane in lanes)
    rows = context.engine_adapter.fetchall(HIGH_WATER_MARKS_SQL.format(lanes=listed))
    marks: dict[str, datetime] = {}
    for lane, mark in rows:
        landed = _as_utc(mark)
        if landed is not None:
            grace = dt.timedelta(seconds=HEARTBEAT_SECONDS.get(str(lane), 0))
            marks[str(lane)] = landed + grace
    return marks


def ready_intervals(
    batch: DatetimeRanges, marks: dict[str, datetime], lanes: list[str]
) -> DatetimeRanges:
    """The intervals of the batch whose end is at or before every lane's high-water mark."""
    if any(lane not in marks for lane in lanes):
        return []
    landed_to = min(marks[lane] for lane in lanes)
    return [interval for interval in batch if _as_utc(interval[1]) <= landed_to]  # type: ignore[operator]


@signal()
def sources_landed(
    batch: DatetimeRanges, context: ExecutionContext, sources: list[str]
) -> bool | DatetimeRanges:
    """True for the intervals every lane in ``sources`` has landed; see raw_meta.load_log."""
    lanes = [str(source) for source in sources]
    ready = ready_intervals(batch, lane_high_water_marks(context, lanes), lanes)
    return True if len(ready) == len(batch) else ready
