"""Object manifests: a BATCH message naming source objects whose lines this loader reads itself.

A tap that only lists (tap-brightcart-events with `object_manifests`) names the S3 objects in a
BATCH message and adds an `objects` field (docs/adr/0010-events-objects-read-by-the-loader.md):

    "objects": {"last_modified": [<one per manifest entry>],
                "columns": {"key": "s3_key", "line_number": "line_number",
                            "last_modified": "object_last_modified", "line": "payload"},
                "quarantine": {"stream": "events_quarantine", "error": "error",
                               "raw_line": "raw_line"}}

DuckDB reads every object of the message in one scan (httpfs, gzip or plain), numbers the lines
of each object, and checks each line against the stream's schema in SQL: a JSON object whose
top-level fields named like the schema's columns have the column's JSON type (a string column a
JSON string, an integer column an integer or a string holding one, a date-time column a string
that casts to a timestamp), the `required` ones present and not null, strings at least
`minLength` long. The line itself is the `line` column (JSON, verbatim). A line that fails gets
the reason of its first failing check and goes to the quarantine stream with its raw text. The
objects are never deleted: they are the source.

An object DuckDB cannot read whole (a gzip stream cut short, bytes that are not UTF-8, a line
DuckDB's reader refuses) is read again in Python from the same bytes: its readable UTF-8 lines
go through the same SQL checks; a line that is not UTF-8 is quarantined with its invalid bytes
escaped as \\xNN; an unreadable tail is one quarantine row at the next line number.
"""

from __future__ import annotations

import gzip
import io
import logging
import uuid
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import duckdb
import orjson

from target_redshift.columns import Column, LogicalType
from target_redshift.dialect import quote
from target_redshift.normalize import cast_text, sql_text

log = logging.getLogger(__name__)

MAX_RAW_LINE_CHARS = 65536
GZIP_MAGIC = b"\x1f\x8b"
_PYTHON_TYPES = {
    "ARRAY": "list",
    "VARCHAR": "str",
    "BIGINT": "int",
    "UBIGINT": "int",
    "DOUBLE": "float",
    "BOOLEAN": "bool",
    "NULL": "NoneType",
}


class ManifestError(ValueError):
    """A BATCH message's `objects` field cannot be used; the message says what is wrong."""


@dataclass(frozen=True)
class ObjectManifest:
    """The objects of one BATCH message and how their lines map to the stream's columns."""

    urls: tuple[str, ...]
    last_modified: tuple[str, ...]
    key_column: str
    line_number_column: str
    last_modified_column: str
    line_column: str
    quarantine_stream: str | None = None
    error_column: str = "error"
    raw_line_column: str = "raw_line"
    # A gzip object's trailer says how many bytes it holds (mod 2**32): the tap reads it, and a
    # scan that got another count (a stream cut short, which DuckDB's reader does not notice)
    # sends the object to the Python reader. None for an object that is not gzip by name.
    gzip_sizes: tuple[int | None, ...] = ()

    @classmethod
    def from_message(cls, manifest: Sequence[str], objects: Mapping[str, Any]) -> ObjectManifest:
        urls = tuple(str(u) for u in manifest)
        modified = tuple(str(m) for m in objects.get("last_modified") or [])
        if len(modified) != len(urls):
            msg = (
                f"BATCH objects: {len(urls)} manifest entries but {len(modified)} last_modified "
                "values; the tap must send one per object"
            )
            raise ManifestError(msg)
        bad = [u for u in urls if urlparse(u).scheme != "s3"]
        if bad:
            msg = f"BATCH objects must be s3:// URLs; got {bad[:3]}"
            raise ManifestError(msg)
        columns = objects.get("columns") or {}
        missing = [k for k in ("key", "line_number", "last_modified", "line") if k not in columns]
        if missing:
            msg = f"BATCH objects.columns lacks {missing}; name the stream's column for each"
            raise ManifestError(msg)
        quarantine = objects.get("quarantine") or {}
        sizes = tuple(
            None if v is None else int(v) for v in objects.get("gzip_sizes") or [None] * len(urls)
        )
        if len(sizes) != len(urls):
            msg = f"BATCH objects: {len(urls)} manifest entries but {len(sizes)} gzip_sizes"
            raise ManifestError(msg)
        return cls(
            urls=urls,
            last_modified=modified,
            key_column=str(columns["key"]).lower(),
            line_number_column=str(columns["line_number"]).lower(),
            last_modified_column=str(columns["last_modified"]).lower(),
            line_column=str(columns["line"]).lower(),
            quarantine_stream=quarantine.get("stream"),
            error_column=str(quarantine.get("error", "error")).lower(),
            raw_line_column=str(quarantine.get("raw_line", "raw_line")).lower(),
            gzip_sizes=sizes,
        )

    def key_of(self, url: str) -> str:
        return urlparse(url).path.lstrip("/")


