"""Case 1: kill -9 of a lane's whole process group (or of `sqlmesh run`) at a seeded random point,
then a rerun: the warehouse equals the source, with no version landed twice.

Before every trial the world advances one simulated hour so that the killed run has new rows to
move. The kill point is drawn from the seed, uniformly inside the duration of the latest clean
run of the same lane, so kills land during start-up, extraction, loading and the
state write alike. Killed runs and reruns are `meltano run --force <job>` in a process group of
their own: a plain run refuses to start for five minutes after a kill (run_lane passes --force,
checked by the case at the end), which is also why this module runs after the outage and
concurrency cases.
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from brightcart_world.generator import advance

from .harness import TALLY, WORLD_START, KillOutcome, RelWorld, Size

LANE_TARGETS = ("shop", "events", "marketing", "crm")


def _split(total: int, targets: int) -> list[int]:
    return [total // targets + (1 if i < total % targets else 0) for i in range(targets)]


class SqlmeshProd:
    """A prod environment planned once; `ready` says why trials cannot run when it failed."""

    def __init__(self, world: RelWorld) -> None:
        self.world = world
        log = world.settings.home / "logs" / "transform.log"
        seen = log.stat().st_size if log.exists() else 0
        result = world.sqlmesh("plan", "--auto-apply", "--no-prompts")
        if result.status == "succeeded":
            result = world.sqlmesh("run")
        self.ready = result.status == "succeeded"
        self.reason = "" if self.ready else _errors(log, seen) or _tail(result.output_tail)


def _errors(log: Path, offset: int) -> str:
    """The distinct error lines SQLMesh wrote to the transform log after `offset`."""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", errors="replace")
    keep: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if ("Error" in line or "audit error" in line) and line not in keep:
            keep.append(line)
    return " | ".join(keep)[:1200]


def _tail(text: str) -> str:
    lines = [ln.strip() for ln in text.splitlines() if ln.strip()]
    return " | ".join(lines[-12:])[-900:]


@pytest.fixture(scope="module")
def sqlmesh_prod(rel: RelWorld) -> Iterator[SqlmeshProd]:
    yield SqlmeshProd(rel)


def _trial_counts(size: Size, sqlmesh_ready: bool) -> dict[str, int]:
    targets = [*LANE_TARGETS, *(["sqlmesh"] if sqlmesh_ready else [])]
    return dict(zip(targets, _split(size.trials, len(targets)), strict=True))


def _record(outcome: KillOutcome, trial: int) -> None:
    assert outcome.leftovers == 0, f"{outcome.what}: processes survived kill -9 of their group"
    TALLY.trials += 1
    state = "killed" if outcome.killed else "finished before the kill point"
    TALLY.note(f"kill -9 {outcome.what} trial {trial} at {outcome.delay_s:.2f}s: {state}")


@pytest.mark.parametrize("lane", LANE_TARGETS)
def test_kill_9_lane_then_rerun_equals_source(
    rel: RelWorld, size: Size, sqlmesh_prod: SqlmeshProd, lane: str
) -> None:
    trials = _trial_counts(size, sqlmesh_prod.ready)[lane]
    assert trials > 0
    for trial in range(1, trials + 1):
        advance(rel.settings, hours=1)
        delay = rel.kill_point(lane)
        outcome = rel.kill_at(lane, rel.meltano_popen(lane), delay)
        rerun = rel.meltano_popen(lane)
        assert rel.wait_clean(lane, rerun) == 0, f"{lane} rerun: {rel.output_tail(rerun)}"
        rel.assert_lane_equals_source(lane, f"{lane} after kill -9 at {delay}s")
        _record(outcome, trial)
    assert sum(rel.rejects().values()) == 0, rel.rejects()


def _ledger_diff(rel: RelWorld) -> tuple[int, int, int]:
    """(lost, extra, duplicated) of the revenue ledger's sale entries against the source."""
    with rel.warehouse() as wh:
        hwm_row = wh.execute(
            "SELECT max(high_water_mark) FROM raw_meta.load_log "
            "WHERE lane = 'shop' AND status = 'succeeded'"
        ).fetchone()
        dup_row = wh.execute(
            "SELECT count(*) - count(DISTINCT entry_id) FROM marts_finance.revenue_ledger"
        ).fetchone()
        ledger_orders = {
            r[0]
            for r in wh.execute(
                "SELECT DISTINCT order_id FROM marts_finance.revenue_ledger "
                "WHERE entry_type = 'sale'"
            ).fetchall()
        }
    assert hwm_row and hwm_row[0] and dup_row
    hwm: datetime = hwm_row[0].astimezone(UTC)
    cutoff = hwm.replace(minute=0, second=0, microsecond=0)
    if cutoff + timedelta(hours=1) <= hwm:
        cutoff += timedelta(hours=1)
    with rel.source() as pg:
        paid = {
            r[0]
            for r in pg.execute(
                "SELECT DISTINCT o.order_id FROM shop.orders o JOIN shop.order_items i "
                "USING (order_id) WHERE o.paid_at >= %s AND o.paid_at < %s",
                (WORLD_START, cutoff),
            ).fetchall()
        }
    return len(paid - ledger_orders), len(ledger_orders - paid), int(dup_row[0])


def test_kill_9_sqlmesh_run_then_rerun_equals_source(
    rel: RelWorld, size: Size, sqlmesh_prod: SqlmeshProd
) -> None:
    if not sqlmesh_prod.ready:
        pytest.skip(
            "sqlmesh prod plan does not apply on a lane-loaded world yet, so its kill trials "
            f"are spread over the lanes; sqlmesh said: {sqlmesh_prod.reason}"
        )
    trials = _trial_counts(size, True)["sqlmesh"]
    lost, extra, dup = _ledger_diff(rel)
    assert (lost, extra, dup) == (0, 0, 0), "the ledger differs from the source before any kill"
    for trial in range(1, trials + 1):
        advance(rel.settings, hours=1)
        shop = rel.meltano_popen("shop")
        assert shop.wait() == 0, rel.output_tail(shop)
        delay = rel.kill_point("sqlmesh")
        outcome = rel.kill_at("sqlmesh run", rel.sqlmesh_popen("run"), delay)
        rerun = rel.sqlmesh_popen("run")
        assert rel.wait_clean("sqlmesh", rerun) == 0, rel.output_tail(rerun, 40)
        lost, extra, dup = _ledger_diff(rel)
        TALLY.rows_lost += lost
        TALLY.rows_duplicated += dup
        assert (lost, extra, dup) == (0, 0, 0), f"ledger after kill at {delay}s"
        _record(outcome, trial)


def test_run_lane_right_after_a_kill_succeeds(rel: RelWorld) -> None:
    proc = rel.meltano_popen("events")
    while proc.poll() is None and "Running job" not in rel.output_tail(proc, 50):
        time.sleep(0.1)
    time.sleep(1.0)  # let Meltano record the job before the kill
    assert rel.kill_at("events", proc, 0).killed
    result = rel.lane("events", attempts=2, backoff=0.2)
    TALLY.note(f"run_lane right after kill -9 of events: {result.status}")
    assert result.status == "succeeded", result.error
