"""Ops records kept on local disk while the warehouse cannot be written, replayed later.

The ops tables (`ops.pipeline_runs`, `ops.alerts`) live in the warehouse. When the warehouse
stays locked past its wait bound, a step still has to say what it did: it appends the record to
`$BRIGHTCART_HOME/ops/journal.jsonl` (one JSON object a line, appended under an exclusive file
lock), and the next step that reaches the warehouse replays the journal into the tables and
empties it. Replaying is idempotent (records carry their ids), so a replay cut short is simply
replayed again.

The journal is local: on a Fargate task it lives as long as the task. What must not be lost in
that case (the page) has already gone to the alert sink when the record was journaled.
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any, TextIO


def to_json(value: Any) -> Any:
    return value.isoformat() if isinstance(value, datetime) else value


def from_json_time(value: Any) -> datetime | None:
    return datetime.fromisoformat(value) if isinstance(value, str) else None


class OpsJournal:
    """Append-only local journal of ops records waiting for the warehouse."""

    def __init__(self, home: Path) -> None:
        self.path = home / "ops" / "journal.jsonl"

    @contextmanager
    def _locked(self) -> Iterator[TextIO]:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        with self.path.open("a+", encoding="utf-8") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield handle
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)

    def append(self, kind: str, record: dict[str, Any]) -> None:
        if "kind" in record:
            raise ValueError("a journal record names its entry kind itself; rename its `kind`")
        line = json.dumps({"kind": kind, **{k: to_json(v) for k, v in record.items()}})
        with self._locked() as handle:
            handle.write(line + "\n")
            handle.flush()
            os.fsync(handle.fileno())

    def entries(self) -> list[dict[str, Any]]:
        if not self.path.exists():
            return []
        with self._locked() as handle:
            handle.seek(0)
            return _parse(handle.read())

    @contextmanager
    def replaying(self) -> Iterator[list[dict[str, Any]]]:
        """The pending entries, under the journal's lock; emptied when the block ends cleanly."""
        if not self.path.exists():
            yield []
            return
        with self._locked() as handle:
            handle.seek(0)
            entries = _parse(handle.read())
            yield entries
            if entries:
                handle.truncate(0)
                handle.flush()
                os.fsync(handle.fileno())


def _parse(text: str) -> list[dict[str, Any]]:
    out = []
    for line in text.splitlines():
        if line.strip():
            body = json.loads(line)
            if isinstance(body, dict):
                out.append(body)
    return out
