"""`python -m bench`: measure the BrightCart pipeline on generated data and print the figures.

    python -m bench [--scale 0.05] [--days 1] [--quick] [--history-days 7,90]
                    [--history-scale 0.01] [--no-history | --only-history] [--keep]

Writes bench/out/results.md and bench/out/chart.png. Never asserts on time.
Each world runs on its own ports (6700-6799), home (/tmp/bench/<name>) and `bench_` database and
is stopped (and its database dropped) at the end.
"""

from __future__ import annotations

import argparse
import datetime as dt
import os
import time
from pathlib import Path

from rich.console import Console

from bench import bulk_table, lanes, report, transform
from bench.figures import Results, Step
from bench.proc import Measured
from bench.scaleout import (
    EVENTS_PER_DAY,
    SHOP_UPDATES_PER_DAY,
    peak_hour_rows,
    production_rows_per_day,
    vcpus_needed,
)
from bench.world import World

OUT = Path(__file__).resolve().parent / "out"
console = Console()


def parse_args() -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m bench", description=__doc__.splitlines()[0])
    parser.add_argument("--scale", type=float, default=0.05, help="generator scale (1.0 = 1:100)")
    parser.add_argument("--days", type=int, default=7, help="days of data in the main world")
    parser.add_argument("--hours", type=int, help="main world window in hours (instead of --days)")
    parser.add_argument(
        "--cycle-only",
        action="store_true",
        help="skip section 1: load the window, then time the hourly cycle "
        "(with --scale 1.0 the cycle's hour is 1:100 of production)",
    )
    parser.add_argument("--quick", action="store_true", help="small and fast: scale 0.002")
    parser.add_argument("--history-days", default="7,90", help="short,long history for section 3")
    parser.add_argument("--history-scale", type=float, default=0.01)
    sections = parser.add_mutually_exclusive_group()
    sections.add_argument("--no-history", action="store_true", help="skip section 3")
    sections.add_argument(
        "--only-history", action="store_true", help="run section 3 alone (no main world)"
    )
    parser.add_argument(
        "--reuse-lanes",
        action="store_true",
        help="take section 1 from the existing bench/out/results.md; only load the data",
    )
    parser.add_argument("--keep", action="store_true", help="keep the bench_ databases")
    parser.add_argument(
        "--reuse-world",
        action="store_true",
        help="with --cycle-only: the main world an earlier run kept (--keep), no generation; "
        "plan this checkout's project in it (SQLMesh builds only what changed) and time one "
        "more cycle, so two versions of the project compare on the same data",
    )
    parser.add_argument(
        "--bulk-rows",
        type=int,
        default=2_000_000,
        help="rows of the one-table section (our shop lane vs dlt and COPY); 0 skips it",
    )
    parser.add_argument(
        "--only-bulk", action="store_true", help="run the one-table section alone (~5 min)"
    )
    parser.add_argument(
        "--only-lanes",
        action="store_true",
        help="the main world's section 1 alone (lanes and peers; no plan, cycle or restate)",
    )
    args = parser.parse_args()
    if args.reuse_world and not args.cycle_only:
        parser.error("--reuse-world goes with --cycle-only")
    if args.quick:
        args.scale, args.days, args.history_days, args.history_scale = 0.002, 1, "1,3", 0.002
    return args


def clock_hour() -> dt.datetime:
    """The wall-clock hour now begun, UTC."""
    return dt.datetime.now(dt.UTC).replace(minute=0, second=0, microsecond=0)


def simulated_end() -> dt.datetime:
    """Data ends a few hours before the wall clock so that sqlmesh run sees every new hour."""
    return clock_hour().replace(tzinfo=None) - dt.timedelta(hours=3)


def say(text: str) -> None:
    console.print(f"[bold cyan]bench[/] {dt.datetime.now(dt.UTC):%H:%M:%S} {text}")


