"""`brightcart ... --help` shows flags as plain names: `--dry-run`, never `--dry-run <bool>`."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest
import typer
from typer.core import TyperGroup

from brightcart_ops import cli_support
from brightcart_ops.cli import app

BRIGHTCART = Path(sys.executable).with_name("brightcart")
# A row of the options table: the option's names (long, short, negative), then its value's type.
TYPE_AFTER = r"{option}\s+(?:-\w\s+)?(?:--no-[\w-]+\s+)?(<[^>]+>)"


def _help(*args: str) -> str:
    done = subprocess.run(
        [str(BRIGHTCART), *args, "--help"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "COLUMNS": "160", "NO_COLOR": "1", "TERM": "dumb"},
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return done.stdout


def _type_of(text: str, option: str) -> str | None:
    found = re.search(TYPE_AFTER.format(option=re.escape(option)), text)
    return found.group(1) if found else None


def test_the_real_command_shows_flags_without_a_type_and_values_with_theirs() -> None:
    publish = _help("publish", "run")
    assert re.search(r"--dry-run\s+Decide and show, refresh nothing", publish), publish
    assert re.search(r"--force\s+Refresh even if unchanged", publish), publish
    assert "--no-dry-run" not in publish and "--no-force" not in publish, publish
    assert _type_of(publish, "--dataset") == "<list[str]>", publish  # a value keeps its type
    transform = _help("transform")
    assert re.search(r"--check-slas\s+--no-check-slas\s+after the run", transform), transform
    assert _type_of(transform, "--environment") == "<str>", transform
    status = _help("status")
    assert re.search(r"--check\s+also raise or resolve", status), status
    for text in (publish, transform, status):
        assert re.search(r"--help\s+Show this message and exit", text), text
        assert "<bool>" not in text, text


def _paths(command: object, path: tuple[str, ...] = ()) -> Iterator[tuple[str, ...]]:
    yield path
    if isinstance(command, TyperGroup):
        # as the command line finds them: the local world's commands load when asked for
        ctx = typer.Context(command)
        for name in command.list_commands(ctx):
            yield from _paths(command.get_command(ctx, name), (*path, name))


def test_no_command_of_the_app_shows_a_flag_with_a_type(capsys: pytest.CaptureFixture[str]) -> None:
    command = typer.main.get_command(app)
    paths = list(_paths(command))
    assert len(paths) > 20, paths  # every command, the mounted world commands included
    flagged = []
    for path in paths:
        code = cli_support.main(command, [*path, "--help"])
        shown = capsys.readouterr().out
        assert code == 0 and "Usage: brightcart" in shown, (path, code, shown)
        if "<bool>" in shown:
            flagged.append(" ".join(path))
    assert flagged == [], f"help shows <bool> for: {flagged}"
