"""Failure switches and the daily API call counter, shared by every request thread.

Counters of calls take a number N (the next N calls) or -1 (every call until reset):
    unavailable        503 SERVER_UNAVAILABLE on API calls (token and data)
    drop_connection    close the connection without an answer (the client sees a connection error)
    delay_calls        sleep `delay_seconds` before answering (to outlast a client's timeout)
    invalid_session    401 INVALID_SESSION_ID on data calls (an expired access token)
    invalid_grant      400 invalid_grant on the token call (a revoked refresh token)
Plain settings:
    api_limit          daily API request allowance (Sforce-Limit-Info api-usage=used/limit)
    api_used           set today's used count (e.g. to the limit, for REQUEST_LIMIT_EXCEEDED)
    rotate_refresh_token  answer each token call with a new refresh token (the old one dies)
    unavailable_after_queries  N > 0: serve the next N SOQL queries, then answer every later query
                          503 SERVER_UNAVAILABLE until reset (a sync that fails mid-way, after the
                          streams it queried first completed); 0: off
"""

from __future__ import annotations

import threading
from dataclasses import asdict, dataclass, field, fields
from datetime import UTC, datetime
from typing import Any

COUNTED = ("unavailable", "drop_connection", "delay_calls", "invalid_session", "invalid_grant")


class FaultSpecError(ValueError):
    """A fault request that names an unknown switch or a value of the wrong type."""


@dataclass
class Faults:
    unavailable: int = 0
    drop_connection: int = 0
    delay_calls: int = 0
    delay_seconds: float = 0.0
    invalid_session: int = 0
    invalid_grant: int = 0
    api_limit: int = 100_000
    rotate_refresh_token: bool = False
    unavailable_after_queries: int = 0


@dataclass
class FaultBoard:
    """Current switches plus API usage per UTC day; every method is thread-safe."""

    faults: Faults = field(default_factory=Faults)
    usage: dict[str, int] = field(default_factory=dict)
    queries_served: int = 0  # SOQL queries served since unavailable_after_queries was set
    _lock: threading.Lock = field(default_factory=threading.Lock, repr=False)

    def update(self, spec: dict[str, Any]) -> dict[str, Any]:
        """Apply switches from a JSON object; api_used sets today's count."""
        known = {f.name: f.type for f in fields(Faults)} | {"api_used": "int"}
        unknown = sorted(set(spec) - set(known))
        if unknown:
            raise FaultSpecError(f"unknown fault switch {unknown}; known: {sorted(known)}")
        with self._lock:
            for key, value in spec.items():
                expected = bool if key == "rotate_refresh_token" else (float, int)
                if isinstance(value, bool) != (expected is bool) or not isinstance(value, expected):
                    raise FaultSpecError(f"fault switch {key} needs a {known[key]}, got {value!r}")
                if key == "api_used":
                    self.usage[_today()] = int(value)
                elif key == "delay_seconds":
                    self.faults.delay_seconds = float(value)
                elif key == "rotate_refresh_token":
                    self.faults.rotate_refresh_token = bool(value)
                elif key == "unavailable_after_queries":
                    self.faults.unavailable_after_queries = int(value)
                    self.queries_served = 0
                else:
                    setattr(self.faults, key, int(value))
        return self.snapshot()

    def reset(self) -> dict[str, Any]:
        with self._lock:
            self.faults = Faults()
            self.queries_served = 0
        return self.snapshot()

    def snapshot(self) -> dict[str, Any]:
        return {"faults": asdict(self.faults), "api_usage": dict(self.usage)}

    def take(self, name: str) -> bool:
        """True when the counted switch fires for this call (and count it down)."""
        with self._lock:
            left = getattr(self.faults, name)
            if left == 0:
                return False
            if left > 0:
                setattr(self.faults, name, left - 1)
            return True

    def query_unavailable(self) -> bool:
        """True when this SOQL query falls after the `unavailable_after_queries` served ones."""
        with self._lock:
            allowed = self.faults.unavailable_after_queries
            if allowed <= 0:
                return False
            if self.queries_served < allowed:
                self.queries_served += 1
                return False
            return True

    def count_call(self) -> tuple[bool, str]:
        """Count a data call: (allowed, Sforce-Limit-Info value). Refused calls do not count."""
        with self._lock:
            day = _today()
            used, limit = self.usage.get(day, 0), self.faults.api_limit
            if used >= limit:
                return False, f"api-usage={limit}/{limit}"
            self.usage[day] = used + 1
            return True, f"api-usage={used + 1}/{limit}"


def _today() -> str:
    return datetime.now(UTC).date().isoformat()
