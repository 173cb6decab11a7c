"""`_record_hash`: a content hash of a row's typed values that every warehouse computes alike.

A version of a row is (key, replication key, `_record_hash`) for streams configured so (the shop
lane): a row changed without an `updated_at` bump lands as a new version. The hash is the md5 of
one canonical text per row, built from the TYPED values, never from the text a tap happened to
send: `19.99` and `"19.990"`, `2026-11-01T08:00:00Z` and `2026-11-01 08:00:00+00` are one value
and one hash, whichever path (RECORD messages, JSON-lines or Parquet BATCH files, LOG_BASED)
brought it.

The canonical text (scheme ``typed-md5-v2``), for the columns that do not start with `_sdc_`,
in name order, joined with ``|``:

    BIGINT       its decimal digits                      12345
    DECIMAL      DECIMAL(38,9) text, 9 decimals           19.990000000
    TIMESTAMPTZ  microseconds since 1970-01-01 UTC        1793520000000000
    DATE         ISO date                                 2026-11-01
    BOOLEAN      t or f
    VARCHAR/JSON character length, colon, the text        4:paid
    NULL         \\N

then ``|deleted`` when `_sdc_deleted_at` is set (a deletion is a version of its own). Every
function used (md5, length, epoch seconds, a fixed date format, a cast of DECIMAL(38,9) to text)
is defined the same in DuckDB, PostgreSQL and Redshift, so the hash does not move with a DuckDB
upgrade, and the warehouse itself can recompute it (the one-time rehash, rehash.py). Timestamps
go in as integers because formatting them as text costs DuckDB three times as much; Redshift's
EXTRACT(EPOCH) of a TIMESTAMPTZ is a double with the microseconds, exact to the microsecond for
any date before the year 2255. A JSON column is hashed by
its text, which DuckDB and Redshift's JSON_SERIALIZE may space differently; no hashed stream of
ours carries one.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from target_redshift.columns import Column, LogicalType
from target_redshift.dialect import quote

SCHEME = "typed-md5-v2"
DELETED_AT = "_sdc_deleted_at"
DELETED_MARK = "|deleted"
NULL_TEXT = "\\N"

Piece = Callable[[str, LogicalType], str]


def content_columns(columns: Sequence[Column]) -> list[Column]:
    """The columns a row's hash covers: its own fields, not the Singer metadata."""
    return sorted((c for c in columns if not c.name.startswith("_sdc_")), key=lambda c: c.name)


def duckdb_piece(value: str, kind: LogicalType) -> str:
    """DuckDB: the canonical text of one typed value (NULL stays NULL)."""
    if kind == LogicalType.BIGINT:
        return f"CAST({value} AS VARCHAR)"
    if kind == LogicalType.DECIMAL:
        # DECIMAL(18,9) prints ~5x faster than DECIMAL(38,9) and gives the same text.
        return (
            f"CASE WHEN {value} > -1000000000 AND {value} < 1000000000 "
            f"THEN CAST(CAST({value} AS DECIMAL(18,9)) AS VARCHAR) "
            f"ELSE CAST(CAST({value} AS DECIMAL(38,9)) AS VARCHAR) END"
        )
    if kind == LogicalType.TIMESTAMPTZ:
        return f"CAST(epoch_us({value}) AS VARCHAR)"  # an instant: no time zone on the way
    if kind == LogicalType.DATE:
        return f"strftime({value}, '%Y-%m-%d')"
    if kind == LogicalType.BOOLEAN:
        return f"CASE WHEN {value} THEN 't' WHEN NOT {value} THEN 'f' END"
    text = f"CAST({value} AS VARCHAR)"
    return f"CAST(length({text}) AS VARCHAR) || ':' || {text}"


def redshift_piece(value: str, kind: LogicalType) -> str:
    """Redshift (and PostgreSQL, which runs the same text in tests): the same canonical text."""
    if kind == LogicalType.BIGINT:
        return f"CAST({value} AS VARCHAR)"
    if kind == LogicalType.DECIMAL:
        return f"CAST(CAST({value} AS DECIMAL(38,9)) AS VARCHAR)"
    if kind == LogicalType.TIMESTAMPTZ:
        return f"CAST(CAST(ROUND(EXTRACT(EPOCH FROM {value}) * 1000000) AS BIGINT) AS VARCHAR)"
    if kind == LogicalType.DATE:
        return f"TO_CHAR({value}, 'YYYY-MM-DD')"
    if kind == LogicalType.BOOLEAN:
        return f"CASE WHEN {value} THEN 't' WHEN NOT {value} THEN 'f' END"
    text = f"JSON_SERIALIZE({value})" if kind == LogicalType.JSON else f"CAST({value} AS VARCHAR)"
    return f"CAST(LENGTH({text}) AS VARCHAR) || ':' || {text}"


def hash_expression(
    columns: Sequence[Column],
    piece: Piece,
    value_of: Callable[[Column], str] | None = None,
    deleted: str | None = None,
) -> str:
    """md5 of the canonical text of `columns` (content columns are picked here).

    `value_of` gives the SQL of each column's typed value (default: the quoted column name);
    `deleted` the SQL of `_sdc_deleted_at` when the stream carries it. DuckDB joins the pieces
    with one concat_ws (a third cheaper than a chain of ||, which Redshift needs); no piece is
    NULL, so both give the same text.
    """
    read = value_of or (lambda c: quote(c.name))
    parts = [f"COALESCE({piece(read(c), c.type)}, '{NULL_TEXT}')" for c in content_columns(columns)]
    if not parts:
        text = "''"
    elif piece is duckdb_piece:
        text = f"concat_ws('|', {', '.join(parts)})"
    else:
        text = " || '|' || ".join(parts)
    if deleted is not None:
        text = f"{text} || CASE WHEN {deleted} IS NULL THEN '' ELSE '{DELETED_MARK}' END"
    return f"md5({text})"