def main_world(args: argparse.Namespace, results: Results, cycle_rows: dict[str, int]) -> None:
    world = World("main", 6720)
    if args.reuse_world:
        reused_world(world, results, cycle_rows, keep=args.keep)
        return
    end = simulated_end()
    window = dt.timedelta(hours=args.hours) if args.hours else dt.timedelta(days=args.days)
    start = end - window
    world.fresh()
    try:
        world.up()
        say(f"generating {start:%Y-%m-%d %H:%M} → {end:%Y-%m-%d %H:%M} at scale {args.scale}")
        gen = world.generate(start, end, args.scale)
        if not gen.ok:
            results.notes.append(f"world generate failed: {gen.tail[-300:]}")
            return
        results.notes.append(f"main world generated in {gen.wall_s:.1f} s")
        skip_lanes = args.reuse_lanes or args.cycle_only
        if skip_lanes:
            say("section 1 not measured in this run; loading the data")
            results.cycle += transform.lanes_all(world, prefix="load the window: ")
        for spec in [] if skip_lanes else lanes.LANE_SPECS:
            say(f"{spec.lane}: lane end to end, rerun, tap alone, loader alone")
            results.figures += lanes.lane_end_to_end(world, spec)
            results.figures += lanes.tap_and_loader(world, spec)
            if spec.lane == "shop":
                say("shop baselines: binary COPY, dlt")
                results.figures += lanes.shop_peers(world, args.quick)
            if spec.lane == "events":
                say("events baseline: DuckDB read_json")
                results.figures += lanes.events_peers(world)
        if args.only_lanes:
            return
        say("sqlmesh plan prod (initial backfill)")
        plan = transform.plan_prod(world)
        results.cycle.append(Step.of("before the cycle: sqlmesh plan prod (backfill)", plan))
        cycle(world, results, cycle_rows)
        day = (end - dt.timedelta(days=1)).date()
        if window < dt.timedelta(days=1) or not plan.ok:
            results.restate.append(
                Step("restate one day", None, None, "not measured", "initial plan failed")
                if not plan.ok
                else Step("restate one day", None, None, "not measured", "no whole day")
            )
        else:
            say(f"restate {day}")
            results.restate.append(transform.restate_day(world, day))
    finally:
        say("stopping the main world")
        world.down(drop=not args.keep)


def reused_world(world: World, results: Results, cycle_rows: dict[str, int], keep: bool) -> None:
    """Section 2 on a kept main world: plan the checkout's project, then one hourly cycle."""
    landed = world.landed_to()
    if landed is None:
        raise SystemExit(
            f"python -m bench: --reuse-world: no kept main world in {world.home} "
            "(run --cycle-only --keep first)"
        )
    if dt.datetime.now(dt.UTC) - landed < dt.timedelta(hours=2):
        # the cycle's hour and the hour after it must be due by the wall clock
        after = landed + dt.timedelta(hours=2)
        raise SystemExit(
            f"python -m bench: --reuse-world: the kept world has landed to {landed.isoformat()}, "
            f"less than 2 hours before the clock; reuse it after {after.isoformat()}"
        )
    try:
        world.up()
        results.notes.append(f"main world reused from {world.home}, landed to {landed}")
        say("sqlmesh plan prod (what changed since the world's last plan)")
        plan = transform.plan_prod(world, "sqlmesh plan prod (changes)")
        results.cycle.append(Step.of("before the cycle: sqlmesh plan prod (changes)", plan))
        cycle(world, results, cycle_rows)
    finally:
        say("stopping the main world")
        world.down(drop=not keep)


def cycle(world: World, results: Results, cycle_rows: dict[str, int]) -> None:
    say("hourly cycle")
    known = world.load_ids()
    results.cycle += transform.hourly_cycle(world)
    for lane in transform.LANES:
        cycle_rows[lane] = world.landed_since(lane, known)[1]
    results.notes.append(
        "rows landed in the cycle's hour: " + ", ".join(f"{k} {v:,}" for k, v in cycle_rows.items())
    )


def history_world(args: argparse.Namespace, days: int, port_base: int) -> list[Step]:
    world = World(f"h{days}", port_base)
    end = simulated_end()
    world.fresh()
    steps: list[Step] = []
    try:
        world.up()
        say(f"history world: {days} days at scale {args.history_scale}")
        gen = world.generate(end - dt.timedelta(days=days), end, args.history_scale)
        steps.append(Step.of(f"{days} d: world generate", gen))
        if not gen.ok:
            return steps
        steps += transform.lanes_all(world, prefix=f"{days} d: ")
        steps.append(Step.of(f"{days} d: sqlmesh plan prod (backfill)", transform.plan_prod(world)))
        settled, hour = settle(world, days)
        steps.append(settled)
        world.brightcart("advance", "world", "advance", "--hours", "1")
        transform.lanes_all(world, prefix=f"{days} d: ")
        transform.outwait_coalescing(world)  # both worlds' runs publish, as production's does
        run = transform.run_prod(world, f"{days} d: hourly sqlmesh run")
        note = f"{cpu_note(run)}; {transform.publish_outcome(world)}"
        if clock_hour() != hour:
            note += "; not like for like: a wall-clock hour began after the settling run"
        steps.append(Step.of(f"{days} d: hourly sqlmesh run (1 new hour)", run, note))
        # the lanes landed nothing since: every interval's signal still waits, nothing is due
        idle = transform.run_prod(world, f"{days} d: hourly sqlmesh run, nothing new")
        steps.append(
            Step.of(f"{days} d: hourly sqlmesh run (nothing new landed)", idle, cpu_note(idle))
        )
    finally:
        world.down(drop=not args.keep)
    return steps