@dataclass(frozen=True)
class LineRules:
    """What a line must hold, from the stream's columns and its JSON schema."""

    columns: Sequence[Column]
    required: frozenset[str]
    min_length: Mapping[str, int] = field(default_factory=dict)

    @classmethod
    def from_schema(cls, columns: Sequence[Column], schema: Mapping[str, Any]) -> LineRules:
        props = schema.get("properties") or {}
        lengths = {
            str(name).lower(): int(prop["minLength"])
            for name, prop in props.items()
            if isinstance(prop, dict) and isinstance(prop.get("minLength"), int)
        }
        required = frozenset(str(name).lower() for name in schema.get("required") or [])
        return cls(columns=columns, required=required, min_length=lengths)


@dataclass
class CheckedObjects:
    """Where the checked lines of one message are: temp tables of the checking connection."""

    good: str  # a SELECT yielding the stream's columns, typed, for the good lines
    quarantine: list[dict[str, Any]]
    objects: int
    fallback_objects: int
    _tables: list[str] = field(default_factory=list)

    def drop(self, con: duckdb.DuckDBPyConnection) -> None:
        for table in self._tables:
            con.execute(f"DROP TABLE IF EXISTS temp.{quote(table)}")


def _line_fields(manifest: ObjectManifest, rules: LineRules) -> list[Column]:
    own = {
        manifest.key_column,
        manifest.line_number_column,
        manifest.last_modified_column,
        manifest.line_column,
    }
    return [c for c in rules.columns if c.name not in own and not c.name.startswith("_sdc_")]


def _path(name: str) -> str:
    return "$." + '"' + name.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _field_checks(column: Column, i: int, rules: LineRules) -> tuple[str, str]:
    """(the typed value, the reason it fails or NULL) of field `i`, whose JSON text is __x{i}
    and whose text value is __v{i}; the reason reads the typed value as its own column, so each
    cast runs once per line."""
    name = column.source
    x, value, typed_column = f"__x{i}", f"__v{i}", quote(column.name)
    present = f"({x} IS NOT NULL AND {x} <> 'null')"
    is_string = f"starts_with({x}, '\"')"
    kind = column.type
    reasons: list[str] = []
    if column.name in rules.required:
        reasons.append(f"WHEN NOT {present} THEN {sql_text('missing ' + name)}")
    if kind == LogicalType.JSON:
        return f"CASE WHEN {present} THEN CAST({x} AS JSON) END", _case(reasons)
    typed = cast_text(column, value) or value
    if kind == LogicalType.VARCHAR:
        reasons.append(
            f"WHEN {present} AND NOT {is_string} THEN "
            f"{sql_text(name + ' is not a string: ')} || {x}"
        )
    elif kind in (LogicalType.TIMESTAMPTZ, LogicalType.DATE):
        reasons.append(
            f"WHEN {present} AND NOT {is_string} THEN "
            f"{sql_text(name + ' is not a string timestamp: ')} || {x}"
        )
        reasons.append(
            f"WHEN {present} AND {typed_column} IS NULL THEN "
            f"{sql_text('unparseable ' + name + ': ')} || '''' || {value} || ''''"
        )
    else:
        noun = {
            LogicalType.BIGINT: "an integer",
            LogicalType.DECIMAL: "a number",
            LogicalType.BOOLEAN: "a boolean",
        }[kind]
        reasons.append(
            f"WHEN {present} AND {typed_column} IS NULL THEN "
            f"{sql_text(f'{name} is not {noun}: ')} || {x}"
        )
    shortest = rules.min_length.get(column.name)
    if shortest:
        reasons.append(
            f"WHEN {present} AND length({value}) < {shortest} THEN "
            f"{sql_text(f'{name} is shorter than {shortest} character(s)')}"
        )
    return f"CASE WHEN {present} THEN {typed} END", _case(reasons)


def _case(reasons: Sequence[str]) -> str:
    return f"CASE {' '.join(reasons)} END" if reasons else "CAST(NULL AS VARCHAR)"


