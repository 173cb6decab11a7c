"""Case 4: two runs of the same lane started at once.

One takes the lane lock and loads; the other exits cleanly as `skipped`. Nothing lands twice, one
load and one pipeline run are recorded, and Meltano's state is the one the loading run wrote: the
next run sends only the re-sent boundary rows and inserts nothing.
"""

from __future__ import annotations

import pytest

from brightcart_ops.registry import registry
from brightcart_world.generator import advance

from .harness import TALLY, RelWorld, utcnow


def _statuses(outputs: list[str]) -> list[str]:
    found = []
    for text in outputs:
        words = [w for w in ("succeeded", "skipped", "failed", "refused") if w in text]
        found.append(words[0] if len(words) == 1 else f"unclear: {text[-400:]}")
    return sorted(found)


@pytest.mark.parametrize("lane", ["shop", pytest.param("events", marks=pytest.mark.full)])
def test_two_runs_at_once_one_loads_one_skips(rel: RelWorld, lane: str) -> None:
    advance(rel.settings, hours=1)
    job = registry().lane(lane).job
    since = utcnow()
    procs = [rel.lane_cli(lane), rel.lane_cli(lane)]
    codes = [p.wait() for p in procs]
    outputs = [rel.outputs[p.pid].read_text(errors="replace") for p in procs]
    assert codes == [0, 0], outputs
    assert _statuses(outputs) == ["skipped", "succeeded"], outputs
    runs = rel.pipeline_runs(job, since)
    assert [s for s, _ in runs].count("succeeded") == 1 and runs[-1][0] == "succeeded", runs
    loads = rel.wh_rows(
        "SELECT count(DISTINCT load_id) FROM raw_meta.load_log WHERE lane = ? AND started_at >= ?",
        [lane, since],
    )[0][0]
    assert loads == 1, "only the run holding the lock loaded"
    rel.assert_lane_equals_source(lane, f"{lane} after two runs at once")
    state_after = rel.meltano_state()

    again_since = utcnow()
    again = rel.lane(lane)
    assert again.status == "succeeded", again.error
    inserted = rel.wh_rows(
        "SELECT coalesce(sum(rows_inserted), 0) FROM raw_meta.load_log "
        "WHERE lane = ? AND started_at >= ?",
        [lane, again_since],
    )[0][0]
    assert inserted == 0, f"the next {lane} run moved {inserted} new rows: its state was lost"
    assert state_after, "Meltano recorded no state"
    rel.assert_lane_equals_source(lane, f"{lane} rerun after two runs at once")
    TALLY.note(f"two {lane} runs at once: one loaded, one skipped; next run inserted 0 rows")
