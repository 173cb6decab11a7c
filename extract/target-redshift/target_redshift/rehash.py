"""The one-time rehash of a version log whose `_record_hash` was written by an older scheme.

Until scheme ``typed-md5-v2`` (record_hash.py) the loader hashed the TEXT a tap sent
(``md5(json_object(...))``). A version log written that way cannot be compared with the new
hashes: every re-sent row would land once more as a "new" version. So before the first batch
of a table under the new scheme, the loader recomputes `_record_hash` of every stored row in the
warehouse itself (one UPDATE, in the batch's transaction on DuckDB, on Redshift in its own
transaction) and records the scheme in ``raw_meta.record_hash_scheme``. A table created under
the new scheme is recorded at once. Rows whose new hashes coincide (the same values once sent
as different text) stay, as identical versions; staging picks one of them.
"""

from __future__ import annotations

import datetime as dt
import logging
from collections.abc import Sequence

from target_redshift.columns import RECORD_HASH, Column, LogicalType
from target_redshift.dialect import LOAD_LOG_SCHEMA, literal, qualified, quote
from target_redshift.record_hash import (
    DELETED_AT,
    SCHEME,
    duckdb_piece,
    hash_expression,
    redshift_piece,
)
from target_redshift.warehouse import Warehouse

SCHEME_TABLE = "record_hash_scheme"
SCHEME_COLUMNS: tuple[tuple[str, LogicalType], ...] = (
    ("schema_name", LogicalType.VARCHAR),
    ("table_name", LogicalType.VARCHAR),
    ("scheme", LogicalType.VARCHAR),
    ("rows_rehashed", LogicalType.BIGINT),
    ("changed_at", LogicalType.TIMESTAMPTZ),
)
PIECES = {"duckdb": duckdb_piece, "redshift": redshift_piece}

log = logging.getLogger(__name__)


class HashSchemes:
    """Which tables of this run already hash under SCHEME (asked once per table per run)."""

    def __init__(self) -> None:
        self._current: set[tuple[str, str]] = set()

    def ensure(self, wh: Warehouse, schema: str, table: str, columns: Sequence[Column]) -> int:
        """Rehash the table if it was hashed under an older scheme; the rows rehashed."""
        if (schema, table) in self._current:
            return 0
        dialect = wh.dialect
        wh.execute(dialect.create_schema(LOAD_LOG_SCHEMA))
        wh.execute(dialect.create_table(LOAD_LOG_SCHEMA, SCHEME_TABLE, SCHEME_COLUMNS))
        marker = qualified(LOAD_LOG_SCHEMA, SCHEME_TABLE)
        found = wh.query(
            f"SELECT count(*) FROM {marker} WHERE schema_name = {literal(schema)} "
            f"AND table_name = {literal(table)} AND scheme = {literal(SCHEME)}"
        )
        if found and int(found[0][0]) > 0:
            self._current.add((schema, table))
            return 0
        rows = rehash_table(wh, schema, table, columns)
        self._current.add((schema, table))
        return rows


def rehash_table(wh: Warehouse, schema: str, table: str, columns: Sequence[Column]) -> int:
    """Recompute `_record_hash` of every stored row and record the scheme; one transaction."""
    dialect = wh.dialect
    names = {c.name for c in columns}
    deleted = quote(DELETED_AT) if DELETED_AT in names else None
    expression = hash_expression(columns, PIECES[dialect.name], deleted=deleted)
    target = qualified(schema, table)
    wh.begin()
    try:
        counted = wh.query(f"SELECT count(*) FROM {target}")
        rows = int(counted[0][0]) if counted else 0
        if rows:
            log.warning(
                "Rehashing %d stored row(s) of %s.%s to %s (once per table)",
                rows,
                schema,
                table,
                SCHEME,
            )
            wh.execute(f"UPDATE {target} SET {quote(RECORD_HASH)} = {expression}")
        wh.insert_rows(
            LOAD_LOG_SCHEMA,
            SCHEME_TABLE,
            [name for name, _ in SCHEME_COLUMNS],
            [(schema, table, SCHEME, rows, dt.datetime.now(tz=dt.UTC))],
        )
    except BaseException:
        wh.rollback()
        raise
    wh.commit()
    return rows
