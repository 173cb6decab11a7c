"""One consistent snapshot of the source per run, read through DuckDB's postgres extension.

Every table window of a run is copied inside ONE PostgreSQL transaction (REPEATABLE READ, read
only): the first query fixes the snapshot, and orders, their items and their payments are read
as of the same instant. DuckDB runs each window's query in PostgreSQL as written (so it uses the
`updated_at` index) and receives it by binary COPY, then writes Parquet with the columns' own
types: numeric(12,2) stays DECIMAL(12,2), timestamptz stays a UTC instant.
"""

from __future__ import annotations

import datetime as dt
import os
import tempfile
from dataclasses import dataclass
from pathlib import Path

import duckdb

from tap_postgres_bulk.extension import load_postgres

ROW_GROUP_ROWS = 122_880  # DuckDB's row group: a loader appends whole ones, written once


def quote_ident(name: str) -> str:
    """A PostgreSQL identifier, quoted."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A SQL string literal (standard_conforming_strings: quotes doubled, no backslash rule)."""
    return "'" + text.replace("'", "''") + "'"


@dataclass(frozen=True)
class Copied:
    """What one window copy wrote: the file, its rows and the largest replication value."""

    path: Path
    rows: int
    high_water: str | int | None


def bookmark_value(kind: str, text: str | None, epoch_us: int | None) -> str | int | None:
    """A replication value as tap-postgres writes it to state: a timestamp as Python's
    isoformat in UTC, an integer as an integer, anything else as its text."""
    if text is None:
        return None
    if epoch_us is not None:
        moment = dt.datetime(1970, 1, 1, tzinfo=dt.UTC) + dt.timedelta(microseconds=epoch_us)
        return moment.isoformat()
    if kind in ("BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT"):
        return int(text)
    return text


class Snapshot:
    """A DuckDB connection holding one read-only REPEATABLE READ transaction on the source.

    `conninfo` is a libpq connection string WITHOUT the password; the password, when there is
    one, is handed to libpq through PGPASSWORD in this process only, so it never appears in a
    statement or an error message.
    """

    def __init__(self, conninfo: str, password: str | None = None) -> None:
        self._conninfo = conninfo
        self._password = password
        self._con: duckdb.DuckDBPyConnection | None = None
        self.started_at: dt.datetime | None = None

    def _open(self) -> duckdb.DuckDBPyConnection:
        con = duckdb.connect(
            config={"autoinstall_known_extensions": False, "autoload_known_extensions": False}
        )
        con.execute("SET TimeZone = 'UTC'")
        load_postgres(con, Path(tempfile.mkdtemp(prefix="tap-postgres-bulk-")))
        if self._password:
            os.environ["PGPASSWORD"] = self._password
        con.execute(f"ATTACH {sql_literal(self._conninfo)} AS source (TYPE postgres, READ_ONLY)")
        con.execute("BEGIN TRANSACTION")
        # The first statement in the transaction fixes PostgreSQL's snapshot for all that follow.
        con.execute(
            "SELECT * FROM postgres_query('source', "
            "'SELECT current_setting(''transaction_isolation'')')"
        ).fetchall()
        self.started_at = dt.datetime.now(tz=dt.UTC)
        return con

    @property
    def con(self) -> duckdb.DuckDBPyConnection:
        if self._con is None:
            self._con = self._open()
        return self._con

    def isolation(self) -> str:
        row = self.con.execute(
            "SELECT * FROM postgres_query('source', "
            "'SELECT current_setting(''transaction_isolation'')')"
        ).fetchone()
        return str(row[0]) if row else ""

    def copy(
        self,
        query: str,
        path: Path,
        replication_key: str | None,
        compression: str = "snappy",
    ) -> Copied:
        """Run `query` (PostgreSQL SQL) in the snapshot and write its rows to Parquet."""
        path.parent.mkdir(parents=True, exist_ok=True)
        self.con.execute(
            f"COPY (SELECT * FROM postgres_query('source', {sql_literal(query)})) "
            f"TO {sql_literal(str(path))} "
            f"(FORMAT parquet, COMPRESSION {compression}, ROW_GROUP_SIZE {ROW_GROUP_ROWS})"
        )
        reader = f"read_parquet({sql_literal(str(path))})"
        top = f"max({quote_ident(replication_key)})" if replication_key else "NULL"
        row = self.con.execute(
            f"SELECT count(*), typeof({top}), CAST({top} AS VARCHAR), "
            f"CASE WHEN typeof({top}) LIKE 'TIMESTAMP%' THEN epoch_us({top}) END FROM {reader}"
        ).fetchone()
        if not row:
            return Copied(path, 0, None)
        return Copied(path, int(row[0]), bookmark_value(str(row[1]), row[2], row[3]))

    def close(self) -> None:
        """End the read-only transaction and the connection."""
        if self._con is None:
            return
        try:
            self._con.execute("COMMIT")
        finally:
            self._con.close()
            self._con = None
