"""SQL text for each warehouse, generated in one place so it can be read and tested."""

from __future__ import annotations

import datetime as dt
import typing as t
from collections.abc import Sequence
from dataclasses import dataclass

from target_redshift.columns import LogicalType

LOAD_LOG_SCHEMA = "raw_meta"
LOAD_LOG_TABLE = "load_log"
LOAD_LOG_COLUMNS: tuple[tuple[str, LogicalType], ...] = (
    ("load_id", LogicalType.VARCHAR),
    ("lane", LogicalType.VARCHAR),
    ("stream", LogicalType.VARCHAR),
    ("started_at", LogicalType.TIMESTAMPTZ),
    ("finished_at", LogicalType.TIMESTAMPTZ),
    ("rows_received", LogicalType.BIGINT),
    ("rows_inserted", LogicalType.BIGINT),
    ("rows_duplicate", LogicalType.BIGINT),
    ("rows_rejected", LogicalType.BIGINT),
    ("high_water_mark", LogicalType.TIMESTAMPTZ),
    ("status", LogicalType.VARCHAR),
)
REJECT_COLUMNS: tuple[tuple[str, LogicalType], ...] = (
    ("_load_id", LogicalType.VARCHAR),
    ("_loaded_at", LogicalType.TIMESTAMPTZ),
    ("error", LogicalType.VARCHAR),
    ("record", LogicalType.VARCHAR),
)

ColumnSpec = Sequence[tuple[str, LogicalType]]


@dataclass(frozen=True)
class MergeWindow:
    """The stored rows a merge needs to read: `column` between `low` and `high`."""

    column: str
    kind: LogicalType
    low: dt.date | dt.datetime
    high: dt.date | dt.datetime


def quote(identifier: str) -> str:
    """Quote an identifier (double quotes doubled inside)."""
    return '"' + identifier.replace('"', '""') + '"'


def literal(text: str) -> str:
    """A SQL string literal for text we own (identifiers, ids)."""
    if "\\" in text:
        msg = f"Backslash in a name is not supported: {text!r}"
        raise ValueError(msg)
    return "'" + text.replace("'", "''") + "'"


def qualified(schema: str, table: str) -> str:
    """schema.table, both quoted."""
    return f"{quote(schema)}.{quote(table)}"


