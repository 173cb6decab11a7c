"""The PostgreSQL source: use the server at the configured address, else a private cluster."""

from __future__ import annotations

import psycopg

from brightcart_world.settings import Settings
from brightcart_world.sources import pgdb
from brightcart_world.sources.model import ComponentStatus, Outcome, SourcesError, State
from brightcart_world.sources.pgcluster import PrivateCluster, find_bindir
from brightcart_world.sources.ports import (
    answers,
    holder_pid,
    is_free,
    is_loopback,
    port_in_use_message,
)


class PostgresComponent:
    name = "postgres"
    label = "PostgreSQL"

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.cluster = PrivateCluster(settings)

    @property
    def address(self) -> str:
        return f"{self.settings.pg_host}:{self.settings.pg_port}/{self.settings.pg_db}"

    def _answers(self) -> bool:
        return answers(self.settings.pg_host, self.settings.pg_port)

    def conflicts(self) -> list[str]:
        """Why `up` could not run, checked before anything starts (empty when it can)."""
        pgdb.check_name(self.settings.pg_db)
        if self.cluster.running() is not None:
            return []
        host, port = self.settings.pg_host, self.settings.pg_port
        if self._answers():
            refusal = pgdb.probe(self.settings)
            if refusal is None:
                return []
            if is_loopback(host):
                return [
                    port_in_use_message(
                        self.label,
                        port,
                        f"it does not accept a PostgreSQL connection as user "
                        f"{self.settings.pg_user} ({refusal}); stop it or set BRIGHTCART_PG_PORT",
                    )
                ]
            return [f"PostgreSQL at {host}:{port} refuses us ({refusal}); check BRIGHTCART_PG_*"]
        if not is_loopback(host):
            return [
                f"nothing answers at PostgreSQL {host}:{port} and a private cluster can only run "
                "on this machine: start that server or set BRIGHTCART_PG_HOST=127.0.0.1"
            ]
        if not is_free(port):
            return [port_in_use_message(self.label, port)]
        try:
            find_bindir()
        except SourcesError as exc:
            return [str(exc)]
        return []

    def start(self) -> Outcome:
        if self.cluster.running() is not None:
            pgdb.ensure_database(self.settings)
            return Outcome(self.name, self.label, "already running", "private cluster")
        if self._answers() and pgdb.probe(self.settings) is None:
            created = pgdb.ensure_database(self.settings)
            detail = "database created" if created else "database exists"
            return Outcome(self.name, self.label, "external", f"server not managed; {detail}")
        pid = self.cluster.start()
        try:
            pgdb.ensure_database(self.settings)
        except (psycopg.Error, SourcesError):
            self.cluster.stop()
            raise
        return Outcome(self.name, self.label, "started", f"private cluster pid {pid}")

    def stop(self) -> Outcome:
        if self.cluster.stop():
            return Outcome(self.name, self.label, "stopped", "private cluster")
        if self._answers():
            return Outcome(self.name, self.label, "left running", "not started by us")
        return Outcome(self.name, self.label, "not running")

    def status(self) -> ComponentStatus:
        ours = self.cluster.running()
        pid = ours.pid if ours is not None else None

        def report(state: State, detail: str = "") -> ComponentStatus:
            return ComponentStatus(
                name=self.name,
                label=self.label,
                address=self.address,
                state=state,
                pid=pid,
                managed=ours is not None,
                log=str(self.cluster.log_file) if ours is not None else None,
                detail=detail,
            )

        if ours is None and not self._answers():
            return report("down")
        if pid is None and is_loopback(self.settings.pg_host):
            pid = holder_pid(self.settings.pg_port)
        refusal = pgdb.probe(self.settings)
        if refusal is not None:
            return report("unhealthy", refusal)
        if not pgdb.database_exists(self.settings):
            return report(
                "unhealthy", f"database {self.settings.pg_db} missing: run `brightcart sources up`"
            )
        return report("up", "private cluster" if ours is not None else "external server")