def check_select(lines: str, manifest: ObjectManifest, rules: LineRules) -> str:
    """SELECT over the relation `lines` (columns __url, __line and, when numbered, __n) giving
    each line's typed fields, payload (JSON) and __error, the reason of its first failing check
    (NULL for a good line); a bad line keeps its text in __line.

    One layer per step, so that each parse and each cast runs once per line: the line as JSON,
    one json_extract of every field, each field's text, each field's typed value, the reasons.
    """
    fields = _line_fields(manifest, rules)
    pieces: list[str] = []
    values: list[str] = []
    reasons: list[str] = []
    for i, column in enumerate(fields, start=1):
        pieces.append(f"__x[{i}] AS __x{i}, (__x[{i}] ->> '$') AS __v{i}")
        typed, reason = _field_checks(column, i, rules)
        values.append(f"{typed} AS {quote(column.name)}")
        reasons.append(reason)
    blank = "' ' || chr(9) || chr(13)"
    first_field = "__x1 IS NULL AND " if fields else ""
    line_check = (
        f"CASE WHEN __line IS NULL OR trim(__line, {blank}) = '' THEN 'empty line' "
        "WHEN __payload IS NULL THEN 'invalid JSON: the line does not parse as JSON' "
        f"WHEN {first_field}NOT starts_with(__payload, '{{') "
        "AND json_type(__payload) <> 'OBJECT' THEN 'line is JSON but not an object (' || "
        + _python_type("json_type(__payload)")
        + " || ')' END"
    )
    error = f"coalesce({', '.join([line_check, *reasons])})"
    paths = "[" + ", ".join(sql_text(_path(c.source)) for c in fields) + "]"
    extract = f"json_extract(__payload, {paths})" if fields else "CAST(NULL AS VARCHAR[])"
    names = "".join(f", {quote(c.name)}" for c in fields)
    scratch = "".join(f", __x{i}, __v{i}" for i in range(1, len(fields) + 1))
    kept = "".join(
        f", CASE WHEN __error IS NULL THEN {quote(c.name)} END AS {quote(c.name)}" for c in fields
    )
    checked = (
        f"SELECT *, {error} AS __error FROM "
        f"(SELECT *{''.join(', ' + v for v in values)} FROM "
        f"(SELECT * EXCLUDE (__x){''.join(', ' + p for p in pieces)} FROM "
        f"(SELECT *, {extract} AS __x FROM "
        f"(SELECT *, try_cast(__line AS JSON) AS __payload FROM {lines}))))"
    )
    return (
        f"SELECT * EXCLUDE (__payload, __line{names}{scratch}), "
        "coalesce(strlen(__line), 0) + 1 AS __bytes, "
        "CASE WHEN __error IS NULL THEN __payload END AS __payload, "
        f"CASE WHEN __error IS NOT NULL THEN __line END AS __line{kept} FROM ({checked})"
    )


def _python_type(expression: str) -> str:
    cases = " ".join(f"WHEN {sql_text(k)} THEN {sql_text(v)}" for k, v in _PYTHON_TYPES.items())
    return f"CASE {expression} {cases} ELSE lower({expression}) END"


def _read_csv(urls: Sequence[str], rejects: str | None) -> str:
    """One scan of the objects as lines: one VARCHAR column, no quoting, any compression."""
    files = "[" + ", ".join(sql_text(u) for u in urls) + "]"
    reject_options = (
        f", ignore_errors=true, store_rejects=true, rejects_table={sql_text(rejects + '_errors')}"
        f", rejects_scan={sql_text(rejects + '_scans')}"
        if rejects
        else ""
    )
    return (
        f"(SELECT filename AS __url, __line FROM read_csv({files}, "
        "columns={'__line': 'VARCHAR'}, delim='\\x01', quote='', escape='', header=false, "
        "auto_detect=false, new_line='\\n', filename=true, hive_partitioning=false, "
        f"compression='auto'{reject_options}))"
    )


_NO_LINES = (
    "(SELECT CAST(NULL AS VARCHAR) AS __url, CAST(NULL AS VARCHAR) AS __line, "
    "CAST(NULL AS BIGINT) AS __n WHERE false)"
)
_READ_ERRORS = (duckdb.IOException, duckdb.InvalidInputException, duckdb.ConversionException)


