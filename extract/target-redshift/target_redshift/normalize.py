"""Turn one batch of records into a typed, de-duplicated Parquet file plus its rejects.

Every record of the batch is written once as JSON lines (orjson), then DuckDB (in memory)
casts all columns at once. The rule for a value that does not fit its column: the record is
rejected with a message naming the column and the value, and counted; nothing is dropped.
Values are cast by their text: "19.99" fits a DECIMAL column, 1.5 does not fit a BIGINT one.
"""

from __future__ import annotations

import datetime as dt
import decimal
import gzip
import logging
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import duckdb
import orjson

from target_redshift.columns import RECORD_HASH, Column, LogicalType
from target_redshift.dialect import quote

_DECIMAL = "DECIMAL(38,9)"
DELETED_AT = "_sdc_deleted_at"
DELETED_MARK = "|deleted"
MAX_REJECT_CHARS = 65536

log = logging.getLogger(__name__)


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


def _json_default(value: Any) -> Any:
    if isinstance(value, decimal.Decimal):
        return str(value)
    msg = f"Cannot write a value of type {type(value).__name__} to JSON: {value!r}"
    raise TypeError(msg)


def _sql_text(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _cast(column: Column, raw: str) -> str | None:
    """Typed expression reading the raw text column `raw`; None when no cast is needed."""
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


def write_jsonl(records: Sequence[dict[str, Any]], path: Path) -> None:
    """One JSON object a line; Decimal values become their exact text."""
    dumps = orjson.dumps
    with path.open("wb") as handle:
        handle.write(b"\n".join([dumps(r, default=_json_default) for r in records]))
        handle.write(b"\n")


def normalize(
    con: duckdb.DuckDBPyConnection,
    records: Sequence[dict[str, Any]],
    columns: Sequence[Column],
    version_key: Sequence[str],
    required: Sequence[str],
    load_id: str,
    loaded_at: dt.datetime,
    workdir: Path,
    stem: str,
    keep_as: str | None = None,
) -> NormalizedBatch:
    """Cast, check and de-duplicate a batch; write the good rows to Parquet.

    `version_key` names the columns identifying a version (RECORD_HASH for keyless streams);
    `required` names columns that must not be NULL (the stream's key properties). With
    `keep_as`, the good rows stay in that temp table of `con` instead (no Parquet file): used
    when `con` is the warehouse itself.
    """
    jsonl = workdir / f"{stem}.jsonl"
    parquet = None if keep_as else workdir / f"{stem}.parquet"
    write_jsonl(records, jsonl)
    try:
        return _normalize_file(
            con,
            JsonLines(jsonl, compressed=False),
            parquet,
            len(records),
            columns,
            version_key,
            required,
            load_id,
            loaded_at,
            keep_as,
        )
    finally:
        jsonl.unlink(missing_ok=True)


def normalize_file(
    con: duckdb.DuckDBPyConnection,
    source: JsonLines,
    columns: Sequence[Column],
    version_key: Sequence[str],
    required: Sequence[str],
    load_id: str,
    loaded_at: dt.datetime,
    workdir: Path,
    stem: str,
    keep_as: str | None = None,
) -> NormalizedBatch:
    """normalize() for a file of records: DuckDB reads it, no record becomes a Python object.

    A line that is not a JSON object is not a record: it is rejected (kept as its text, with
    its line number) and counted, and the file's other lines load. Finding such lines costs a
    second pass in Python, taken only when DuckDB's reader refuses the file.
    """
    parquet = None if keep_as else workdir / f"{stem}.parquet"
    try:
        return _normalize_file(
            con, source, parquet, None, columns, version_key, required, load_id, loaded_at, keep_as
        )
    except duckdb.InvalidInputException:
        log.warning("%s holds lines that are not JSON objects; rejecting them", source.path.name)
    clean = workdir / f"{stem}.clean.jsonl"
    bad = _split_bad_lines(source, clean)
    try:
        batch = _normalize_file(
            con,
            JsonLines(clean, compressed=False, constants=source.constants),
            parquet,
            None,
            columns,
            version_key,
            required,
            load_id,
            loaded_at,
            keep_as,
        )
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


def _normalize_file(
    con: duckdb.DuckDBPyConnection,
    source: JsonLines,
    parquet: Path | None,
    received: int | None,
    columns: Sequence[Column],
    version_key: Sequence[str],
    required: Sequence[str],
    load_id: str,
    loaded_at: dt.datetime,
    keep_as: str | None = None,
) -> NormalizedBatch:
    spec = (
        "{"
        + ", ".join(
            f"{_sql_text(c.source)}: '{'JSON' if c.type == LogicalType.JSON else 'VARCHAR'}'"
            for c in columns
            if c.source not in source.constants
        )
        + "}"
    )
    compression = "gzip" if source.compressed else "uncompressed"
    reader = (
        f"read_json({_sql_text(str(source.path))}, format='newline_delimited', columns={spec}, "
        f"compression='{compression}', maximum_object_size=67108864)"
    )
    # Inner query: each cast once, raw text kept beside the columns that need a cast.
    inner: list[str] = []
    bad: list[str] = []
    messages: list[str] = []
    for i, column in enumerate(columns):
        if column.source in source.constants:
            value = source.constants[column.source]
            raw = "CAST(NULL AS VARCHAR)" if value is None else _sql_text(value)
        else:
            raw = f"r.{quote(column.source)}"
        typed = _cast(column, raw)
        if typed is None:
            inner.append(f"{raw} AS {quote(column.name)}")
            continue
        keep = quote(f"__raw_{i}")
        inner.append(f"{typed} AS {quote(column.name)}")
        inner.append(f"{raw} AS {keep}")
        failure = f"({keep} IS NOT NULL AND {quote(column.name)} IS NULL)"
        bad.append(failure)
        messages.append(
            f"CASE WHEN {failure} THEN {_sql_text(column.name + ': ')} || {keep} || "
            f"{_sql_text(f' is not a valid {column.type.value}')} END"
        )
    by_name = {c.name: c for c in columns}
    for key in required:
        if key in by_name:
            bad.append(f"{quote(key)} IS NULL")
            messages.append(
                f"CASE WHEN {quote(key)} IS NULL THEN "
                f"{_sql_text(f'key property {key} is missing')} END"
            )
    content = sorted((c for c in columns if not c.name.startswith("_sdc_")), key=lambda c: c.name)
    raw_of = {
        c.name: (quote(f"__raw_{i}") if _cast(c, "x") is not None else quote(c.name))
        for i, c in enumerate(columns)
    }
    record_json = (
        "json_object(" + ", ".join(f"{_sql_text(c.name)}, {raw_of[c.name]}" for c in content) + ")"
        if content
        else "'{}'"
    )
    extra: list[str] = []
    if RECORD_HASH in version_key:
        hashed = f"CAST({record_json} AS VARCHAR)"
        if DELETED_AT in by_name:
            # A deletion is a version of its own: a LOG_BASED delete carries the row exactly as
            # its latest version held it, and without the mark it would merge away as a repeat
            # of that version. Rows that are not deleted keep the hash they always had.
            mark = f"CASE WHEN {quote(DELETED_AT)} IS NULL THEN '' ELSE '{DELETED_MARK}' END"
            hashed = f"{hashed} || {mark}"
        extra.append(f"md5({hashed}) AS {quote(RECORD_HASH)}")
    flag = " OR ".join(bad) if bad else "FALSE"
    # Qualified as temp.*: `con` may be the warehouse file, whose own tables stay untouched.
    con.execute("DROP TABLE IF EXISTS temp.checked")
    con.execute(
        f"CREATE TEMP TABLE checked AS SELECT *, {flag} AS __bad"
        + "".join(f", {e}" for e in extra)
        + f" FROM (SELECT {', '.join(inner)} FROM {reader} AS r)"
    )
    if received is None:
        row = con.execute("SELECT count(*) FROM temp.checked").fetchone()
        received = int(row[0]) if row else 0
    errors = "concat_ws('; ', " + ", ".join(messages) + ")" if messages else "''"
    rejects = [
        (str(error), str(record))
        for error, record in con.execute(
            f"SELECT {errors}, CAST({record_json} AS VARCHAR) FROM temp.checked WHERE __bad"
        ).fetchall()
    ]
    out_columns: list[tuple[str, LogicalType]] = [(c.name, c.type) for c in columns]
    if extra:
        out_columns.append((RECORD_HASH, LogicalType.VARCHAR))
    names = [name for name, _ in out_columns]
    order = 'ORDER BY "_sdc_sequence" DESC NULLS LAST' if "_sdc_sequence" in names else ""
    partition = ", ".join(quote(k) for k in version_key)
    select = ", ".join(quote(n) for n in names)
    staged_name = keep_as or "staged"
    staged_table = f"temp.{quote(staged_name)}"
    con.execute(f"DROP TABLE IF EXISTS {staged_table}")
    con.execute(
        f"CREATE TEMP TABLE {quote(staged_name)} AS SELECT {select}, "
        f"{_sql_text(load_id)} AS _load_id, "
        f"CAST({_sql_text(loaded_at.isoformat())} AS TIMESTAMPTZ) AS _loaded_at "
        f"FROM temp.checked WHERE NOT __bad "
        f"QUALIFY row_number() OVER (PARTITION BY {partition} {order}) = 1"
    )
    out_columns += [("_load_id", LogicalType.VARCHAR), ("_loaded_at", LogicalType.TIMESTAMPTZ)]
    row = con.execute(f"SELECT count(*) FROM {staged_table}").fetchone()
    staged = int(row[0]) if row else 0
    con.execute("DROP TABLE temp.checked")
    if parquet is not None:
        con.execute(f"COPY {staged_table} TO {_sql_text(str(parquet))} (FORMAT PARQUET)")
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