# the advance, the lanes, the wait for the publish's coalesce window (5 min) and the run fit in it
SETTLE_MARGIN = dt.timedelta(minutes=12)


def settle(world: World, days: int) -> tuple[Step, dt.datetime]:
    """A `sqlmesh run prod` (not measured) that does what the wall clock made due, in the hour
    the measured run will start in: an hourly view is evaluated, with its audits over every row,
    in the first run of each wall-clock hour, so a measured run that met a new hour did work the
    other world's did not. Less than ``SETTLE_MARGIN`` before the hour ends, it waits for the
    next hour first. Returns the run's step and the hour it ran in."""
    now = dt.datetime.now(dt.UTC)
    next_hour = clock_hour() + dt.timedelta(hours=1)
    if next_hour - now < SETTLE_MARGIN:
        say(f"{days} d: waiting for {next_hour:%H:%M} so the measured hour starts in one hour")
        time.sleep((next_hour - now).total_seconds() + 5)
    hour = clock_hour()
    run = transform.run_prod(world, f"{days} d: settling run")
    step = Step.of(f"{days} d: settling sqlmesh run (not measured)", run, f"hour {hour:%H:%M}")
    return step, hour


def cpu_note(measured: Measured) -> str:
    return f"{measured.cpu_s:.1f} CPU s"


def cpu_seconds(step: Step) -> float | None:
    """The CPU seconds `cpu_note` wrote: steadier than wall time on a shared machine."""
    head = step.note.split(" CPU s", 1)[0]
    try:
        return float(head)
    except ValueError:
        return None


def history(args: argparse.Namespace, results: Results) -> None:
    short, long = (int(x) for x in args.history_days.split(","))
    runs: dict[int, Step] = {}
    for days, port in ((short, 6730), (long, 6740)):
        steps = history_world(args, days, port)
        results.history += steps
        write(results)
        for step in steps:
            if step.name.endswith("(1 new hour)") and step.status == "ok":
                runs[days] = step
    if short in runs and long in runs:
        a, b = runs[short].wall_s or 0.0, runs[long].wall_s or 0.0
        ratio = b / a if a else float("nan")
        cpu_a, cpu_b = cpu_seconds(runs[short]), cpu_seconds(runs[long])
        cpu_ratio = f"; CPU ratio {cpu_b / cpu_a:.2f}" if cpu_a and cpu_b else ""
        results.history.append(
            Step(
                f"ratio hourly run {long} d / {short} d",
                ratio,
                None,
                "ok",
                f"wall ratio (column 2); near 1 = incremental{cpu_ratio}",
            )
        )
    else:
        results.history.append(
            Step(
                f"ratio hourly run {long} d / {short} d",
                None,
                None,
                "not measured",
                "an hourly sqlmesh run failed (see the rows above)",
            )
        )


