"""The README's daily commands run as written after a demo, from a new shell, in their order.

A demo (the real `brightcart demo`, three days at a small scale) builds a world of its own and
stops its sources, as `make demo` does. Then one new bash, whose environment holds only PATH,
HOME, LANG and the world's BRIGHTCART_HOME, runs the README's block line by line: every line
must exit 0, and `sqlmesh plan dev` must find nothing to change (the shell's SQLMesh sees the same
project as the demo's, BRIGHTCART_WAREHOUSE_START included).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from brightcart_ops.settings import PROJECT_ROOT
from brightcart_world.settings import Settings
from brightcart_world.sources import LocalSources
from brightcart_world.sources.isolation import dispose, isolated_settings, make_home

BRIGHTCART = Path(sys.executable).with_name("brightcart")
MARK = "::exit::"


def daily_block(readme: Path = PROJECT_ROOT / "README.md") -> list[str]:
    """The first indented block under "## Daily commands"."""
    text = readme.read_text(encoding="utf-8").split("## Daily commands", 1)[1]
    lines: list[str] = []
    for line in text.splitlines():
        if line.startswith("    "):
            lines.append(line.strip())
        elif lines:
            break
    return lines


def new_shell_env(home: Path) -> dict[str, str]:
    keep = {k: os.environ[k] for k in ("HOME", "LANG") if k in os.environ}
    return {**keep, "PATH": "/usr/local/bin:/usr/bin:/bin", "BRIGHTCART_HOME": str(home)}


@pytest.fixture
def after_demo(monkeypatch: pytest.MonkeyPatch) -> Iterator[Settings]:
    # The world's warehouse follows its home, as in a new shell: not a warehouse another test's
    # fixture exported (Settings.warehouse reads BRIGHTCART_WAREHOUSE first).
    monkeypatch.delenv("BRIGHTCART_WAREHOUSE", raising=False)
    settings = isolated_settings(make_home("bc_daily_"), db_prefix="bc_daily")
    world = LocalSources(settings)
    try:
        demo = subprocess.run(
            [str(BRIGHTCART), "demo", "--days", "3", "--hours", "1", "--scale", "0.0003"],
            env={**new_shell_env(settings.home), **world.env(), "COLUMNS": "200"},
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            timeout=1500,
            stdin=subprocess.DEVNULL,
        )
        assert demo.returncode == 0, demo.stdout[-3000:] + demo.stderr[-3000:]
        yield settings
    finally:
        dispose(world)


@pytest.mark.full
def test_readme_daily_commands_run_verbatim_after_the_demo(after_demo: Settings) -> None:
    lines = daily_block()
    assert lines[0].startswith('eval "$(.venv/bin/brightcart env)"'), lines[0]
    assert any(line.startswith(".venv/bin/sqlmesh plan dev") for line in lines)
    # One transcript in order: each line's output (stdout and stderr), then its exit code.
    script = "exec 2>&1\n" + "\n".join(
        f'{line}\necho "{MARK}{i}:$?"' for i, line in enumerate(lines)
    )
    shell = subprocess.run(
        ["bash", "--noprofile", "--norc", "-c", script],
        env={**new_shell_env(after_demo.home), "COLUMNS": "200"},
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        timeout=2400,
        stdin=subprocess.DEVNULL,
    )
    codes = {int(i): int(code) for i, code in re.findall(rf"{MARK}(\d+):(\d+)", shell.stdout)}
    assert len(codes) == len(lines), shell.stdout[-3000:]
    outputs = re.split(rf"{MARK}\d+:\d+\n", shell.stdout)
    failed = [
        f"{lines[i]} -> exit {code}:\n{outputs[i][-2500:]}" for i, code in codes.items() if code
    ]
    assert not failed, "\n\n".join(failed)
    plan_index = max(i for i, line in enumerate(lines) if "sqlmesh plan dev" in line)
    plan_output = outputs[plan_index]
    assert "No changes to plan: project files match the `dev` environment" in plan_output, (
        plan_output[-3000:]
    )
    assert "Modified" not in plan_output and "needing backfill" not in plan_output, plan_output
    # The freshness audit measures on the world's clock, as status and the dashboards do: the
    # lanes landed up to that clock, so no freshness incident stays open (on the wall clock,
    # days ahead of the world, every lane would read late and the incident would never close).
    alerts = after_demo.home / "alerts.jsonl"
    lines_raised = alerts.read_text(encoding="utf-8").splitlines() if alerts.exists() else []
    fresh = [json.loads(line) for line in lines_raised if "assert_source_fresh" in line]
    assert not fresh or fresh[-1]["resolved"], fresh[-1]
    # Nothing in the shell reroutes its other traffic.
    exported = subprocess.run(
        ["bash", "-c", 'eval "$(.venv/bin/brightcart env)"; env'],
        env=new_shell_env(after_demo.home),
        cwd=PROJECT_ROOT,
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    names = {line.split("=", 1)[0] for line in exported.splitlines()}
    assert not names & {"HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "REQUESTS_CA_BUNDLE"}
    assert {"BRIGHTCART_WAREHOUSE_START", "BRIGHTCART_CLOCK", "MELTANO_DATABASE_URI"} <= names