def check_objects(
    con: duckdb.DuckDBPyConnection,
    manifest: ObjectManifest,
    rules: LineRules,
    workdir: Path,
) -> CheckedObjects:
    """Read, number and check every line of the manifest's objects (see the module docstring).

    The lines' order is the scan's: a CREATE TABLE AS of an order-preserving scan stores each
    object's lines contiguously and in order, so a line's number is its row's position within
    its object (rowid minus the object's first rowid, plus one).
    """
    tag = uuid.uuid4().hex[:10]
    scanned, fallback, refs, firsts = (
        f"obj_{part}_{tag}" for part in ("scan", "py", "refs", "first")
    )
    rejects = f"obj_rejects_{tag}"
    checked = CheckedObjects(good="", quarantine=[], objects=len(manifest.urls), fallback_objects=0)
    checked._tables += [scanned, fallback, refs, firsts, rejects + "_errors", rejects + "_scans"]
    con.execute("SET preserve_insertion_order = true")
    rows = ", ".join(
        f"({sql_text(u)}, {sql_text(manifest.key_of(u))}, CAST({sql_text(m)} AS TIMESTAMPTZ))"
        for u, m in zip(manifest.urls, manifest.last_modified, strict=True)
    )
    con.execute(
        f"CREATE TEMP TABLE {quote(refs)} AS SELECT * FROM (VALUES {rows}) "
        "AS v(__url, __key, __modified)"
    )
    plain = check_select(_NO_LINES.replace(", CAST(NULL AS BIGINT) AS __n", ""), manifest, rules)
    con.execute(f"CREATE TEMP TABLE {quote(scanned)} AS {plain}")
    redo: list[str] = []
    try:
        con.execute(
            f"INSERT INTO temp.{quote(scanned)} "
            + check_select(_read_csv(manifest.urls, rejects), manifest, rules)
        )
        redo = [
            str(r[0])
            for r in con.execute(
                f"SELECT DISTINCT s.file_path FROM temp.{quote(rejects + '_errors')} e "
                f"JOIN temp.{quote(rejects + '_scans')} s USING (scan_id, file_id)"
            ).fetchall()
        ]
    except _READ_ERRORS as error:
        log.warning(
            "DuckDB could not read the %d object(s) in one scan (%s); reading them one by one",
            len(manifest.urls),
            str(error).splitlines()[0][:300],
        )
        con.execute(f"DELETE FROM temp.{quote(scanned)}")
        for url in manifest.urls:
            try:
                con.execute(
                    f"INSERT INTO temp.{quote(scanned)} "
                    + check_select(_read_csv([url], None), manifest, rules)
                )
            except _READ_ERRORS:
                redo.append(url)
    redo += [u for u in _cut_short(con, scanned, manifest) if u not in redo]
    redo = sorted(set(redo))
    checked.fallback_objects = len(redo)
    con.execute(
        f"CREATE TEMP TABLE {quote(fallback)} AS {check_select(_NO_LINES, manifest, rules)}"
    )
    for url in redo:
        checked.quarantine += _read_in_python(con, url, fallback, manifest, rules, workdir)
    con.execute(
        f"CREATE TEMP TABLE {quote(firsts)} AS SELECT __url, min(rowid) AS __first "
        f"FROM temp.{quote(scanned)} GROUP BY __url"
    )
    # (NOT IN over an empty list would be NOT IN (NULL): no row at all)
    skipped = f"WHERE s.__url NOT IN ({', '.join(sql_text(u) for u in redo)})" if redo else ""
    fields = "".join(f", {quote(c.name)}" for c in _line_fields(manifest, rules))
    lines = (
        f"(SELECT s.__url, s.rowid - f.__first + 1 AS __n, s.__error, s.__payload, s.__line"
        f"{fields.replace(', ', ', s.')} FROM temp.{quote(scanned)} s "
        f"JOIN temp.{quote(firsts)} f USING (__url) {skipped} "
        f"UNION ALL SELECT __url, __n, __error, __payload, __line{fields} "
        f"FROM temp.{quote(fallback)})"
    )
    own = {
        manifest.key_column: "r.__key",
        manifest.line_number_column: "l.__n",
        manifest.last_modified_column: "r.__modified",
        manifest.line_column: "l.__payload",
    }
    good_columns = [
        f"{own.get(c.name, 'l.' + quote(c.name))} AS {quote(c.name)}"
        for c in rules.columns
        if not c.name.startswith("_sdc_")
    ]
    join = f"FROM {lines} l JOIN temp.{quote(refs)} r USING (__url)"
    checked.good = f"(SELECT {', '.join(good_columns)} {join} WHERE l.__error IS NULL)"
    for key, number, reason, raw, modified in con.execute(
        f"SELECT r.__key, l.__n, l.__error, l.__line, r.__modified {join} "
        "WHERE l.__error IS NOT NULL ORDER BY 1, 2"
    ).fetchall():
        checked.quarantine.append(_quarantine_row(manifest, key, number, reason, raw, modified))
    return checked


