"""The `brightcart` command's one error convention, and the checks every command runs first.

* Bad usage (an unknown option, a date that is not one, a window that ends before it starts or
  lies in the future, an unknown environment, lane, model or column): one line on stderr saying
  what was wrong and what to do, exit code 2, before anything is read from a source or written.
* A failed operation (a source down, a lane that failed, a mismatch left unrepaired): one line on
  stderr, exit code 1; what the command printed before stays on stdout.
* Success: exit code 0.

Commands raise a usage error (`usage()`, typer.BadParameter) for bad usage and call `fail()`
(or raise :class:`Failed`) for a failed operation; :func:`main` turns those, and any other
exception, into the one line. An unexpected exception also leaves its traceback in
`$BRIGHTCART_HOME/logs/brightcart-errors.log`, named in the line.

Windows are end-exclusive everywhere: `--start 2026-11-02 --end 2026-11-03` is the one UTC day
2026-11-02.
"""

from __future__ import annotations

import os
import sys
import traceback
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from datetime import UTC, date, datetime, timedelta
from functools import cache
from pathlib import Path
from typing import Any, NoReturn

import typer
from rich.console import Console
from rich.progress import Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

# Typer carries its own click; its exceptions are the ones its commands raise.
from typer._click.exceptions import (
    BadParameter,
    ClickException,
    NoArgsIsHelpError,
    UsageError,
)
from typer.core import TyperOption

from brightcart_ops.settings import PROJECT_ROOT
from brightcart_ops.yamlfile import read_yaml

USAGE_EXIT_CODE = 2
FAILED_EXIT_CODE = 1
WINDOW_HELP = "Windows are end-exclusive UTC days: --start 2026-11-02 --end 2026-11-03 is one day."


class Failed(ClickException):
    """The operation was attempted and failed: exit code 1."""

    exit_code = FAILED_EXIT_CODE


def fail(message: str) -> NoReturn:
    """Say what failed on one line of stderr and stop with exit code 1 (also in-process, as
    Typer's test runner calls a command)."""
    _say(message)
    raise typer.Exit(FAILED_EXIT_CODE)


def usage(message: str, option: str | None = None) -> NoReturn:
    raise BadParameter(message, param_hint=option) if option else UsageError(message)


def one_line(text: str) -> str:
    """A message on one line (a tool's multi-line output folded, never cut mid-word)."""
    return " ".join(str(text).split())


def parse_day(value: str, option: str) -> date:
    try:
        return date.fromisoformat(value)
    except ValueError:
        usage(f"{value!r} is not a day; give an ISO date such as 2026-11-02", option)


def parse_moment(value: str, option: str) -> datetime:
    """An ISO date or time, UTC unless it names its zone."""
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        usage(f"{value!r} is not a date or time; give ISO 8601 such as 2026-11-02T06:00", option)
    return moment if moment.tzinfo else moment.replace(tzinfo=UTC)


def parse_month(value: str, option: str = "MONTH") -> date:
    """YYYY-MM as the month's first day."""
    try:
        return datetime.strptime(value, "%Y-%m").date()
    except ValueError:
        usage(f"{value!r} is not a month; give YYYY-MM such as 2026-11", option)


def today() -> date:
    return datetime.now(UTC).date()


def check_window(first: date, after: date, *, allow_future: bool = False) -> tuple[date, date]:
    """[first, after): non-empty and, unless allowed, ended (the wall clock: SQLMesh's own rule)."""
    if after <= first:
        usage(
            f"the window [{first}, {after}) is empty: --end is exclusive and must come after "
            f"--start (one day: --start {first} --end {first + timedelta(days=1)})"
        )
    if not allow_future and after > today() + timedelta(days=1):
        usage(
            f"the window [{first}, {after}) ends in the future (today is {today()} UTC); "
            f"give an --end of {today() + timedelta(days=1)} or earlier"
        )
    return first, after


@cache
def _environments(meltano_yml: Path) -> tuple[str, ...]:
    doc = read_yaml(meltano_yml) or {}
    return tuple(str(e["name"]) for e in doc.get("environments") or [] if "name" in e)


def environments(meltano_yml: Path | None = None) -> tuple[str, ...]:
    """The Meltano environments meltano.yml declares (dev, ci, prod)."""
    return _environments(meltano_yml or PROJECT_ROOT / "meltano.yml")


