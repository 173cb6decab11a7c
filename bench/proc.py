"""Run one child process and measure it: wall time, CPU time of the tree, peak RSS of the tree."""

from __future__ import annotations

import os
import resource
import subprocess
import threading
import time
from collections import deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO

import psutil

POLL_SECONDS = 0.1


@dataclass
class Measured:
    """What one command cost. ``cpu_s`` counts every waited-for descendant (user + system)."""

    label: str
    wall_s: float
    cpu_s: float
    peak_rss_bytes: int
    returncode: int
    tail: str

    @property
    def ok(self) -> bool:
        return self.returncode == 0

    @property
    def peak_rss_mib(self) -> float:
        return self.peak_rss_bytes / 2**20


def tree_rss(proc: psutil.Process) -> int:
    """Resident memory of a process and all its descendants, in bytes (processes may vanish)."""
    total = 0
    try:
        members = [proc, *proc.children(recursive=True)]
    except psutil.Error:
        return 0
    for member in members:
        try:
            total += member.memory_info().rss
        except psutil.Error:
            continue
    return total


class RssPoller:
    """Polls a process tree's RSS in a thread and keeps the peak."""

    def __init__(self, pid: int) -> None:
        self.peak = 0
        self._stop = threading.Event()
        try:
            self._proc: psutil.Process | None = psutil.Process(pid)
        except psutil.Error:
            self._proc = None
        self._thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        while self._proc is not None and not self._stop.is_set():
            self.peak = max(self.peak, tree_rss(self._proc))
            self._stop.wait(POLL_SECONDS)

    def __enter__(self) -> RssPoller:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join()


def _cpu_children() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def run_measured(
    label: str,
    argv: Sequence[str],
    env: Mapping[str, str],
    cwd: Path,
    log: Path,
    stdin: IO[bytes] | None = None,
    stdout: IO[bytes] | None = None,
    timeout_s: float | None = None,
) -> Measured:
    """Run argv to completion; its output goes to ``log`` (or ``stdout`` when given).

    Commands run one at a time, so the RUSAGE_CHILDREN delta is this command's tree.
    """
    log.parent.mkdir(parents=True, exist_ok=True)
    cpu_before = _cpu_children()
    with log.open("ab") as log_handle:
        log_handle.write(f"\n=== {label}: {' '.join(argv)}\n".encode())
        log_handle.flush()
        offset = log_handle.tell()
        started = time.perf_counter()
        proc = subprocess.Popen(
            list(argv),
            cwd=cwd,
            env=dict(env),
            stdin=stdin if stdin is not None else subprocess.DEVNULL,
            stdout=stdout if stdout is not None else log_handle,
            stderr=log_handle,
        )
        with RssPoller(proc.pid) as poller:
            try:
                code = proc.wait(timeout=timeout_s)
            except subprocess.TimeoutExpired:
                proc.kill()
                code = proc.wait()
                log_handle.write(f"killed after {timeout_s} s\n".encode())
        wall = time.perf_counter() - started
    cpu = _cpu_children() - cpu_before
    return Measured(label, wall, cpu, poller.peak, code, _tail(log, offset))


def _tail(path: Path, offset: int, lines: int = 40) -> str:
    """The last lines this command wrote to the shared log (it starts at ``offset``)."""
    with path.open("rb") as handle:
        handle.seek(max(offset, path.stat().st_size - 16384))
        text = handle.read().decode("utf-8", errors="replace")
    return "\n".join(deque(text.splitlines(), maxlen=lines))


def machine_load() -> float:
    return os.getloadavg()[0]
