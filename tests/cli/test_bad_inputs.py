"""Every `brightcart` command refuses bad input the same way, before it touches anything.

Each case runs the real command in a process of its own against a landed world: exit code 2, one
line on stderr that starts with `error:` and names what was wrong, nothing on stdout, and the
warehouse's raw and ops tables, Meltano's state, the alerts and the sources exactly as before.
"""

from __future__ import annotations

import subprocess
from concurrent.futures import ThreadPoolExecutor

from .conftest import CliWorld

OK_WINDOW = ("--start", "2026-11-01", "--end", "2026-11-02")

# (arguments, words the one-line message must contain)
CASES: list[tuple[tuple[str, ...], str]] = [
    (("backfill", "--source", "shop", "--start", "2030-01-01", "--end", "2030-01-02"), "future"),
    (("backfill", "--source", "shop", "--start", "2026-11-02", "--end", "2026-11-01"), "empty"),
    (("backfill", "--source", "shop", "--start", "2026-11-01", "--end", "2026-11-01"), "empty"),
    (("backfill", "--source", "shop", "--start", "garbage", "--end", "2026-11-02"), "not a day"),
    (("backfill", "--source", "nope", *OK_WINDOW), "unknown source 'nope'"),
    (("backfill", "--source", "shop", *OK_WINDOW, "-e", "nonexistent"), "unknown environment"),
    (("reconcile", "--start", "2026-11-02", "--end", "2026-11-01"), "empty"),
    (("reconcile", "--start", "2026-11-01"), "give both --start and --end"),
    (("reconcile", "--start", "garbage", "--end", "2026-11-02"), "not a day"),
    (("reconcile", "--days", "0"), "--days"),
    (("reconcile", "-e", "nonexistent"), "unknown environment"),
    (("transform", "-e", "nonexistent"), "unknown environment"),
    (("lane", "run", "shop", "-e", "nonexistent"), "unknown environment"),
    (("lane", "run", "nope"), "unknown lane nope"),
    (("run", "nope"), "unknown job 'nope'"),
    (("run", "shop-lane", "-e", "nonexistent"), "unknown environment"),
    (("env", "-e", "nonexistent"), "unknown environment"),
    (("lineage", "bi.nope", "net_revenue"), "unknown model 'bi.nope'"),
    (("lineage", "bi.executive_daily", "nope"), "has no column 'nope'"),
    (("retention", "--as-of", "garbage"), "not a date or time"),
    (("retention", "--as-of", "2031-01-01"), "future"),
    (("demo", "--start", "garbage"), "not a day"),
    (("demo", "--days", "0"), "--days"),
    (("demo", "--start", "2030-01-01"), "past today"),
    (("world", "generate", "--start", "garbage"), "not a date or time"),
    (("world", "generate", "--start", "2026-11-03", "--end", "2026-11-01"), "empty"),
    (("world", "generate", "--scale", "0"), "scale must be"),
    (("world", "advance", "--hours", "0"), "give 1 to"),
    (("world", "fault", "shop", "nope"), "unknown shop fault"),
    (("close-month", "2026-13"), "not a month"),
    (("reproduce", "garbage"), "not a month"),
    (("ui", "--mode", "nope"), "expected one of"),
    (("status", "--bogus"), "No such option"),
    (("publish", "lineage", "--dashboard", "nope"), "unknown dashboard 'nope'"),
    (("nope",), "No such command"),
]


def _problems(args: tuple[str, ...], words: str, done: subprocess.CompletedProcess[str]) -> str:
    lines = done.stderr.strip().splitlines()
    shown = f"`brightcart {' '.join(args)}` exit {done.returncode}, stderr {done.stderr!r}"
    if done.returncode != 2:
        return f"{shown}: exit code is not 2"
    if len(lines) != 1 or not lines[0].startswith("error: "):
        return f"{shown}: not one `error:` line"
    if words not in lines[0]:
        return f"{shown}: does not say {words!r}"
    if done.stdout.strip():
        return f"{shown}: printed on stdout {done.stdout[:300]!r}"
    return ""


def test_bad_inputs_exit_2_with_one_line_and_change_nothing(cli_world: CliWorld) -> None:
    assert len(CASES) >= 20
    before = cli_world.snapshot()
    assert any(k.startswith("raw_shop.") and v[0] for k, v in before.items() if v)
    assert before["meltano state"], "the shop lane left Meltano state to protect"
    with ThreadPoolExecutor(max_workers=2) as pool:
        runs = list(pool.map(lambda case: cli_world.run(*case[0]), CASES))
    problems = [
        p
        for (args, words), done in zip(CASES, runs, strict=True)
        if (p := _problems(args, words, done))
    ]
    assert not problems, "\n".join(problems)
    after = cli_world.snapshot()
    changed = {k: (before.get(k), after.get(k)) for k in before.keys() | after.keys()}
    changed = {k: v for k, v in changed.items() if v[0] != v[1]}
    assert not changed, f"a refused command changed something: {changed}"


def test_a_second_lane_run_says_it_skipped_because_the_lock_is_held(cli_world: CliWorld) -> None:
    from brightcart_ops.locks import lane_lock

    before = cli_world.snapshot()
    with lane_lock("shop-lane", cli_world.settings.home):
        done = cli_world.run("lane", "run", "shop")
    assert done.returncode == 0, done.stderr  # a skip is not a failure
    assert "shop: skipped: shop-lane is already running (lock file" in done.stderr
    assert "skipped" in done.stdout
    assert cli_world.snapshot() == before


def test_a_lane_whose_source_is_down_says_where_it_could_not_reach(cli_world: CliWorld) -> None:
    dead = "1"  # nothing listens on port 1
    done = cli_world.run("lane", "run", "shop", "--attempts", "1", env={"BRIGHTCART_PG_PORT": dead})
    assert done.returncode == 1, done.stdout
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, lines
    assert lines[0].startswith("error: shop: ") and f"unreachable at 127.0.0.1:{dead}" in lines[0]
