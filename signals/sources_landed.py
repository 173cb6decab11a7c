"""Signal: run an interval only once every source lane it reads has landed past its end, and
drop a batch of processed lookback intervals alone when the run is quiet.

SQLMesh puts a lookback model's last processed intervals back in its batch whenever a newer
interval is due by the clock, landed or not, so a run with nothing new recomputed the events
models' 72 hours (38 s at 1:100). `brightcart_sqlmesh.quiet` decides, for the whole graph, when
that recompute would change nothing (ADR 0014).
"""

from __future__ import annotations

import datetime as dt
import typing as t
from datetime import datetime

from sqlmesh import DatetimeRanges, ExecutionContext, signal

from brightcart_ops.landed import HIGH_WATER_MARKS_SQL, as_utc
from brightcart_ops.registry import registry
from brightcart_sqlmesh.quiet import processed, quiet_run

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
        landed = as_utc(mark)
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
    return [interval for interval in batch if as_utc(interval[1]) <= landed_to]  # type: ignore[operator]


@signal()
def sources_landed(
    batch: DatetimeRanges,
    context: ExecutionContext,
    sources: list[str],
    snapshot: t.Any = None,
) -> bool | DatetimeRanges:
    """True for the intervals every lane in ``sources`` has landed (see raw_meta.load_log), none
    when all of those were processed before and the run is quiet."""
    lanes = [str(source) for source in sources]
    # every lane's mark in one query: the quiet rule reads the lanes above other models too
    marks = lane_high_water_marks(context, sorted(set(HEARTBEAT_SECONDS) | set(lanes)))
    ready = ready_intervals(batch, marks, lanes)
    if (
        ready
        and snapshot is not None
        and not context.is_restatement
        and all(processed(snapshot, interval) for interval in ready)
        and quiet_run(context, marks)
    ):
        return []
    return True if len(ready) == len(batch) else ready
