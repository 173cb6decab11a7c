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

import math
import os
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date, datetime
from decimal import Decimal
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


def _duckdb_literal(value: Any) -> str | None:
    """A DuckDB literal equal to the value bound as a parameter, of the type DuckDB binds it as
    (a decimal's width aside), or None for a value this does not render (it is bound then)."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int):
        return f"({value})" if -(2**63) <= value < 2**63 else None
    if isinstance(value, float):
        text = repr(value) if math.isfinite(value) else f"'{value}'"
        return f"CAST({text} AS DOUBLE)"
    if isinstance(value, Decimal) and value.is_finite():
        text = format(value, "f")
        scale = len(text.partition(".")[2])
        whole = len(text.lstrip("-").partition(".")[0].lstrip("0"))
        width = max(whole + scale, scale + 1)
        return f"CAST('{text}' AS DECIMAL({width}, {scale}))" if width <= 38 else None
    if isinstance(value, str):
        return "'" + value.replace("'", "''") + "'"
    if isinstance(value, datetime):
        kind = "TIMESTAMPTZ" if value.tzinfo is not None else "TIMESTAMP"
        return f"CAST('{value.isoformat()}' AS {kind})"
    if isinstance(value, date):
        return f"CAST('{value.isoformat()}' AS DATE)"
    return None


def inline_params(sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
    """`sql` with its `?` placeholders replaced by DuckDB literals of `params`, where each value
    has one; the statement and the parameters left to bind (none, or all when a value has no
    literal). DuckDB's Python client imports pandas the first time a statement binds parameters
    (0.25 CPU s, measured with duckdb 1.5), which every lane run paid for a handful of ops
    statements; a placeholder is a `?` outside the values, as the postgres gateway reads it too."""
    parts = sql.split("?")
    if len(parts) - 1 != len(params):
        raise ValueError(f"{len(parts) - 1} placeholders for {len(params)} parameters: {sql}")
    literals = [_duckdb_literal(value) for value in params]
    if any(literal is None for literal in literals):
        return sql, tuple(params)
    out = [parts[0]]
    for literal, part in zip(literals, parts[1:], strict=True):
        out.append(str(literal))
        out.append(part)
    return "".join(out), ()


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

    def _statement(self, sql: str, params: Sequence[Any]) -> tuple[str, tuple[Any, ...]]:
        if self.gateway == "local":
            return inline_params(sql, params) if params else (sql, ())
        return self._sql(sql), tuple(params)

    def execute(self, sql: str, params: Sequence[Any] = ()) -> None:
        statement, bound = self._statement(sql, params)
        with self.connect() as con:
            cur = con.cursor()
            cur.execute(statement, bound)

    def executescript(self, statements: Sequence[str]) -> None:
        with self.connect() as con:
            cur = con.cursor()
            for statement in statements:
                cur.execute(self._sql(statement))

    def query(self, sql: str, params: Sequence[Any] = ()) -> list[tuple[Any, ...]]:
        statement, bound = self._statement(sql, params)
        with self.connect() as con:
            cur = con.cursor()
            cur.execute(statement, bound)
            rows: list[tuple[Any, ...]] = cur.fetchall()
            return rows

    def table_exists(self, schema: str, table: str) -> bool:
        rows = self.query(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?",
            (schema, table),
        )
        return bool(rows and rows[0][0])
