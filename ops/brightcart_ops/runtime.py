"""The environment every pipeline step runs in, built from one settings module."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import threading
from collections import deque
from collections.abc import Sequence
from pathlib import Path

from brightcart_ops.settings import PROJECT_ROOT, Settings

TIMED_OUT_EXIT_CODE = 124  # as coreutils `timeout` reports it
# Set by the job runner for the processes of the job it runs: the runner records the job's
# attempts, so a step inside it (the transform's sqlmesh run) records nothing of its own.
RUNNER_JOB_VARIABLE = "BRIGHTCART_RUNNER_JOB"


def step_env(settings: Settings, environment: str | None = None) -> dict[str, str]:
    """Variables a Meltano or SQLMesh subprocess needs, on top of the current environment.

    Outside prod a local world adds what reaches its sources (`Settings.world_env`: the S3
    endpoint, the emulator's credentials, the Salesforce proxy that only the tap's guard uses).
    Nothing here changes a process's other traffic: no HTTP proxy, no CA bundle.
    """
    environment = environment or settings.environment
    env = {
        **settings.address_env(),
        "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
        "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
        "MELTANO_ENVIRONMENT": environment,
        # SQLMesh forks a process pool to load snapshots' cached queries (the publish's full read
        # of prod after a plan, or in a fresh task). Forked from a run holding DuckDB's buffers,
        # at 1:100 of production that cost 10 s and doubled the process tree's memory (2.9 GiB
        # against 1.5) for a second's work done in-process.
        "MAX_FORK_WORKERS": "1",
    }
    if environment != "prod":
        # Every world (BRIGHTCART_HOME) keeps its own Meltano state; prod keeps it in S3.
        env["MELTANO_DATABASE_URI"] = (
            os.environ.get("MELTANO_DATABASE_URI") or f"sqlite:///{settings.home / 'meltano.db'}"
        )
        env["MELTANO_SYS_DIR_ROOT"] = str(meltano_sys_dir(settings))
        env.update(settings.world_env())
    return env


PLUGIN_KINDS = ("extractors", "loaders", "utilities", "mappers")


def meltano_sys_dir(settings: Settings) -> Path:
    """A Meltano system folder per world: its own run/ and logs/, the project's plugins.

    Meltano writes each plugin's config, catalog and state files under `.meltano/run/<plugin>`;
    two worlds running the same plugin at once (a test suite beside the demo) would overwrite each
    other's files. The installed plugin environments are shared through symbolic links.
    """
    shared = PROJECT_ROOT / ".meltano"
    own = settings.home / "meltano"
    own.mkdir(parents=True, exist_ok=True)
    for kind in PLUGIN_KINDS:
        (shared / kind).mkdir(parents=True, exist_ok=True)
        link = own / kind
        if not link.is_symlink():
            link.symlink_to(shared / kind, target_is_directory=True)
    return own


def run_logged(
    argv: list[str],
    env: dict[str, str],
    log_path: Path,
    tail_lines: int = 20,
    timeout_seconds: float | None = None,
    keep_fds: Sequence[int] = (),
    cwd: Path | None = None,
) -> tuple[int, str]:
    """Run a pipeline command in the project, appending its output to a log file.

    Returns the exit code and the last lines of output (for the ops tables and alerts).

    With `timeout_seconds` the command runs in a process group of its own, and when the time is
    up the whole group (Meltano, tap, target) is killed with SIGKILL: the exit code is then
    TIMED_OUT_EXIT_CODE. The group is also killed when this process is interrupted. `keep_fds`
    are inherited by the command: a lane lock passed here stays held while the command lives,
    even if this process is killed on its own. The command runs in `cwd` (the project root).
    """
    log_path.parent.mkdir(parents=True, exist_ok=True)
    tail: deque[str] = deque(maxlen=tail_lines)
    expired = threading.Event()
    own_group = timeout_seconds is not None
    with log_path.open("a", encoding="utf-8") as log:
        proc = subprocess.Popen(
            argv,
            cwd=cwd or PROJECT_ROOT,
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            text=True,
            errors="backslashreplace",
            start_new_session=own_group,
            pass_fds=tuple(keep_fds),
        )

        def expire() -> None:
            expired.set()
            kill_group(proc.pid)

        timer = threading.Timer(timeout_seconds, expire) if timeout_seconds is not None else None
        if timer is not None:
            timer.daemon = True
            timer.start()
        try:
            assert proc.stdout is not None
            for line in proc.stdout:
                log.write(line)
                tail.append(line.rstrip())
            code = proc.wait()
        except BaseException:
            if own_group:
                kill_group(proc.pid)
            else:
                proc.kill()
            proc.wait()
            raise
        finally:
            if timer is not None:
                timer.cancel()
        if expired.is_set() and code != 0:
            note = (
                f"timed out after {timeout_seconds:g} s: the process group of "
                f"`{' '.join(Path(a).name if i == 0 else a for i, a in enumerate(argv))}` "
                "was killed"
            )
            log.write(note + "\n")
            tail.append(note)
            code = TIMED_OUT_EXIT_CODE
    return code, "\n".join(tail)


def kill_group(pgid: int) -> None:
    """SIGKILL every process of a process group; nothing to do when it is gone."""
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def meltano_bin() -> str:
    beside = Path(sys.executable).parent / "meltano"
    return str(beside) if beside.exists() else "meltano"
