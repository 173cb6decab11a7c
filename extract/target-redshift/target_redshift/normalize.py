"""Turn one batch into typed, checked, de-duplicated rows (a temp table or a Parquet file).

A batch comes from one of three sources, and only how its values are read differs:

- a list of records (RECORD messages): written once as JSON lines (orjson), then read as text;
- a JSON-lines file (a BATCH file): read as text by DuckDB, no record becomes a Python object;
- a Parquet file (a BATCH file of a bulk extractor): read with its own types.

Then DuckDB casts every column at once. The rule for a value that does not fit its column: the
record is rejected with a message naming the column and the value, and counted; nothing is
dropped. Text is cast by its text: "19.99" fits a DECIMAL column, 1.5 does not fit a BIGINT one.
Typed Parquet values are cast by value (DECIMAL(12,2) into DECIMAL(38,9) exactly).
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson

from target_redshift.columns import RECORD_HASH, Column, LogicalType
from target_redshift.dialect import quote
from target_redshift.record_hash import DELETED_AT, duckdb_piece, hash_expression

_DECIMAL = "DECIMAL(38,9)"
MAX_REJECT_CHARS = 65536
_DUCKDB_TYPES = {
    LogicalType.BIGINT: "BIGINT",
    LogicalType.DECIMAL: _DECIMAL,
    LogicalType.VARCHAR: "VARCHAR",
    LogicalType.TIMESTAMPTZ: "TIMESTAMPTZ",
    LogicalType.DATE: "DATE",
    LogicalType.BOOLEAN: "BOOLEAN",
    LogicalType.JSON: "JSON",
}
# How DESCRIBE spells a file's column types that _DUCKDB_TYPES spells otherwise.
_FILE_TYPE_NAMES = {"TIMESTAMP WITH TIME ZONE": "TIMESTAMPTZ", "DECIMAL(38,9)": _DECIMAL}
# Parquet column types that reach a column of the given type by a cast that cannot fail
# (a naive TIMESTAMP is taken as UTC, the session's time zone).
_SAFE_FROM: dict[LogicalType, tuple[str, ...]] = {
    LogicalType.BIGINT: ("INTEGER", "SMALLINT", "TINYINT", "UINTEGER", "USMALLINT", "UTINYINT"),
    LogicalType.DECIMAL: ("BIGINT", "INTEGER", "SMALLINT", "TINYINT"),
    LogicalType.TIMESTAMPTZ: ("TIMESTAMP", "DATE"),
}

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class BatchSpec:
    """What every batch of a stream shares: its columns and keys, and where it is checked.

    `version_key` names the columns identifying a version (RECORD_HASH for keyless streams);
    `required` names columns that must not be NULL (the stream's key properties). With
    `keep_as`, the good rows stay in that temp table of the checking connection (no Parquet
    file): used when that connection is the warehouse itself.
    """

    columns: Sequence[Column]
    version_key: Sequence[str]
    required: Sequence[str]
    load_id: str
    loaded_at: dt.datetime
    workdir: Path
    stem: str
    keep_as: str | None = None


@dataclass
class NormalizedBatch:
    """The outcome of normalizing one batch: a Parquet file, or a temp table kept in place."""

    parquet_path: Path | None
    columns: list[tuple[str, LogicalType]]
    rows_received: int
    rows_staged: int
    rows_duplicate_in_batch: int
    rejects: list[tuple[str, str]] = field(default_factory=list)
    staged_table: str | None = None


@dataclass(frozen=True)
class JsonLines:
    """A JSON-lines file of records (a Singer BATCH file), gzipped or not.

    `constants` gives columns that the lines do not carry (the Singer metadata of a batch) as
    text, or None for NULL; they override any same-named field of the lines.
    """

    path: Path
    compressed: bool
    constants: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class ParquetFile:
    """A Parquet file of records with their own types (a BATCH file of a bulk extractor).

    `constants` as for JsonLines; a column the file does not carry lands as NULL.
    """

    path: Path
    constants: Mapping[str, str | None] = field(default_factory=dict)


@dataclass(frozen=True)
class CheckedLines:
    """Rows already typed and checked in the checking connection (objects.py): a SELECT whose
    columns are named and typed like the stream's columns (`columns` names them).

    `constants` as for JsonLines; a column neither selected nor constant lands as NULL.
    """

    relation: str
    columns: frozenset[str]
    constants: Mapping[str, str | None] = field(default_factory=dict)


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    msg = f"Cannot write a value of type {type(value).__name__} to JSON: {value!r}"
    raise TypeError(msg)


def sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def cast_text(column: Column, raw: str) -> str | None:
    """Typed expression reading the raw text `raw`; None when no cast is needed."""
    kind = column.type
    if kind in (LogicalType.JSON, LogicalType.VARCHAR):
        return None
    if kind == LogicalType.BIGINT:
        return (
            f"CASE WHEN regexp_full_match({raw}, '\\s*[-+]?[0-9]+\\s*') "
            f"THEN TRY_CAST({raw} AS BIGINT) END"
        )
    if kind == LogicalType.DECIMAL:
        # DECIMAL(18,9) parses ~50x faster than DECIMAL(38,9); wide values take the slow path.
        return (
            f"COALESCE(CAST(TRY_CAST({raw} AS DECIMAL(18,9)) AS {_DECIMAL}), "
            f"TRY_CAST({raw} AS {_DECIMAL}), CASE WHEN {raw} ILIKE '%e%' THEN "
            f"TRY_CAST(TRY_CAST({raw} AS DOUBLE) AS {_DECIMAL}) END)"
        )
    if kind == LogicalType.TIMESTAMPTZ:
        return f"TRY_CAST({raw} AS TIMESTAMPTZ)"
    if kind == LogicalType.DATE:
        return f"COALESCE(TRY_CAST({raw} AS DATE), CAST(TRY_CAST({raw} AS TIMESTAMPTZ) AS DATE))"
    return f"TRY_CAST({raw} AS BOOLEAN)"


def _cast_typed(column: Column, raw: str, file_type: str) -> tuple[str | None, bool]:
    """How a typed Parquet value becomes the column's type: (expression or None when the value
    is kept as is, whether the cast can fail and so needs checking)."""
    kind = column.type
    target = _DUCKDB_TYPES[kind]
    if _FILE_TYPE_NAMES.get(file_type, file_type) == target:
        return None, False
    decimal_type = re.fullmatch(r"DECIMAL\((\d+),(\d+)\)", file_type)
    if kind == LogicalType.DECIMAL and decimal_type:
        precision, scale = int(decimal_type[1]), int(decimal_type[2])
        if precision - scale <= 29 and scale <= 9:  # fits DECIMAL(38,9) exactly
            return f"CAST({raw} AS {target})", False
        return f"TRY_CAST({raw} AS {target})", True
    if file_type in _SAFE_FROM.get(kind, ()):
        return f"CAST({raw} AS {target})", False
    if kind == LogicalType.VARCHAR:
        return f"CAST({raw} AS VARCHAR)", False
    if file_type == "VARCHAR" and kind != LogicalType.JSON:
        return cast_text(column, raw), True
    return f"TRY_CAST({raw} AS {target})", True


def write_jsonl(records: Sequence[dict[str, Any]], path: Path) -> None:
    """One JSON object a line; Decimal values become their exact text."""
    dumps = orjson.dumps
    with path.open("wb") as handle:
        handle.write(b"\n".join([dumps(r, default=_json_default) for r in records]))
        handle.write(b"\n")


def normalize(
    con: duckdb.DuckDBPyConnection,
    source: Sequence[dict[str, Any]] | JsonLines | ParquetFile | CheckedLines,
    spec: BatchSpec,
) -> NormalizedBatch:
    """Cast, check and de-duplicate a batch; the good rows go to Parquet or stay in `keep_as`.

    A line of a JSON-lines file that is not a JSON object is not a record: it is rejected
    (kept as its text, with its line number) and counted, and the file's other lines load.
    Finding such lines costs a second pass in Python, taken only when DuckDB's reader refuses
    the file.
    """
    parquet = None if spec.keep_as else spec.workdir / f"{spec.stem}.parquet"
    if isinstance(source, CheckedLines):
        return _normalize(con, _CheckedReader(source), parquet, None, spec)
    if isinstance(source, ParquetFile):
        return _normalize(con, _ParquetReader(con, source), parquet, None, spec)
    if not isinstance(source, JsonLines):
        jsonl = spec.workdir / f"{spec.stem}.jsonl"
        write_jsonl(source, jsonl)
        try:
            reader = _JsonReader(JsonLines(jsonl, compressed=False), spec.columns)
            return _normalize(con, reader, parquet, len(source), spec)
        finally:
            jsonl.unlink(missing_ok=True)
    try:
        return _normalize(con, _JsonReader(source, spec.columns), parquet, None, spec)
    except duckdb.InvalidInputException:
        log.warning("%s holds lines that are not JSON objects; rejecting them", source.path.name)
    clean = spec.workdir / f"{spec.stem}.clean.jsonl"
    bad = _split_bad_lines(source, clean)
    try:
        cleaned = JsonLines(clean, compressed=False, constants=source.constants)
        batch = _normalize(con, _JsonReader(cleaned, spec.columns), parquet, None, spec)
    finally:
        clean.unlink(missing_ok=True)
    batch.rows_received += len(bad)
    batch.rejects = bad + batch.rejects
    return batch


def _split_bad_lines(source: JsonLines, clean: Path) -> list[tuple[str, str]]:
    """Copy the JSON-object lines of `source` to `clean`; return the others as rejects."""
    bad: list[tuple[str, str]] = []
    opener = gzip.open if source.compressed else open
    with opener(source.path, "rb") as lines, clean.open("wb") as out:
        for number, line in enumerate(lines, start=1):
            if not line.strip():
                continue
            try:
                doc = orjson.loads(line)
            except orjson.JSONDecodeError as error:
                reason = f"line {number}: invalid JSON ({error})"
            else:
                if isinstance(doc, dict):
                    out.write(line if line.endswith(b"\n") else line + b"\n")
                    continue
                reason = f"line {number}: not a JSON object ({type(doc).__name__})"
            text = line.rstrip(b"\n").decode("utf-8", errors="backslashreplace")
            bad.append((reason, text[:MAX_REJECT_CHARS]))
    return bad


class _JsonReader:
    """Every field read as text (JSON fields as JSON), cast by its text."""

    def __init__(self, source: JsonLines, columns: Sequence[Column]) -> None:
        self.constants = source.constants
        spec = ", ".join(
            f"{sql_text(c.source)}: '{'JSON' if c.type == LogicalType.JSON else 'VARCHAR'}'"
            for c in columns
            if c.source not in source.constants
        )
        compression = "gzip" if source.compressed else "uncompressed"
        self.relation = (
            f"read_json({sql_text(str(source.path))}, format='newline_delimited', "
            f"columns={{{spec}}}, compression='{compression}', maximum_object_size=67108864)"
        )

    def raw(self, column: Column) -> str | None:
        return f"r.{quote(column.source)}"

    def cast(self, column: Column, raw: str) -> tuple[str | None, bool]:
        typed = cast_text(column, raw)
        return typed, typed is not None


class _ParquetReader:
    """Fields read with the file's own types; only casts that can fail are checked."""

    def __init__(self, con: duckdb.DuckDBPyConnection, source: ParquetFile) -> None:
        self.constants = source.constants
        self.relation = f"read_parquet({sql_text(str(source.path))})"
        self.types = {
            str(name): str(kind)
            for name, kind, *_ in con.execute(f"DESCRIBE SELECT * FROM {self.relation}").fetchall()
        }

    def raw(self, column: Column) -> str | None:
        return f"r.{quote(column.source)}" if column.source in self.types else None

    def cast(self, column: Column, raw: str) -> tuple[str | None, bool]:
        if column.source in self.constants:
            typed = cast_text(column, raw)
            return typed, typed is not None
        return _cast_typed(column, raw, self.types[column.source])


