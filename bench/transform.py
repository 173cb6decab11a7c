"""Sections 2-4: the hourly cycle, sqlmesh run against history length, restating one day."""

from __future__ import annotations

import re
import time
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

from bench.figures import NOTHING_NEW, PIPELINE_CYCLE, Step
from bench.proc import Measured
from bench.world import World, bin_path
from brightcart_ops.publish.datasets import load as load_dataset_map
from brightcart_ops.registry import registry
from brightcart_world.settings import REPO_ROOT

LANES = list(registry().lanes)  # the lane registry (meltano.yml), in declaration order
# Unit tests and the linter are checked by `make test`; the benchmark measures the backfill only.
PLAN_FLAGS = ["--auto-apply", "--no-prompts", "--skip-tests", "--skip-linter"]
MODEL_NAME = re.compile(r"MODEL\s*\(\s*name\s+([\w.]+)", re.IGNORECASE)


def sqlmesh(world: World, label: str, *args: str) -> Measured:
    return world.run(label, [bin_path("sqlmesh"), "--gateway", "local", *args])


def plan_prod(world: World, label: str = "sqlmesh plan prod (initial backfill)") -> Measured:
    return sqlmesh(world, label, "plan", "prod", *PLAN_FLAGS)


def run_prod(world: World, label: str = "sqlmesh run") -> Measured:
    return sqlmesh(world, label, "run", "prod")


def fact_models(models_dir: Path = REPO_ROOT / "models" / "marts") -> list[str]:
    """Incremental-by-time models under models/marts: the facts a restatement rebuilds."""
    names: list[str] = []
    for path in sorted(models_dir.rglob("*.sql")):
        text = path.read_text(encoding="utf-8")
        match = MODEL_NAME.search(text)
        if match and re.search(r"kind\s+INCREMENTAL_BY_TIME_RANGE", text, re.IGNORECASE):
            names.append(match.group(1))
    return names


def publish_step() -> tuple[list[str] | None, str]:
    """How publishing is wired today: its own command, the SQLMesh notification target, or none."""
    notify = REPO_ROOT / "sqlmesh" / "brightcart_sqlmesh" / "notify.py"
    ops_publish = REPO_ROOT / "ops" / "brightcart_ops" / "publish.py"
    cli = (REPO_ROOT / "ops" / "brightcart_ops" / "cli.py").read_text(encoding="utf-8")
    if ops_publish.exists() and '"publish"' in cli:
        return [bin_path("brightcart"), "publish"], "brightcart publish"
    if notify.exists():
        return None, "runs inside sqlmesh run (notification target)"
    return None, "not present yet"


def hourly_lanes() -> list[str]:
    """The lanes production runs every hour: those whose job has a schedule in meltano.yml firing
    at a fixed minute of every hour (the marketing lane's is daily)."""
    reg = registry()
    hourly: set[str] = set()
    for schedule in reg.schedules:
        fields = schedule.cron.split()
        lane = reg.lane_of_job(schedule.job)
        if lane is not None and len(fields) == 5 and fields[1:] == ["*"] * 4:
            hourly.add(lane.name)
    return [lane for lane in LANES if lane in hourly]


def lanes_all(world: World, prefix: str = "", lanes: list[str] | None = None) -> list[Step]:
    steps: list[Step] = []
    for lane in LANES if lanes is None else lanes:
        measured = world.brightcart(f"{prefix}lane {lane}", "lane", "run", lane, "--attempts", "1")
        steps.append(Step.of(f"{prefix}brightcart lane run {lane}", measured))
    return steps


