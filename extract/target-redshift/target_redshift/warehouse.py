"""Connections to the two warehouses behind one small interface."""

from __future__ import annotations

import datetime as dt
import decimal
import logging
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any, Protocol

import duckdb
from tenacity import (
    RetryError,
    retry,
    retry_if_exception,
    stop_after_delay,
    wait_exponential,
)

from target_redshift.dialect import Dialect, DuckDBDialect, RedshiftDialect, qualified, quote

log = logging.getLogger(__name__)


class WarehouseLockedError(RuntimeError):
    """The DuckDB file stayed locked by another process for longer than allowed."""


class Warehouse(Protocol):
    """What the loader needs from a warehouse connection."""

    dialect: Dialect

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int: ...

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]: ...

    def insert_rows(
        self, schema: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None: ...

    def begin(self) -> None: ...

    def commit(self) -> None: ...

    def rollback(self) -> None: ...

    def stage(self, local: Path, key: str) -> str: ...

    def local_engine(self) -> duckdb.DuckDBPyConnection | None:
        """The warehouse's own DuckDB connection, if batches can be checked inside it."""
        ...

    def unstage(self, location: str) -> None: ...

    def close(self) -> None: ...


def _duckdb_value(value: Any) -> str:
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, int | float | decimal.Decimal):
        return str(value)
    if isinstance(value, dt.datetime):
        return f"CAST('{value.isoformat()}' AS TIMESTAMPTZ)"
    return "'" + str(value).replace("'", "''") + "'"


def _is_lock_error(error: BaseException) -> bool:
    return isinstance(error, duckdb.IOException) and "lock" in str(error).lower()


class DuckDBWarehouse:
    """The local warehouse file; opened per batch so readers are blocked only briefly."""

    def __init__(self, path: str, lock_timeout_seconds: float = 60.0) -> None:
        self.dialect: Dialect = DuckDBDialect()
        self.path = path
        Path(path).parent.mkdir(parents=True, exist_ok=True)

        @retry(
            retry=retry_if_exception(_is_lock_error),
            stop=stop_after_delay(lock_timeout_seconds),
            wait=wait_exponential(multiplier=0.2, max=5),
            reraise=False,
        )
        def _connect() -> duckdb.DuckDBPyConnection:
            return duckdb.connect(path)

        try:
            self.con = _connect()
        except RetryError as error:
            msg = (
                f"DuckDB file '{path}' is locked by another process (for more than "
                f"{lock_timeout_seconds:g} s). Stop the process holding it (a sqlmesh run or an "
                "open DuckDB shell) or raise the loader setting lock_timeout_seconds, then rerun."
            )
            raise WarehouseLockedError(msg) from error.last_attempt.exception()
        self.con.execute("SET TimeZone = 'UTC'")

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        rows = self.con.execute(sql, params).fetchall()
        if sql.lstrip().upper().startswith("INSERT") and rows:
            return int(rows[0][0])
        return 0

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        return self.con.execute(sql, params).fetchall()

    def insert_rows(
        self, schema: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        # Literal VALUES rather than bound parameters: DuckDB imports pandas to bind Python
        # parameters, which costs seconds at start-up. DuckDB string literals take no
        # backslash escapes, so doubling quotes is the whole escaping.
        names = ", ".join(quote(c) for c in columns)
        for start in range(0, len(rows), 500):
            values = ", ".join(
                "(" + ", ".join(_duckdb_value(v) for v in row) + ")"
                for row in rows[start : start + 500]
            )
            self.con.execute(f"INSERT INTO {qualified(schema, table)} ({names}) VALUES {values}")

    def begin(self) -> None:
        self.con.execute("BEGIN TRANSACTION")

    def commit(self) -> None:
        self.con.execute("COMMIT")

    def rollback(self) -> None:
        self.con.execute("ROLLBACK")

    def stage(self, local: Path, key: str) -> str:
        _ = key
        return str(local)

    def local_engine(self) -> duckdb.DuckDBPyConnection | None:
        # Batches are checked in temp tables of this connection and merged from there: no
        # Parquet round trip. The file is held for the whole batch either way.
        return self.con

    def unstage(self, location: str) -> None:
        Path(location).unlink(missing_ok=True)

    def close(self) -> None:
        self.con.close()


class S3Stager(Protocol):
    def upload_file(self, filename: str, bucket: str, key: str) -> None: ...

    def delete_object(self, *, Bucket: str, Key: str) -> Any: ...


class RedshiftWarehouse:
    """Redshift through a DB-API connection; batches are staged in S3 and COPied."""

    def __init__(
        self,
        connect: Callable[[], Any],
        s3: S3Stager,
        bucket: str,
        prefix: str,
        dialect: RedshiftDialect,
    ) -> None:
        self.dialect: Dialect = dialect
        self.con = connect()
        self.s3 = s3
        self.bucket = bucket
        self.prefix = prefix
        self.con.autocommit = True

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> int:
        cursor = self.con.cursor()
        cursor.execute(sql, params) if params else cursor.execute(sql)
        return int(cursor.rowcount or 0)

    def query(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple[Any, ...]]:
        cursor = self.con.cursor()
        cursor.execute(sql, params) if params else cursor.execute(sql)
        return [tuple(row) for row in cursor.fetchall()]

    def insert_rows(
        self, schema: str, table: str, columns: Sequence[str], rows: Sequence[Sequence[Any]]
    ) -> None:
        sql = self.dialect.insert_rows(schema, table, columns)
        self.con.cursor().executemany(sql, [tuple(r) for r in rows])

    def begin(self) -> None:
        # DDL that Redshift rejects inside a transaction runs before this, in autocommit.
        self.con.autocommit = False

    def commit(self) -> None:
        self.con.commit()
        self.con.autocommit = True

    def rollback(self) -> None:
        self.con.rollback()
        self.con.autocommit = True

    def stage(self, local: Path, key: str) -> str:
        full_key = f"{self.prefix}{key}"
        self.s3.upload_file(str(local), self.bucket, full_key)
        local.unlink(missing_ok=True)
        return f"s3://{self.bucket}/{full_key}"

    def local_engine(self) -> duckdb.DuckDBPyConnection | None:
        return None

    def unstage(self, location: str) -> None:
        key = location.removeprefix(f"s3://{self.bucket}/")
        self.s3.delete_object(Bucket=self.bucket, Key=key)

    def close(self) -> None:
        self.con.close()


def redshift_from_config(config: dict[str, Any]) -> RedshiftWarehouse:
    """Production wiring: redshift-connector and boto3 (credentials from the environment)."""
    import boto3
    import redshift_connector

    missing = [
        k for k in ("host", "user", "dbname", "s3_bucket", "iam_role_arn") if not config.get(k)
    ]
    password = config.get("password") or os.environ.get("TARGET_REDSHIFT_PASSWORD")
    if not password:
        missing.append("password (TARGET_REDSHIFT_PASSWORD)")
    if missing:
        msg = f"backend=redshift needs settings: {', '.join(missing)}. Set them and rerun."
        raise ValueError(msg)

    def connect() -> Any:
        return redshift_connector.connect(
            host=config["host"],
            port=int(config.get("port") or 5439),
            database=config["dbname"],
            user=config["user"],
            password=password,
        )

    region = config.get("region") or None
    return RedshiftWarehouse(
        connect=connect,
        s3=boto3.client("s3", region_name=region),
        bucket=config["s3_bucket"],
        prefix=config.get("s3_prefix") or "loader-staging/",
        dialect=RedshiftDialect(config["iam_role_arn"], config.get("region") or ""),
    )
