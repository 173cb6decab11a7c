"""A short-lived connection to the warehouse for the ops tables.

Locally the warehouse is one DuckDB file that only one process may write at a time (the loaders
run as Meltano subprocesses), so connections are opened per operation and closed at once, and a
locked file is waited for with a bound (BRIGHTCART_WAREHOUSE_LOCK_WAIT_SECONDS, 120 by default).
Past the bound `WarehouseLocked` is raised and the same `Warehouse` answers every later call with it
at once, until `recheck()`: a step waits for a held file once, not once per statement. The
`postgres` gateway (a Redshift-like engine for integration runs) and Redshift speak SQL through
psycopg / redshift-connector.
"""

from __future__ import annotations

import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from typing import Any, Protocol

import duckdb
from tenacity import Retrying, retry_if_exception, stop_after_delay, wait_exponential

from brightcart_ops.settings import Settings
from brightcart_ops.settings import load as load_settings


class Cursor(Protocol):
    def execute(self, sql: str, params: Sequence[Any] | None = None) -> Any: ...
    def fetchall(self) -> list[tuple[Any, ...]]: ...


def gateway() -> str:
    """The SQLMesh gateway in use: local (DuckDB), postgres or redshift."""
    return os.environ.get("BRIGHTCART_GATEWAY", "local")


DEFAULT_LOCK_WAIT_SECONDS = 120.0


class WarehouseLocked(RuntimeError):
    """The warehouse file stayed locked by another writer for longer than the wait bound."""


def lock_wait_seconds() -> float:
    """How long a step waits for a warehouse file that another process holds."""
    value = os.environ.get("BRIGHTCART_WAREHOUSE_LOCK_WAIT_SECONDS", "")
    return float(value) if value else DEFAULT_LOCK_WAIT_SECONDS


def _is_lock_error(exc: BaseException) -> bool:
    return isinstance(exc, duckdb.IOException) and "lock" in str(exc).lower()


class Warehouse:
    """Runs portable SQL with `?` placeholders against the configured warehouse."""

    def __init__(self, settings: Settings | None = None, gateway_name: str | None = None) -> None:
        self.settings = settings or load_settings()
        self.gateway = gateway_name or gateway()
        self.locked: WarehouseLocked | None = None

    def recheck(self) -> None:
        """Forget an earlier lock timeout: the next call waits for the file again."""
        self.locked = None

    def _open_duckdb(self) -> duckdb.DuckDBPyConnection:
        if self.locked is not None:
            raise self.locked
        path = self.settings.warehouse
        path.parent.mkdir(parents=True, exist_ok=True)
        bound = lock_wait_seconds()
        try:
            for attempt in Retrying(
                retry=retry_if_exception(_is_lock_error),
                wait=wait_exponential(multiplier=0.2, max=5),
                stop=stop_after_delay(bound),
                reraise=True,
            ):
                with attempt:
                    return duckdb.connect(str(path))
        except duckdb.IOException as exc:
            if not _is_lock_error(exc):
                raise
            self.locked = WarehouseLocked(
                f"the warehouse file {path} stayed locked by another process for {bound:g} s: "
                f"{exc}. Find the holder (the message names its pid) and let it finish or stop it; "
                "the next run catches up."
            )
            raise self.locked from exc
        raise AssertionError("unreachable: tenacity either returns or raises")

    @contextmanager
    def connect(self) -> Iterator[Any]:
        if self.gateway == "local":
            con = self._open_duckdb()
            try:
                yield con
            finally:
                con.close()
            return
        if self.gateway == "postgres":
            import psycopg

            dsn = (
                f"host={self.settings.pg_host} port={self.settings.pg_port} "
                f"user={self.settings.pg_user} dbname={self.settings.wh_pg_db}"
            )
            with psycopg.connect(dsn, autocommit=True) as pg:
                yield pg
            return
        import redshift_connector

        settings = self.settings
        if not (settings.redshift_host and settings.redshift_database):
            raise RuntimeError(
                "the redshift gateway needs REDSHIFT_HOST, REDSHIFT_DATABASE, REDSHIFT_USER and "
                "REDSHIFT_PASSWORD (the task definition sets them)"
            )
        rs = redshift_connector.connect(
            host=settings.redshift_host,
            port=settings.redshift_port,
            database=settings.redshift_database,
            user=settings.redshift_user,
            password=settings.redshift_password,
        )
        rs.autocommit = True
        try:
            yield rs
        finally:
            rs.close()

    def _sql(self, sql: str) -> str:
        return sql if self.gateway == "local" else sql.replace("?", "%s")

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        with self.connect() as con:
            cur = con.cursor()
            cur.execute(self._sql(sql), tuple(params))

    def executescript(self, statements: Sequence[str]) -> None:
        with self.connect() as con:
            cur = con.cursor()
            for statement in statements:
                cur.execute(self._sql(statement))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        with self.connect() as con:
            cur = con.cursor()
            cur.execute(self._sql(sql), tuple(params))
            rows: list[tuple[Any, ...]] = cur.fetchall()
            return rows

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?",
            (schema, table),
        )
        return bool(rows and rows[0][0])
