"""A source that is one server process of ours: start, health check, stop, status."""

from __future__ import annotations

from pathlib import Path

from brightcart_world.settings import Settings
from brightcart_world.sources.health import wait_healthy
from brightcart_world.sources.model import ComponentStatus, Outcome, SourcesError
from brightcart_world.sources.ports import is_free, port_in_use_message
from brightcart_world.sources.processes import ManagedProcess

START_TIMEOUT_S = 30.0
STOP_GRACE_S = 10.0


class ServerComponent:
    """Subclasses name the process (argv), its ports and its health check."""

    name = ""
    label = ""

    def __init__(self, settings: Settings, env: dict[str, str]) -> None:
        self.settings = settings
        self.env = env
        self.process = ManagedProcess(
            label=self.label,
            argv=self.argv(),
            pid_file=settings.home / "run" / f"{self.name}.pid",
            log_file=settings.home / "logs" / f"{self.name}.log",
        )

    # -- what subclasses say --------------------------------------------------------------------
    def argv(self) -> list[str]:
        raise NotImplementedError

    def ports(self) -> list[tuple[str, int]]:
        """(label, port) of every port the server binds."""
        raise NotImplementedError

    @property
    def address(self) -> str:
        raise NotImplementedError

    def healthy(self) -> bool:
        raise NotImplementedError

    def after_start(self) -> None:
        """Runs after every healthy `up` (also when already running): idempotent set-up."""

    def unavailable(self) -> str | None:
        """Why this component is skipped (None when it can run)."""
        return None

    # -- lifecycle ------------------------------------------------------------------------------
    def conflicts(self) -> list[str]:
        if self.unavailable() is not None or self.process.running() is not None:
            return []
        taken = [(label, port) for label, port in self.ports() if not is_free(port)]
        return [port_in_use_message(label, port) for label, port in taken]

    def start(self) -> Outcome:
        skipped = self.unavailable()
        if skipped is not None:
            return Outcome(self.name, self.label, "skipped", skipped)
        running = self.process.running()
        if running is not None:
            if not self.healthy():
                raise SourcesError(
                    f"{self.label} runs (pid {running.pid}) but does not answer its health check; "
                    f"see its log file {self.process.log_file}, then `brightcart sources down` "
                    "and `up` again"
                )
            self.after_start()
            return Outcome(self.name, self.label, "already running", f"pid {running.pid}")
        self.settings.home.mkdir(parents=True, exist_ok=True)
        pid = self.process.start(self.env, cwd=self.settings.home)
        try:
            wait_healthy(
                self.label,
                self.healthy,
                self.process.log_file,
                alive=lambda: self.process.running() is not None,
                timeout=START_TIMEOUT_S,
            )
            self.after_start()
        except BaseException:
            self.process.stop(grace=STOP_GRACE_S)
            raise
        return Outcome(self.name, self.label, "started", f"pid {pid}")

    def stop(self) -> Outcome:
        if self.process.stop(grace=STOP_GRACE_S):
            return Outcome(self.name, self.label, "stopped")
        return Outcome(self.name, self.label, "not running")

    def status(self) -> ComponentStatus:
        skipped = self.unavailable()
        running = self.process.running()
        log: Path = self.process.log_file
        if running is None:
            return ComponentStatus(
                name=self.name,
                label=self.label,
                address=self.address,
                state="skipped" if skipped else "down",
                detail=skipped or "",
            )
        healthy = self.healthy()
        return ComponentStatus(
            name=self.name,
            label=self.label,
            address=self.address,
            state="up" if healthy else "unhealthy",
            pid=running.pid,
            managed=True,
            log=str(log),
            detail="" if healthy else f"health check fails; see {log}",
        )