class Dialect:
    """The statements shared by both warehouses; subclasses change what differs."""

    name = "base"
    param = "?"
    types: t.ClassVar[dict[LogicalType, str]] = {
        LogicalType.BIGINT: "BIGINT",
        LogicalType.DECIMAL: "DECIMAL(38,9)",
        LogicalType.VARCHAR: "VARCHAR",
        LogicalType.TIMESTAMPTZ: "TIMESTAMPTZ",
        LogicalType.DATE: "DATE",
        LogicalType.BOOLEAN: "BOOLEAN",
        LogicalType.JSON: "JSON",
    }
    #: information_schema data_type spellings (lower-cased, before any "(") per logical type
    catalog_names: t.ClassVar[dict[str, LogicalType]] = {
        "bigint": LogicalType.BIGINT,
        "decimal": LogicalType.DECIMAL,
        "numeric": LogicalType.DECIMAL,
        "varchar": LogicalType.VARCHAR,
        "character varying": LogicalType.VARCHAR,
        "text": LogicalType.VARCHAR,
        "timestamp with time zone": LogicalType.TIMESTAMPTZ,
        "timestamptz": LogicalType.TIMESTAMPTZ,
        "date": LogicalType.DATE,
        "boolean": LogicalType.BOOLEAN,
        "json": LogicalType.JSON,
        "jsonb": LogicalType.JSON,
        "super": LogicalType.JSON,
    }

    def type_sql(self, kind: LogicalType) -> str:
        return self.types[kind]

    def logical_from_catalog(self, data_type: str) -> LogicalType:
        """Read back a column type from information_schema.columns.data_type."""
        key = data_type.lower().split("(")[0].strip()
        try:
            return self.catalog_names[key]
        except KeyError:
            msg = (
                f"Column type '{data_type}' was not created by this loader; change the column "
                "to one of BIGINT, DECIMAL, VARCHAR, TIMESTAMPTZ, DATE, BOOLEAN, JSON/SUPER."
            )
            raise ValueError(msg) from None

    def _column_defs(self, columns: ColumnSpec) -> str:
        return ", ".join(f"{quote(name)} {self.type_sql(kind)}" for name, kind in columns)

    def create_schema(self, schema: str) -> str:
        return f"CREATE SCHEMA IF NOT EXISTS {quote(schema)}"

    def create_table(self, schema: str, table: str, columns: ColumnSpec) -> str:
        return (
            f"CREATE TABLE IF NOT EXISTS {qualified(schema, table)} ({self._column_defs(columns)})"
        )

    def add_column(self, schema: str, table: str, column: str, kind: LogicalType) -> str:
        return (
            f"ALTER TABLE {qualified(schema, table)} ADD COLUMN {quote(column)} "
            f"{self.type_sql(kind)}"
        )

    def widen_column(self, schema: str, table: str, column: str, kind: LogicalType) -> list[str]:
        return [
            f"ALTER TABLE {qualified(schema, table)} ALTER COLUMN {quote(column)} "
            f"SET DATA TYPE {self.type_sql(kind)}"
        ]

    def columns_query(self, schema: str, table: str) -> str:
        return (
            "SELECT column_name, data_type FROM information_schema.columns "
            f"WHERE table_schema = {literal(schema)} AND table_name = {literal(table)} "
            "ORDER BY ordinal_position"
        )

    def create_temp_table(self, tmp: str, columns: ColumnSpec) -> str:
        return f"CREATE TEMP TABLE {quote(tmp)} ({self._column_defs(self.staging_types(columns))})"

    def staging_types(self, columns: ColumnSpec) -> list[tuple[str, LogicalType]]:
        """Column types of the staging table (what the bulk load can write)."""
        return list(columns)

    def drop_temp_table(self, tmp: str) -> str:
        return f"DROP TABLE IF EXISTS {quote(tmp)}"

    def bulk_load(self, tmp: str, location: str) -> str:
        raise NotImplementedError

    def staged_value(self, column: str, kind: LogicalType) -> str:
        """How a staged column is read into the target column."""
        _ = kind
        return f"s.{quote(column)}"

    def same_value(self, column: str) -> str:
        """Null-safe equality between the target row t and the staged row s."""
        q = quote(column)
        return f"t.{q} IS NOT DISTINCT FROM s.{q}"

    def merge(
        self,
        schema: str,
        table: str,
        tmp: str,
        columns: ColumnSpec,
        version_key: Sequence[str],
        window: MergeWindow | None = None,
    ) -> str:
        """Insert only versions the table does not hold yet (append-only version log).

        With a `window`, only stored rows inside it are compared (see loader.merge_window).
        """
        insert, match, inside = self._merge_parts(schema, table, tmp, columns, version_key, window)
        target = qualified(schema, table)
        if inside:
            match += f" AND t.{inside}"
        return f"{insert} WHERE NOT EXISTS (SELECT 1 FROM {target} AS t WHERE {match})"

    def _merge_parts(
        self,
        schema: str,
        table: str,
        tmp: str,
        columns: ColumnSpec,
        version_key: Sequence[str],
        window: MergeWindow | None,
    ) -> tuple[str, str, str]:
        """(INSERT ... SELECT ... FROM tmp AS s, the version-key match of t and s, the window's
        condition on a stored row's column or '')."""
        names = ", ".join(quote(name) for name, _ in columns)
        values = ", ".join(self.staged_value(name, kind) for name, kind in columns)
        match = " AND ".join(self.same_value(key) for key in version_key)
        inside = ""
        if window is not None:
            low, high = self.moment(window.low, window.kind), self.moment(window.high, window.kind)
            inside = f"{quote(window.column)} BETWEEN {low} AND {high}"
        insert = (
            f"INSERT INTO {qualified(schema, table)} ({names}) "
            f"SELECT {values} FROM {quote(tmp)} AS s"
        )
        return insert, match, inside

    def window_query(self, tmp: str, column: str) -> str:
        """min, max and NULL count of a staged column."""
        q = quote(column)
        return f"SELECT MIN({q}), MAX({q}), COUNT(*) - COUNT({q}) FROM {quote(tmp)}"

    def moment(self, value: dt.date | dt.datetime, kind: LogicalType) -> str:
        """A DATE or TIMESTAMPTZ literal."""
        if kind == LogicalType.DATE or not isinstance(value, dt.datetime):
            return f"CAST({literal(value.isoformat()[:10])} AS DATE)"
        moment = value if value.tzinfo else value.replace(tzinfo=dt.UTC)
        return f"CAST({literal(moment.isoformat())} AS {self.type_sql(LogicalType.TIMESTAMPTZ)})"

    def high_water_mark(self, schema: str, table: str, column: str) -> str:
        return f"SELECT MAX({quote(column)}) FROM {qualified(schema, table)}"

    def insert_rows(self, schema: str, table: str, columns: Sequence[str]) -> str:
        names = ", ".join(quote(c) for c in columns)
        marks = ", ".join(self.param for _ in columns)
        return f"INSERT INTO {qualified(schema, table)} ({names}) VALUES ({marks})"