def check_environment(value: str | None, option: str = "--environment") -> str | None:
    """None (the default environment) or a Meltano environment meltano.yml declares."""
    if value is None:
        return None
    known = environments()
    if value not in known:
        usage(f"unknown environment {value!r}; choose one of {', '.join(known)}", option)
    return value


@contextmanager
def stages(first: str) -> Iterator[Callable[[str], None]]:
    """A spinner with the elapsed time on stderr for a long command; call the yielded function
    with each new stage ("comparing 3 entities", "restating 4 models", ...)."""
    columns = (SpinnerColumn(), TextColumn("{task.description}"), TimeElapsedColumn())
    with Progress(*columns, console=Console(stderr=True), transient=True) as progress:
        task = progress.add_task(first, total=None)

        def stage(text: str) -> None:
            progress.update(task, description=text)

        yield stage


def _traceback_log() -> Path | None:
    home = Path(os.environ.get("BRIGHTCART_HOME") or PROJECT_ROOT / ".local")
    path = home / "logs" / "brightcart-errors.log"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with path.open("a", encoding="utf-8") as log:
            log.write(f"--- {datetime.now(UTC).isoformat()} brightcart {' '.join(sys.argv[1:])}\n")
            log.write(traceback.format_exc())
    except OSError:
        return None
    return path


def describe(error: BaseException) -> str:
    """What went wrong, for an exception no command turned into a message of its own."""
    name = type(error).__name__
    text = one_line(str(error)) or name
    module = type(error).__module__
    if module.startswith("psycopg") and name == "OperationalError":
        return f"cannot reach PostgreSQL ({text}); is the source up? (`brightcart sources status`)"
    if name in ("EndpointConnectionError", "ConnectionRefusedError", "ConnectionError"):
        return f"a service is unreachable ({text}); is the source up? (`brightcart sources status`)"
    return f"{name}: {text}"


def _plain_flags() -> None:
    """`--help` shows a flag as its name alone (`--dry-run`, `--check-slas / --no-check-slas`).

    Typer's rich help prints a type beside every option, `<bool>` beside a flag that takes no
    value; a flag keeps no type column here, options that take a value keep theirs (`<str>`).
    Applied once, on import, to every command of the `brightcart` app and those it mounts;
    `tests/cli/test_help.py` checks the real command's help.
    """
    if getattr(TyperOption.display_type_rich, "plain_flags", False):
        return
    typed = TyperOption.display_type_rich

    def display_type_rich(self: TyperOption, ctx: Any) -> str | None:
        return None if self.is_flag else typed(self, ctx)

    display_type_rich.plain_flags = True  # type: ignore[attr-defined]
    TyperOption.display_type_rich = display_type_rich  # type: ignore[method-assign]


_plain_flags()


def _say(message: str) -> None:
    typer.echo(f"error: {one_line(message)}", err=True)


def main(command: Any, args: Sequence[str] | None = None) -> int:
    """Run the command; every failure ends as one line on stderr and the convention's exit code."""
    try:
        result = command.main(
            args=list(args) if args is not None else None,
            prog_name="brightcart",
            standalone_mode=False,
        )
    except NoArgsIsHelpError as help_wanted:
        typer.echo(help_wanted.ctx.get_help() if help_wanted.ctx else "", err=True)
        return USAGE_EXIT_CODE
    except UsageError as bad:
        where = f" (see `{bad.ctx.command_path} --help`)" if bad.ctx else ""
        _say(bad.format_message() + where)
        return USAGE_EXIT_CODE
    except ClickException as failed:
        _say(failed.format_message())
        return failed.exit_code
    except typer.Exit as done:
        return int(done.exit_code)
    except typer.Abort:
        _say("interrupted")
        return 130
    except SystemExit as exiting:  # a command that stops with a message of its own
        if isinstance(exiting.code, str):
            _say(exiting.code)
            return FAILED_EXIT_CODE
        return int(exiting.code or 0)
    except Exception as error:  # noqa: BLE001 - the convention: one line, not a traceback
        log = _traceback_log()
        _say(describe(error) + (f" (traceback in {log})" if log else ""))
        return FAILED_EXIT_CODE
    return result if isinstance(result, int) else 0
