"""The Salesforce source: the emulator module as a server process (skipped until it exists)."""

from __future__ import annotations

import importlib.util
import sys

from brightcart_world.sources.health import http_ok
from brightcart_world.sources.server import ServerComponent

EMULATOR_MODULE = "brightcart_world.salesforce"


def emulator_available() -> bool:
    try:
        return importlib.util.find_spec(f"{EMULATOR_MODULE}.__main__") is not None
    except ModuleNotFoundError:
        return False


class SalesforceComponent(ServerComponent):
    name = "salesforce"
    label = "Salesforce emulator"

    def argv(self) -> list[str]:
        settings = self.settings
        return [
            sys.executable,
            "-m",
            EMULATOR_MODULE,
            "serve",
            "--port",
            str(settings.sf_port),
            "--proxy-port",
            str(settings.sf_proxy_port),
            "--home",
            str(settings.home),
            "--dsn",
            settings.pg_dsn,
        ]

    def ports(self) -> list[tuple[str, int]]:
        return [
            (self.label, self.settings.sf_port),
            (f"{self.label} TLS proxy", self.settings.sf_proxy_port),
        ]

    @property
    def address(self) -> str:
        return self.settings.sf_instance_url

    def healthy(self) -> bool:
        return http_ok(self.settings.sf_port, "/health")

    def unavailable(self) -> str | None:
        if emulator_available():
            return None
        return (
            f"module {EMULATOR_MODULE}.__main__ does not exist yet; tap-salesforce has no "
            "server to talk to"
        )
