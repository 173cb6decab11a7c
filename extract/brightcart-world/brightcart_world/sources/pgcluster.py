"""A private PostgreSQL cluster under $BRIGHTCART_HOME/pg, for machines with no server running.

PostgreSQL refuses to run as root, so when we are root every server command runs as the
`postgres` system user (runuser) and the cluster folder belongs to that user. Loopback only,
trust authentication, logical WAL (so log-based replication can be exercised on it).
"""

from __future__ import annotations

import contextlib
import os
import pwd
import re
import shutil
import subprocess
from pathlib import Path

import psutil

from brightcart_world.settings import Settings
from brightcart_world.sources.model import SourcesError
from brightcart_world.sources.processes import living, terminate_tree, write_pid_file

SERVER_USER = "postgres"
START_TIMEOUT_S = 60
OUTPUT_PLUGINS = "pgoutput, test_decoding, wal2json"
HBA = """# Written by brightcart sources: trust on loopback only.
local   all             all                             trust
host    all             all             127.0.0.1/32    trust
local   replication     all                             trust
host    replication     all             127.0.0.1/32    trust
"""


def find_bindir() -> Path:
    """The folder holding initdb and pg_ctl: on PATH, else the newest /usr/lib/postgresql/*."""
    on_path = shutil.which("initdb")
    if on_path and shutil.which("pg_ctl"):
        return Path(on_path).parent

    def version(path: Path) -> tuple[int, ...]:
        return tuple(int(part) for part in re.findall(r"\d+", path.parent.name))

    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=version, reverse=True)
    for bindir in candidates:
        if (bindir / "initdb").exists() and (bindir / "pg_ctl").exists():
            return bindir
    raise SourcesError(
        "nothing answers at the PostgreSQL address and the PostgreSQL server programs (initdb, "
        "pg_ctl) are not installed: install postgresql-15, or point BRIGHTCART_PG_HOST/PORT "
        "at a running server"
    )


def server_parameters(bindir: Path) -> set[str]:
    """Names of the configuration parameters this server build knows (postgres --describe-config).

    A parameter the server does not know makes it refuse to start, so optional ones are written
    only when listed here.
    """
    server = (bindir / "initdb").resolve().parent / "postgres"  # initdb may be a symbolic link
    result = subprocess.run(
        [str(server), "--describe-config"],
        capture_output=True,
        text=True,
        check=False,
    )
    return {line.split("\t", 1)[0] for line in result.stdout.splitlines() if line}


