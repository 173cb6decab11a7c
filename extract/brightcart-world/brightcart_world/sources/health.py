"""Bounded waits for a component to become healthy, with the log tail on failure."""

from __future__ import annotations

import http.client
from collections.abc import Callable
from pathlib import Path

from tenacity import RetryError, Retrying, retry_if_result, stop_after_delay, wait_fixed

from brightcart_world.sources.model import SourcesError


class ProcessExited(SourcesError):
    """The process being waited for is gone; waiting longer cannot help."""


def log_tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log written)"
    tail = text.strip().splitlines()[-lines:]
    return "\n".join("    " + line for line in tail) or "(log is empty)"


def http_ok(port: int, path: str = "/", host: str = "127.0.0.1", timeout: float = 2.0) -> bool:
    """True when GET http://host:port/path answers with a 2xx status."""
    connection = http.client.HTTPConnection(host, port, timeout=timeout)
    try:
        connection.request("GET", path)
        response = connection.getresponse()
        response.read()  # drain, so the server sees a clean close rather than a reset
        return 200 <= response.status < 300
    except OSError:
        return False
    finally:
        connection.close()


def wait_healthy(
    label: str,
    check: Callable[[], bool],
    log: Path,
    alive: Callable[[], bool] | None = None,
    timeout: float = 30.0,
) -> None:
    """Poll `check` until it is true; raise a SourcesError naming the component and its log."""

    def attempt() -> bool:
        if alive is not None and not alive():
            raise ProcessExited(
                f"{label} exited while starting; see its log file {log}:\n{log_tail(log)}"
            )
        return check()

    retrying = Retrying(
        stop=stop_after_delay(timeout),
        wait=wait_fixed(0.2),
        retry=retry_if_result(lambda healthy: not healthy),
    )
    try:
        retrying(attempt)
    except RetryError as exc:
        raise SourcesError(
            f"{label} did not become healthy within {timeout:.0f} s; "
            f"see its log file {log}:\n{log_tail(log)}"
        ) from exc
