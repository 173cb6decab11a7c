"""A server process we start in its own process group, remember in a pid file and stop fully.

The pid file holds the pid on its first line and the process start time on its second, so a pid
reused by the system after a reboot or crash is never mistaken for ours.
"""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
from dataclasses import dataclass
from pathlib import Path

import psutil

from brightcart_world.sources.model import SourcesError

# Popen objects of the children this Python process started, so `stop` can reap them.
_CHILDREN: dict[int, subprocess.Popen[bytes]] = {}


def read_pid_file(path: Path) -> tuple[int, float | None] | None:
    try:
        lines = path.read_text().split()
    except OSError:
        return None
    try:
        pid = int(lines[0])
        started = float(lines[1]) if len(lines) > 1 else None
    except (IndexError, ValueError):
        return None
    return pid, started


def write_pid_file(path: Path, pid: int) -> None:
    try:
        started = psutil.Process(pid).create_time()
    except psutil.NoSuchProcess:
        started = 0.0
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(f"{pid}\n{started}\n")


def living(pid: int, started: float | None = None) -> psutil.Process | None:
    """The process with this pid when it exists, is not a zombie and started at `started`."""
    try:
        process = psutil.Process(pid)
        if process.status() == psutil.STATUS_ZOMBIE:
            _reap(pid)
            return None
        if started is not None and abs(process.create_time() - started) > 0.05:
            return None
    except psutil.NoSuchProcess:
        return None
    return process


def _reap(pid: int) -> None:
    popen = _CHILDREN.pop(pid, None)
    if popen is not None:
        with contextlib.suppress(subprocess.TimeoutExpired):
            popen.wait(timeout=0.1)
        return
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, os.WNOHANG)


def terminate_tree(
    root: psutil.Process, label: str, grace: float = 10.0, group: bool = True
) -> None:
    """SIGTERM the process (and its group), SIGKILL what survives `grace` seconds, verify."""
    try:
        family = [root, *root.children(recursive=True)]
    except psutil.NoSuchProcess:
        return
    _signal_all(root.pid, family, signal.SIGTERM, group)
    _, survivors = psutil.wait_procs(family, timeout=grace)
    if survivors:
        _signal_all(root.pid, survivors, signal.SIGKILL, group)
        _, survivors = psutil.wait_procs(survivors, timeout=5)
    for process in family:
        _reap(process.pid)
    still = [p.pid for p in survivors if living(p.pid) is not None]
    if still:
        raise SourcesError(
            f"{label} processes {still} survived SIGKILL; stop them by hand (kill -9 PID)"
        )


def _signal_all(
    leader: int, processes: list[psutil.Process], signum: signal.Signals, group: bool
) -> None:
    if group:
        with contextlib.suppress(ProcessLookupError, PermissionError):
            os.killpg(leader, signum)
    for process in processes:
        with contextlib.suppress(psutil.NoSuchProcess):
            process.send_signal(signum)


@dataclass(frozen=True)
class ManagedProcess:
    """One long-running server started by us: argv, pid file and log file."""

    label: str
    argv: list[str]
    pid_file: Path
    log_file: Path

    def running(self) -> psutil.Process | None:
        recorded = read_pid_file(self.pid_file)
        if recorded is None:
            return None
        return living(*recorded)

    def start(self, env: dict[str, str], cwd: Path) -> int:
        """Start in a new session (own process group), output appended to the log file."""
        self.log_file.parent.mkdir(parents=True, exist_ok=True)
        with self.log_file.open("ab") as log:
            try:
                popen = subprocess.Popen(
                    self.argv,
                    stdin=subprocess.DEVNULL,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    cwd=cwd,
                    start_new_session=True,
                )
            except OSError as exc:
                raise SourcesError(
                    f"{self.label} could not be started ({exc}); check that {self.argv[0]} exists"
                ) from exc
        _CHILDREN[popen.pid] = popen
        write_pid_file(self.pid_file, popen.pid)
        return popen.pid

    def stop(self, grace: float = 10.0) -> bool:
        """Stop the process group; True when something was running. Safe to call twice."""
        process = self.running()
        stopped = False
        if process is not None:
            terminate_tree(process, self.label, grace=grace)
            stopped = True
        self.pid_file.unlink(missing_ok=True)
        return stopped
