"""LocalSources: start, stop and check every local source, and the environment children need."""

from __future__ import annotations

import os
from typing import Protocol

from brightcart_world.settings import Settings, write_world_env
from brightcart_world.sources.model import ComponentStatus, Outcome, SourcesError
from brightcart_world.sources.postgres import PostgresComponent
from brightcart_world.sources.s3 import S3Component
from brightcart_world.sources.salesforce import SalesforceComponent


class Component(Protocol):
    name: str
    label: str

    def conflicts(self) -> list[str]: ...
    def start(self) -> Outcome: ...
    def stop(self) -> Outcome: ...
    def status(self) -> ComponentStatus: ...


class LocalSources:
    """The local world: PostgreSQL, the S3 API server and the Salesforce emulator.

    `up` checks every port before starting anything, starts in dependency order (the emulator
    reads PostgreSQL) and stops what it started itself when a later part fails.
    """

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        child_env = {**os.environ, **self.env()}
        self.components: list[Component] = [
            PostgresComponent(settings),
            S3Component(settings, child_env),
            SalesforceComponent(settings, child_env),
        ]

    def env(self) -> dict[str, str]:
        """Variables a child process needs to reach these sources (BRIGHTCART_*, AWS_*)."""
        s = self.settings
        return {
            "BRIGHTCART_HOME": str(s.home),
            "BRIGHTCART_PG_HOST": s.pg_host,
            "BRIGHTCART_PG_PORT": str(s.pg_port),
            "BRIGHTCART_PG_USER": s.pg_user,
            "BRIGHTCART_PG_DB": s.pg_db,
            "BRIGHTCART_S3_PORT": str(s.s3_port),
            "BRIGHTCART_S3_BUCKET": s.s3_bucket,
            "BRIGHTCART_SF_PORT": str(s.sf_port),
            "BRIGHTCART_SF_PROXY_PORT": str(s.sf_proxy_port),
            "BRIGHTCART_WAREHOUSE": str(s.warehouse),
            **s.aws_env(),
        }

    def up(self) -> list[Outcome]:
        problems = [problem for c in self.components for problem in c.conflicts()]
        if problems:
            raise SourcesError("nothing was started:\n  " + "\n  ".join(problems))
        for folder in ("run", "logs"):
            (self.settings.home / folder).mkdir(parents=True, exist_ok=True)
        outcomes: list[Outcome] = []
        try:
            for component in self.components:
                outcomes.append(component.start())
        except BaseException:
            started = {o.name for o in outcomes if o.action == "started"}
            for component in reversed(self.components):
                if component.name in started:
                    component.stop()
            raise
        # How `brightcart` processes (and `eval "$(brightcart env)"`) find this world.
        write_world_env(self.settings)
        return outcomes

    def down(self) -> list[Outcome]:
        """Stop what `up` started, never an outside server. Safe to call twice."""
        outcomes = []
        errors = []
        for component in reversed(self.components):
            try:
                outcomes.append(component.stop())
            except SourcesError as exc:
                errors.append(str(exc))
        if errors:
            raise SourcesError("\n".join(errors))
        return list(reversed(outcomes))

    def status(self) -> list[ComponentStatus]:
        return [component.status() for component in self.components]

    def healthy(self) -> bool:
        return all(s.state in ("up", "skipped") for s in self.status())