def scale_out(results: Results, args: argparse.Namespace, cycle_rows: dict[str, int]) -> None:
    for spec in lanes.LANE_SPECS:
        lane = spec.lane
        marginal = results.find(lane, "lane marginal")
        e2e = results.find(lane, "lane end to end")
        fixed = next(
            (f for f in results.figures if f.lane == lane and f.kind == "fixed" and f.wall_s),
            None,
        )
        if lane == "events":
            per_day, basis = float(EVENTS_PER_DAY), "brief: 150M events/day"
        elif lane == "shop":
            per_day, basis = float(SHOP_UPDATES_PER_DAY), "brief: 12M updates/day"
        elif lane == "marketing" and e2e and e2e.rows:
            per_day = e2e.rows / args.days
            basis = "one CSV a day, one row per campaign (does not grow with traffic)"
        elif lane == "crm" and cycle_rows.get(lane):
            per_day = production_rows_per_day(cycle_rows[lane] * 24, 1, args.scale)
            basis = "generator: cycle hour × 24 ÷ scale × 100"
        elif e2e and e2e.rows:
            per_day = production_rows_per_day(e2e.rows, args.days, args.scale)
            basis = "generator: rows/day ÷ scale × 100"
        else:
            results.scale_out.append(_no_scale(lane, "no lane figure"))
            continue
        source = marginal if marginal and marginal.cpu_s and marginal.cpu_s > 0 else e2e
        if source is None or not source.rows or not source.cpu_s or source.cpu_s <= 0:
            results.scale_out.append(_no_scale(lane, "no CPU figure for the lane"))
            continue
        rate = source.rows / source.cpu_s
        startup = fixed.wall_s if fixed and fixed.wall_s and source is marginal else 0.0
        peak = peak_hour_rows(per_day)
        try:
            model = vcpus_needed(peak, rate, startup_seconds=startup or 0.0)
            vcpus = str(model.vcpus)
        except ValueError as error:
            vcpus = f"not measured: {error}"
        results.scale_out.append(
            {
                "lane": lane,
                "per_day": f"{per_day:,.0f}",
                "peak": f"{peak:,.0f}",
                "rate": f"{rate:,.0f}" + ("" if source is marginal else " (incl. start-up)"),
                "startup": f"{startup:.0f}",
                "vcpus": vcpus,
                "basis": basis,
            }
        )


def _no_scale(lane: str, reason: str) -> dict[str, object]:
    return {
        "lane": lane,
        "per_day": "–",
        "peak": "–",
        "rate": "–",
        "startup": "–",
        "vcpus": f"not measured: {reason}",
        "basis": "",
    }


def write(results: Results, final: bool = False) -> str:
    """Write results.md and chart.png (after every section, so a cut-short run leaves figures)."""
    OUT.mkdir(parents=True, exist_ok=True)
    s = World("main", 6720).settings
    dsn = f"host={s.pg_host} port={s.pg_port} user={s.pg_user} dbname=postgres"
    text = report.markdown(results, report.machine(dsn))
    if not final:
        text = text.replace("benchmark results", "benchmark results (partial)", 1)
    (OUT / "results.md").write_text(text, encoding="utf-8")
    report.chart(results, OUT / "chart.png")
    return text


def main() -> None:
    args = parse_args()
    os.environ["SQLMESH__DISABLE_ANONYMIZED_ANALYTICS"] = "1"
    os.environ["RUNTIME__DLTHUB_TELEMETRY"] = "false"
    results = Results(args.scale, args.days, f"{dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M}")
    results.notes.append(
        "rows/s = rows landed ÷ wall seconds. Every lane and every peer is a whole process "
        "(start-up included), started from the same data; 'warm' repeats a run into a fresh "
        "destination; a peer's in-process rate is in its note. 'marginal' subtracts the wall "
        "time of a rerun with nothing new. CPU s = user+system of the measured "
        "process tree, not of the PostgreSQL, S3 or Salesforce servers."
    )
    results.notes.append(f"load average (1 min) at the start: {os.getloadavg()[0]:.1f}")
    if args.reuse_lanes:
        previous = (OUT / "results.md").read_text(encoding="utf-8")
        results.figures = report.parse_lane_table(previous)
        first = previous.splitlines()[2] if len(previous.splitlines()) > 2 else ""
        results.notes.append(f"section 1 measured in an earlier run ({first.strip()})")
    cycle_rows: dict[str, int] = {}
    if args.bulk_rows > 0 and not args.only_history:
        say(f"one table of {args.bulk_rows:,} rows: our shop lane, dlt + connectorx, COPY")
        results.figures += bulk_table.run(args.bulk_rows, keep=args.keep)
        write(results)
    if args.only_bulk:
        text = write(results, final=True)
        print(text)
        return
    if args.only_history:
        results.notes.append("--only-history: sections 1, 2 and 4 not measured in this run")
    else:
        main_world(args, results, cycle_rows)
        scale_out(results, args, cycle_rows)
        write(results)
    if not args.no_history and not args.only_lanes:
        history(args, results)
    else:
        results.history.append(
            Step("history comparison", None, None, "not measured", "--no-history")
        )
    text = write(results, final=True)
    print(text)
    console.print(f"written: {OUT / 'results.md'}, {OUT / 'chart.png'}")


if __name__ == "__main__":
    main()