def _conf_quote(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


class PrivateCluster:
    """initdb, start and stop of the cluster folder $BRIGHTCART_HOME/pg."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.root = settings.home / "pg"
        self.data = self.root / "data"
        self.log_file = settings.home / "logs" / "postgres.log"
        self.pid_file = settings.home / "run" / "postgres.pid"

    # -- who runs the server ------------------------------------------------------------------
    @staticmethod
    def _as_root() -> bool:
        return os.geteuid() == 0

    def _command(self, argv: list[str]) -> list[str]:
        return ["runuser", "-u", SERVER_USER, "--", *argv] if self._as_root() else argv

    def _give_to_server_user(self, *paths: Path) -> None:
        if not self._as_root():
            return
        try:
            owner = pwd.getpwnam(SERVER_USER)
        except KeyError as exc:
            raise SourcesError(
                f"running as root, a private PostgreSQL cluster needs the `{SERVER_USER}` system "
                "user (it comes with the postgresql package); create it or run as another user"
            ) from exc
        for path in paths:
            os.chown(path, owner.pw_uid, owner.pw_gid)

    def _run(self, argv: list[str], what: str) -> None:
        result = subprocess.run(
            self._command(argv),
            cwd=self.root,
            capture_output=True,
            text=True,
            check=False,
            start_new_session=True,  # the server must outlive a Ctrl-C in this terminal
        )
        with self.log_file.open("a") as log:
            log.write(result.stdout + result.stderr)
        if result.returncode != 0:
            raise SourcesError(
                f"PostgreSQL private cluster: {what} failed (exit {result.returncode}); "
                f"see its log file {self.log_file}:\n{(result.stderr or result.stdout).strip()}"
            )

    # -- state ----------------------------------------------------------------------------------
    def initialized(self) -> bool:
        return (self.data / "PG_VERSION").exists()

    def running(self) -> psutil.Process | None:
        """The postmaster of this cluster when it runs (read from its own postmaster.pid)."""
        try:
            pid = int((self.data / "postmaster.pid").read_text().split()[0])
        except (OSError, ValueError, IndexError):
            return None
        process = living(pid)
        if process is None:
            return None
        try:
            cmdline = process.cmdline()
        except psutil.AccessDenied:
            return process
        return process if str(self.data) in cmdline else None

    # -- lifecycle ------------------------------------------------------------------------------
    def start(self) -> int:
        """initdb when needed, then start the server on the settings' port; the postmaster pid."""
        bindir = find_bindir()
        for folder in (self.root, self.log_file.parent, self.pid_file.parent):
            folder.mkdir(parents=True, exist_ok=True)
        self.log_file.touch()
        self._give_to_server_user(self.root, self.log_file)
        self._check_reachable()
        if not self.initialized():
            self._run(
                [
                    str(bindir / "initdb"),
                    "-D",
                    str(self.data),
                    "-U",
                    self.settings.pg_user,
                    "--auth=trust",
                    "--encoding=UTF8",
                    "--no-locale",
                    "--no-sync",
                ],
                "initdb",
            )
            (self.data / "pg_hba.conf").write_text(HBA)
            with (self.data / "postgresql.conf").open("a") as conf:
                conf.write("\ninclude_if_exists = 'brightcart.conf'\n")
        self._write_runtime_conf(bindir)
        self._run(
            [
                str(bindir / "pg_ctl"),
                "-D",
                str(self.data),
                "-l",
                str(self.log_file),
                "-w",
                "-t",
                str(START_TIMEOUT_S),
                "start",
            ],
            "pg_ctl start",
        )
        process = self.running()
        if process is None:
            raise SourcesError(
                f"PostgreSQL private cluster reported a start but no server runs; see its log "
                f"file {self.log_file}"
            )
        write_pid_file(self.pid_file, process.pid)
        return process.pid

    def _write_runtime_conf(self, bindir: Path) -> None:
        settings = {
            "port": str(self.settings.pg_port),
            "listen_addresses": _conf_quote("127.0.0.1"),
            "unix_socket_directories": _conf_quote(str(self.root)),
            "wal_level": "logical",
            "max_replication_slots": "10",
            "max_wal_senders": "10",
        }
        if "output_plugin_libraries" in server_parameters(bindir):
            # Servers built with an allow-list of logical decoding output plugins: add wal2json,
            # the plugin of tap-postgres' LOG_BASED replication.
            settings["output_plugin_libraries"] = _conf_quote(OUTPUT_PLUGINS)
        path = self.data / "brightcart.conf"
        path.write_text("".join(f"{key} = {value}\n" for key, value in settings.items()))
        self._give_to_server_user(path, self.data / "pg_hba.conf")

    def _check_reachable(self) -> None:
        if not self._as_root():
            return
        probe = subprocess.run(
            self._command(["test", "-w", str(self.root)]), capture_output=True, check=False
        )
        if probe.returncode != 0:
            raise SourcesError(
                f"the `{SERVER_USER}` system user cannot reach {self.root}: make its parent "
                "folders traversable (chmod o+x) or choose a BRIGHTCART_HOME under /tmp"
            )

    def stop(self, grace: float = 30.0) -> bool:
        """pg_ctl stop (fast), then signals if it is still there. True when it was running."""
        process = self.running()
        if process is None:
            self.pid_file.unlink(missing_ok=True)
            return False
        with contextlib.suppress(SourcesError):  # signals below finish the job
            self._run(
                [
                    str(find_bindir() / "pg_ctl"),
                    "-D",
                    str(self.data),
                    "-m",
                    "fast",
                    "-w",
                    "-t",
                    str(int(grace)),
                    "stop",
                ],
                "pg_ctl stop",
            )
        if self.running() is not None:
            terminate_tree(process, "PostgreSQL private cluster", grace=5, group=False)
        self.pid_file.unlink(missing_ok=True)
        return True
