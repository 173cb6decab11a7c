"""Case 1: kill -9 of a lane's whole process group at a seeded random point, then a rerun: the
warehouse equals the source, with no version landed twice (`sqlmesh run`: test_07).

Before every trial the world advances one simulated hour so that the killed run has new rows to
move. The kill point is drawn from the seed, uniformly inside the duration of the latest clean
run of the same lane, so kills land during start-up, extraction, loading and the state write
alike. The killed run is `meltano run --force <job>` in a process group of its own; the rerun is
the lane as its schedule runs it (`run_lane`: lane lock, `--force`, leftover config files swept),
right after the kill, and must succeed at its first attempt: Meltano's record of the killed job,
still `running`, does not hold it back. A trial counts only if the run was alive when the kill hit
it; each lane has at least one counted trial (extra trials aim early until one hits).
"""

from __future__ import annotations

import pytest

from brightcart_world.generator import advance

from .harness import EXTRA_TRIALS, KILL_LANES, RelWorld, Size, record_kill


@pytest.mark.parametrize("lane", KILL_LANES)
def test_kill_9_lane_then_rerun_equals_source(rel: RelWorld, size: Size, lane: str) -> None:
    trials = size.trial_counts()[lane]
    assert trials > 0
    counted = trial = 0
    while trial < trials or (counted == 0 and trial < trials + EXTRA_TRIALS):
        trial += 1
        advance(rel.settings, hours=1)
        delay = rel.kill_point(lane, early=trial > trials)
        outcome = rel.kill_at(lane, rel.meltano_popen(lane), delay)
        rerun = rel.lane(lane)
        assert (rerun.status, rerun.attempts) == ("succeeded", 1), f"{lane} rerun: {rerun.error}"
        rel.assert_lane_equals_source(lane, f"{lane} after kill -9 at {delay}s")
        leftovers = sorted((rel.settings.home / "batches" / lane).glob("*"))
        assert leftovers == [], f"{lane}: BATCH files left after the rerun: {leftovers}"
        counted += record_kill(outcome, trial)
    assert counted >= 1, f"none of {trial} {lane} trials killed a running process"
    assert sum(rel.rejects().values()) == 0, rel.rejects()