class DuckDBDialect(Dialect):
    """DuckDB: the local warehouse file."""

    name = "duckdb"

    def merge(
        self,
        schema: str,
        table: str,
        tmp: str,
        columns: ColumnSpec,
        version_key: Sequence[str],
        window: MergeWindow | None = None,
    ) -> str:
        """As Dialect.merge, written as an ANTI JOIN: DuckDB runs a correlated NOT EXISTS by
        grouping every staged version first (minutes for two million rows), an anti join by
        hashing the stored versions in the window (nothing when there are none)."""
        insert, match, inside = self._merge_parts(schema, table, tmp, columns, version_key, window)
        keys = ", ".join(quote(key) for key in version_key)
        where = f" WHERE {inside}" if inside else ""
        stored = f"SELECT {keys} FROM {qualified(schema, table)}{where}"
        return f"{insert} ANTI JOIN ({stored}) AS t ON {match}"

    def bulk_load(self, tmp: str, location: str) -> str:
        path = location.replace("'", "''")
        return f"INSERT INTO {quote(tmp)} SELECT * FROM read_parquet('{path}')"


class RedshiftDialect(Dialect):
    """Amazon Redshift: stage Parquet in S3, COPY it, merge with INSERT ... WHERE NOT EXISTS."""

    name = "redshift"
    param = "%s"
    types: t.ClassVar[dict[LogicalType, str]] = {
        **Dialect.types,
        LogicalType.VARCHAR: "VARCHAR(65535)",
        LogicalType.JSON: "SUPER",
    }

    def __init__(self, iam_role_arn: str = "", region: str = "") -> None:
        self.iam_role_arn = iam_role_arn
        self.region = region

    def staging_types(self, columns: ColumnSpec) -> list[tuple[str, LogicalType]]:
        # Parquet strings holding JSON text are COPied as VARCHAR, then parsed by the merge.
        return [
            (name, LogicalType.VARCHAR if kind == LogicalType.JSON else kind)
            for name, kind in columns
        ]

    def staged_value(self, column: str, kind: LogicalType) -> str:
        if kind == LogicalType.JSON:
            return f"JSON_PARSE(s.{quote(column)})"
        return f"s.{quote(column)}"

    def same_value(self, column: str) -> str:
        q = quote(column)
        return f"(t.{q} = s.{q} OR (t.{q} IS NULL AND s.{q} IS NULL))"

    def widen_column(self, schema: str, table: str, column: str, kind: LogicalType) -> list[str]:
        # Redshift alters a column's type only for VARCHAR length, and never inside a
        # transaction. Strings are already VARCHAR(65535), so any widening is: add a column
        # of the new type, copy, drop the old one, rename. Run these in autocommit.
        target = qualified(schema, table)
        spare = quote(f"{column}__widened")
        return [
            f"ALTER TABLE {target} ADD COLUMN {spare} {self.type_sql(kind)}",
            f"UPDATE {target} SET {spare} = CAST({quote(column)} AS {self.type_sql(kind)})",
            f"ALTER TABLE {target} DROP COLUMN {quote(column)}",
            f"ALTER TABLE {target} RENAME COLUMN {spare} TO {quote(column)}",
        ]

    def bulk_load(self, tmp: str, location: str) -> str:
        if not location.startswith("s3://"):
            msg = f"Redshift COPY reads from S3 only, got '{location}'."
            raise ValueError(msg)
        role = self.iam_role_arn.replace("'", "''")
        region = f" REGION '{self.region}'" if self.region else ""
        return f"COPY {quote(tmp)} FROM '{location}' IAM_ROLE '{role}' FORMAT AS PARQUET{region}"