class _CheckedReader:
    """Columns already typed by the check that produced them: nothing is cast again."""

    def __init__(self, source: CheckedLines) -> None:
        self.constants = source.constants
        self.relation = source.relation
        self.columns = source.columns

    def raw(self, column: Column) -> str | None:
        return f"r.{quote(column.name)}" if column.name in self.columns else None

    def cast(self, column: Column, raw: str) -> tuple[str | None, bool]:
        if column.source in self.constants:
            typed = cast_text(column, raw)
            return typed, typed is not None
        return None, False


def _normalize(
    con: duckdb.DuckDBPyConnection,
    reader: _JsonReader | _ParquetReader | _CheckedReader,
    parquet: Path | None,
    received: int | None,
    spec: BatchSpec,
) -> NormalizedBatch:
    columns = spec.columns
    # Inner query: each cast once, raw value kept beside the columns whose cast can fail.
    inner: list[str] = []
    bad: list[str] = []
    messages: list[str] = []
    raw_of: dict[str, str] = {}
    for i, column in enumerate(columns):
        if column.source in reader.constants:
            value = reader.constants[column.source]
            raw: str | None = "CAST(NULL AS VARCHAR)" if value is None else sql_text(value)
        else:
            raw = reader.raw(column)
        if raw is None:  # a column the file does not carry
            inner.append(f"CAST(NULL AS {_DUCKDB_TYPES[column.type]}) AS {quote(column.name)}")
            raw_of[column.name] = quote(column.name)
            continue
        typed, can_fail = reader.cast(column, raw)
        if typed is None or not can_fail:
            inner.append(f"{typed or raw} AS {quote(column.name)}")
            raw_of[column.name] = quote(column.name)
            continue
        keep = quote(f"__raw_{i}")
        inner.append(f"{typed} AS {quote(column.name)}")
        inner.append(f"{raw} AS {keep}")
        raw_of[column.name] = keep
        failure = f"({keep} IS NOT NULL AND {quote(column.name)} IS NULL)"
        bad.append(failure)
        messages.append(
            f"CASE WHEN {failure} THEN {sql_text(column.name + ': ')} || CAST({keep} AS VARCHAR)"
            f" || {sql_text(f' is not a valid {column.type.value}')} END"
        )
    by_name = {c.name: c for c in columns}
    for key in spec.required:
        if key in by_name:
            bad.append(f"{quote(key)} IS NULL")
            messages.append(
                f"CASE WHEN {quote(key)} IS NULL THEN "
                f"{sql_text(f'key property {key} is missing')} END"
            )
    flag = " OR ".join(bad) if bad else "FALSE"
    out_columns: list[tuple[str, LogicalType]] = [(c.name, c.type) for c in columns]
    # The hash and the loader's columns are computed with the casts, in the one pass that
    # materializes the batch; a bad row's hash is never used.
    extra = (
        f", {sql_text(spec.load_id)} AS _load_id, "
        f"CAST({sql_text(spec.loaded_at.isoformat())} AS TIMESTAMPTZ) AS _loaded_at"
    )
    if RECORD_HASH in spec.version_key:
        deleted = quote(DELETED_AT) if DELETED_AT in by_name else None
        extra += f", {hash_expression(columns, duckdb_piece, deleted=deleted)} AS {RECORD_HASH}"
        out_columns.append((RECORD_HASH, LogicalType.VARCHAR))
    # Qualified as temp.*: `con` may be the warehouse file, whose own tables stay untouched.
    con.execute("DROP TABLE IF EXISTS temp.checked")
    con.execute(
        f"CREATE TEMP TABLE checked AS SELECT *, {flag} AS __bad{extra} "
        f"FROM (SELECT {', '.join(inner)} FROM {reader.relation} AS r)"
    )
    if received is None:
        row = con.execute("SELECT count(*) FROM temp.checked").fetchone()
        received = int(row[0]) if row else 0
    rejects = _rejects(con, columns, raw_of, messages) if bad else []
    out_columns += [("_load_id", LogicalType.VARCHAR), ("_loaded_at", LogicalType.TIMESTAMPTZ)]
    staged_name = spec.keep_as or "staged"
    staged = _stage(con, spec, out_columns, staged_name, filter_bad=bool(rejects))
    staged_table = f"temp.{quote(staged_name)}"
    if parquet is not None:
        select = ", ".join(quote(n) for n, _ in out_columns)
        con.execute(
            f"COPY (SELECT {select} FROM {staged_table}) TO {sql_text(str(parquet))} "
            "(FORMAT PARQUET)"
        )
        con.execute(f"DROP TABLE {staged_table}")
    valid = received - len(rejects)
    return NormalizedBatch(
        parquet_path=parquet,
        columns=out_columns,
        rows_received=received,
        rows_staged=staged,
        rows_duplicate_in_batch=valid - staged,
        rejects=rejects,
        staged_table=None if parquet is not None else staged_name,
    )


