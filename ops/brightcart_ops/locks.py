"""One run of a lane at a time, across processes and machines.

A doubled schedule or a retried Fargate task must not load the same lane twice at once, and
Meltano's own state can be overwritten by concurrent runs. Locally a file lock (flock) under
BRIGHTCART_HOME serves; in production, where tasks share no disk, a PostgreSQL advisory lock on
the SQLMesh state database (BRIGHTCART_LOCK_DSN) does. Both are released by the operating system
or the server when the holder dies, so a killed run never leaves a stale lock.
"""

from __future__ import annotations

import fcntl
import hashlib
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from brightcart_ops.settings import load as load_settings


class LockBusy(RuntimeError):
    """Another run holds the lock."""


def _advisory_key(name: str) -> int:
    return int.from_bytes(hashlib.sha256(name.encode()).digest()[:8], "big", signed=True)


@contextmanager
def lane_lock(name: str, home: Path) -> Iterator[int | None]:
    """Hold the lock named `name` or raise LockBusy at once (never wait behind a stuck run).

    Yields the file descriptor of a file lock (None for an advisory lock): a child process that
    inherits it keeps the lock held for as long as it lives.
    """
    dsn = load_settings().lock_dsn
    if dsn:
        import psycopg

        with psycopg.connect(dsn, autocommit=True) as con:
            row: Any = con.execute(
                "SELECT pg_try_advisory_lock(%s)", (_advisory_key(name),)
            ).fetchone()
            if not row or not row[0]:
                raise LockBusy(f"{name} is already running (advisory lock held)")
            try:
                yield None
            finally:
                con.execute("SELECT pg_advisory_unlock(%s)", (_advisory_key(name),))
        return
    path = home / "locks" / f"{name}.lock"
    path.parent.mkdir(parents=True, exist_ok=True)
    with path.open("a+") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError as exc:
            raise LockBusy(f"{name} is already running (lock file {path})") from exc
        try:
            handle.seek(0)
            handle.truncate()
            handle.write(str(os.getpid()))
            handle.flush()
            yield handle.fileno()
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)
