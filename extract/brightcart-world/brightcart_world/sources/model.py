"""What the local sources manager reports: one status per component, one error type."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Literal

State = Literal["up", "down", "unhealthy", "skipped"]


class SourcesError(RuntimeError):
    """A local source could not be started, stopped or reached; the message says what to do."""


@dataclass(frozen=True)
class ComponentStatus:
    """The state of one local source as `brightcart sources status` shows it."""

    name: str  # machine name: postgres, s3, salesforce
    label: str  # human name: PostgreSQL, S3 API, Salesforce emulator
    address: str
    state: State
    pid: int | None = None
    managed: bool = False  # True when `brightcart sources up` started it (and `down` stops it)
    log: str | None = None
    detail: str = ""

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


@dataclass(frozen=True)
class Outcome:
    """What `up` or `down` did to one component."""

    name: str
    label: str
    action: str  # started, already running, external, skipped, stopped, not running, left running
    detail: str = ""