def _rejects(
    con: duckdb.DuckDBPyConnection,
    columns: Sequence[Column],
    raw_of: Mapping[str, str],
    messages: Sequence[str],
) -> list[tuple[str, str]]:
    """(reason, the record's fields as text) of every bad row of temp.checked."""
    content = sorted((c for c in columns if not c.name.startswith("_sdc_")), key=lambda c: c.name)
    record_json = (
        "json_object("
        + ", ".join(f"{sql_text(c.name)}, CAST({raw_of[c.name]} AS VARCHAR)" for c in content)
        + ")"
        if content
        else "'{}'"
    )
    errors = "concat_ws('; ', " + ", ".join(messages) + ")"
    return [
        (str(error), str(record))
        for error, record in con.execute(
            f"SELECT {errors}, CAST({record_json} AS VARCHAR) FROM temp.checked WHERE __bad"
        ).fetchall()
    ]


def _stage(
    con: duckdb.DuckDBPyConnection,
    spec: BatchSpec,
    out_columns: Sequence[tuple[str, LogicalType]],
    staged_name: str,
    filter_bad: bool,
) -> int:
    """The good rows of temp.checked, one per version (the latest `_sdc_sequence`), as
    temp.`staged_name` (its extra columns are never read: the merge names its columns).

    Ranking the versions of a large batch costs a sort of every row; a batch whose rows are
    already unique on the version key's own columns (a snapshot of a table with a primary key)
    cannot hold two rows of one version, so one hash count decides whether to rank at all. A
    batch with nothing to rank or reject is staged as it is, without a copy.
    """
    staged_table = f"temp.{quote(staged_name)}"
    con.execute(f"DROP TABLE IF EXISTS {staged_table}")
    if not _may_repeat_versions(con, spec.version_key):
        if not filter_bad:
            con.execute(f"ALTER TABLE temp.checked RENAME TO {quote(staged_name)}")
        else:
            con.execute(
                f"CREATE TEMP TABLE {quote(staged_name)} AS "
                "SELECT * FROM temp.checked WHERE NOT __bad"
            )
            con.execute("DROP TABLE temp.checked")
    else:
        names = [name for name, _ in out_columns]
        order = 'ORDER BY "_sdc_sequence" DESC NULLS LAST' if "_sdc_sequence" in names else ""
        partition = ", ".join(quote(k) for k in spec.version_key)
        con.execute(
            f"CREATE TEMP TABLE {quote(staged_name)} AS SELECT * FROM temp.checked "
            f"WHERE NOT __bad QUALIFY row_number() OVER (PARTITION BY {partition} {order}) = 1"
        )
        con.execute("DROP TABLE temp.checked")
    row = con.execute(f"SELECT count(*) FROM {staged_table}").fetchone()
    return int(row[0]) if row else 0


def _may_repeat_versions(con: duckdb.DuckDBPyConnection, version_key: Sequence[str]) -> bool:
    """False when the good rows are unique on the version key's columns (its hash aside)."""
    own = [quote(k) for k in version_key if k != RECORD_HASH]
    if not own:
        return True
    row = con.execute(
        f"SELECT count(*) - count(DISTINCT ({', '.join(own)})) FROM temp.checked WHERE NOT __bad"
    ).fetchone()
    return bool(row and row[0])