def _cut_short(con: duckdb.DuckDBPyConnection, scanned: str, manifest: ObjectManifest) -> list[str]:
    """Gzip objects whose scanned bytes differ from their trailer's count: read short."""
    expected = {
        u: n for u, n in zip(manifest.urls, manifest.gzip_sizes, strict=True) if n is not None
    }
    if not expected:
        return []
    got = dict(
        con.execute(
            f"SELECT __url, sum(__bytes) FROM temp.{quote(scanned)} GROUP BY __url"
        ).fetchall()
    )
    short = []
    for url, size in expected.items():
        total = int(got.get(url) or 0)
        # The last line may lack its newline: the scan then counts one byte too many.
        if size not in (total % 2**32, (total - 1) % 2**32):
            short.append(url)
    if short:
        log.warning(
            "%d gzip object(s) read short by DuckDB (their trailer counts other bytes); "
            "reading them in Python: %s",
            len(short),
            short[:5],
        )
    return short


def _quarantine_row(
    manifest: ObjectManifest, key: str, number: int, error: str, raw: str | None, modified: Any
) -> dict[str, Any]:
    text = raw
    if text is not None and len(text) > MAX_RAW_LINE_CHARS:
        text = text[:MAX_RAW_LINE_CHARS] + f"...[{len(text) - MAX_RAW_LINE_CHARS} more chars]"
    stamp = modified.isoformat() if hasattr(modified, "isoformat") else modified
    return {
        manifest.key_column: key,
        manifest.line_number_column: int(number),
        manifest.error_column: error,
        manifest.raw_line_column: text,
        manifest.last_modified_column: stamp,
    }


def _read_in_python(
    con: duckdb.DuckDBPyConnection,
    url: str,
    table: str,
    manifest: ObjectManifest,
    rules: LineRules,
    workdir: Path,
) -> list[dict[str, Any]]:
    """One object DuckDB's scan refused: its bytes through Python, its UTF-8 lines through the
    same SQL checks (into `table`); returns the quarantine rows Python itself found."""
    row = con.execute(f"SELECT content FROM read_blob({sql_text(url)})").fetchone()
    data: bytes = row[0] if row else b""
    modified = dict(zip(manifest.urls, manifest.last_modified, strict=True))[url]
    key = manifest.key_of(url)
    found: list[dict[str, Any]] = []
    local = workdir / f"object-{uuid.uuid4().hex[:10]}.jsonl"
    number = 0
    with local.open("wb") as out:
        try:
            for number, raw in enumerate(_lines(data), start=1):
                try:
                    text = raw.decode("utf-8")
                except UnicodeDecodeError as bad_bytes:
                    reason = (
                        f"invalid JSON: not valid UTF-8 ({bad_bytes.reason} at byte "
                        f"{bad_bytes.start})"
                    )
                    escaped = raw.decode("utf-8", errors="backslashreplace")
                    found.append(_quarantine_row(manifest, key, number, reason, escaped, modified))
                    continue
                out.write(orjson.dumps({"__url": url, "__line": text, "__n": number}) + b"\n")
        except (EOFError, OSError, zlib.error) as error:
            reason = f"object unreadable: {type(error).__name__}: {error}"
            found.append(_quarantine_row(manifest, key, number + 1, reason, None, modified))
    try:
        source = (
            f"read_json({sql_text(str(local))}, format='newline_delimited', "
            "columns={'__url': 'VARCHAR', '__line': 'VARCHAR', '__n': 'BIGINT'}, "
            "maximum_object_size=134217728)"
        )
        con.execute(f"INSERT INTO temp.{quote(table)} {check_select(source, manifest, rules)}")
    finally:
        local.unlink(missing_ok=True)
    log.warning(
        "s3 object %s was read in Python (DuckDB refused it whole): %d line(s), %d quarantined "
        "by Python",
        key,
        number,
        len(found),
    )
    return found


def _lines(data: bytes) -> Any:
    """The lines of a gzip (by its magic bytes) or plain object, without line breaks."""
    stream: io.BufferedIOBase | gzip.GzipFile = (
        gzip.GzipFile(fileobj=io.BytesIO(data), mode="rb")
        if data[:2] == GZIP_MAGIC
        else io.BytesIO(data)
    )
    for line in stream:
        yield line.rstrip(b"\r\n")