def hourly_cycle(world: World) -> list[Step]:
    """world advance 1 h, the hourly lanes, sqlmesh run, publish when it is a step of its own.

    The lanes are those production runs every hour (`hourly_lanes`: the marketing lane is daily,
    its files land in its own run). Two totals: the whole cycle, and the pipeline's cycle without
    the world's advance. The advance is the sources' hour (the generator writing production's
    orders to PostgreSQL, its events to S3 and its Salesforce changes), which production does not
    run; the pipeline's cycle is what an hour costs the pipeline, and the goal is held against
    it. Before the run the cycle waits, untimed, until the plan's publish is older than the
    coalesce window, so the run publishes as production's hourly run does."""
    advance = Step.of(
        "world advance --hours 1",
        world.brightcart("advance", "world", "advance", "--hours", "1"),
    )
    pipeline = lanes_all(world, lanes=hourly_lanes())
    outwait_coalescing(world)
    pipeline.append(Step.of("sqlmesh run prod", run_prod(world), publish_outcome(world)))
    argv, how = publish_step()
    if argv is None:
        pipeline.append(Step("publish", None, None, "-", how))
    else:
        pipeline.append(Step.of("publish", world.run("publish", argv)))
    steps = [advance, *pipeline]
    steps.append(total_of("whole cycle", steps))
    steps.append(total_of(PIPELINE_CYCLE, pipeline, "lanes, sqlmesh run, publish"))
    steps.append(nothing_new(world))
    return steps


def last_publish(world: World) -> tuple[datetime | None, dict[str, int]]:
    """When the world last published, and that publish's decisions counted by status."""
    rows = world.warehouse_query(
        "SELECT status, count(*), max(published_at) FROM ops.publish_log WHERE batch_id = "
        "(SELECT batch_id FROM ops.publish_log ORDER BY published_at DESC LIMIT 1) GROUP BY status"
    )
    at = max((r[2] for r in rows), default=None)
    return at, {str(r[0]): int(r[1]) for r in rows}


def outwait_coalescing(world: World) -> None:
    """Wait until the last publish is older than the dataset map's coalesce window. Production's
    hourly run publishes an hour after the one before, so its datasets refresh; the cycle's run
    comes minutes after the plan that built the world, whose publish would defer them."""
    at, _ = last_publish(world)
    if at is None:
        return
    window = timedelta(minutes=load_dataset_map().limits.coalesce_minutes, seconds=5)
    wait = (at + window - datetime.now(UTC)).total_seconds()
    if wait > 0:
        time.sleep(wait)


def publish_outcome(world: World) -> str:
    """The run's publish, as its decisions ended: "publish: 7 succeeded", "publish: 7 deferred"."""
    _, statuses = last_publish(world)
    if not statuses:
        return "publish: none recorded"
    return "publish: " + ", ".join(f"{n} {status}" for status, n in sorted(statuses.items()))


def total_of(name: str, steps: list[Step], note: str = "") -> Step:
    """The steps' wall times summed, their highest peak, failed when one failed."""
    total = sum(s.wall_s or 0.0 for s in steps)
    peak = max((s.peak_rss_mib or 0.0) for s in steps)
    failed = [s.name for s in steps if s.status.startswith("failed")]
    status = "ok" if not failed else "with failures"
    return Step(name, total, peak, status, ", ".join(failed) or note)


def nothing_new(world: World) -> Step:
    """`sqlmesh run prod` once the lanes landed nothing since: the fixed cost of an hourly run
    (not part of the cycle). Measured only while the next hour is due by the wall clock, so that
    the run meets an hour that has not landed (a world advanced past the clock has none)."""
    landed = world.landed_to()
    if landed is None or datetime.now(UTC) - landed < timedelta(hours=1):
        return Step(
            NOTHING_NEW, None, None, "not measured", "the world has caught up with the clock"
        )
    idle = run_prod(world, "sqlmesh run, nothing new")
    return Step.of(NOTHING_NEW, idle, f"{idle.cpu_s:.1f} CPU s")


def restate_day(world: World, day: date) -> Step:
    models = fact_models()
    if not models:
        return Step("restate one day", None, None, "not measured", "no incremental fact models")
    args = ["plan", "prod"]
    for model in models:
        args += ["--restate-model", model]
    args += [
        "--start",
        day.isoformat(),
        "--end",
        (day + timedelta(days=1)).isoformat(),
        *PLAN_FLAGS,
    ]
    measured = sqlmesh(world, "restate one day", *args)
    return Step.of(
        f"restate {day.isoformat()} ({len(models)} fact models)",
        measured,
        ", ".join(models),
    )
