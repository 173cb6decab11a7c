"""Load one batch into one table: evolve the table, bulk load to staging, merge, count."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb

from target_redshift.columns import (
    LOADER_COLUMNS,
    RECORD_HASH,
    Column,
    LogicalType,
    widen,
)
from target_redshift.dialect import REJECT_COLUMNS, MergeWindow
from target_redshift.normalize import (
    BatchSpec,
    CheckedLines,
    JsonLines,
    NormalizedBatch,
    ParquetFile,
    normalize,
)
from target_redshift.rehash import HashSchemes
from target_redshift.warehouse import Warehouse

log = logging.getLogger(__name__)


@dataclass
class BatchResult:
    """Counts of one batch."""

    received: int = 0
    inserted: int = 0
    duplicate: int = 0
    rejected: int = 0


@dataclass(frozen=True)
class TablePlan:
    """Where a stream lands and how its versions are identified."""

    schema: str
    table: str
    columns: tuple[Column, ...]
    version_key: tuple[str, ...]
    required: tuple[str, ...]


def evolve_table(wh: Warehouse, plan: TablePlan) -> list[Column]:
    """Create the table or add/widen columns; return the columns with the table's types.

    Types are widened, never narrowed: a BIGINT column receiving numbers becomes DECIMAL, a
    DECIMAL column receiving integers stays DECIMAL.
    """
    dialect = wh.dialect
    wanted: list[tuple[str, LogicalType]] = [(c.name, c.type) for c in plan.columns]
    if RECORD_HASH in plan.version_key:
        wanted.append((RECORD_HASH, LogicalType.VARCHAR))
    wanted += list(LOADER_COLUMNS.items())
    wh.execute(dialect.create_schema(plan.schema))
    existing = {
        str(name): dialect.logical_from_catalog(str(data_type))
        for name, data_type in wh.query(dialect.columns_query(plan.schema, plan.table))
    }
    if not existing:
        wh.execute(dialect.create_table(plan.schema, plan.table, wanted))
        return list(plan.columns)
    effective: dict[str, LogicalType] = {}
    for name, kind in wanted:
        if name not in existing:
            log.info("Adding column %s.%s.%s %s", plan.schema, plan.table, name, kind.value)
            wh.execute(dialect.add_column(plan.schema, plan.table, name, kind))
            effective[name] = kind
            continue
        wider = widen(existing[name], kind)
        if wider != existing[name]:
            log.info(
                "Widening column %s.%s.%s from %s to %s",
                plan.schema,
                plan.table,
                name,
                existing[name].value,
                wider.value,
            )
            for statement in dialect.widen_column(plan.schema, plan.table, name, wider):
                wh.execute(statement)
        effective[name] = wider
    return [Column(c.name, c.source, effective[c.name]) for c in plan.columns]


def load_batch(
    wh: Warehouse,
    local: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    records: Sequence[dict[str, Any]],
    load_id: str,
    workdir: Path,
    schemes: HashSchemes | None = None,
) -> BatchResult:
    """Land one batch; the merge and the rejects commit together or not at all."""
    return _load(wh, local, plan, records, load_id, workdir, schemes)


def load_file(
    wh: Warehouse,
    local: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    source: JsonLines | ParquetFile | CheckedLines,
    load_id: str,
    workdir: Path,
    schemes: HashSchemes | None = None,
) -> BatchResult:
    """Land one file of records (a Singer BATCH file) the way load_batch lands a list."""
    return _load(wh, local, plan, source, load_id, workdir, schemes)


def _load(
    wh: Warehouse,
    local: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    records: Sequence[dict[str, Any]] | JsonLines | ParquetFile | CheckedLines,
    load_id: str,
    workdir: Path,
    schemes: HashSchemes | None,
) -> BatchResult:
    """The steps every batch shares, whatever its source (see normalize)."""
    columns = evolve_table(wh, plan)
    if RECORD_HASH in plan.version_key:
        (schemes or HashSchemes()).ensure(wh, plan.schema, plan.table, columns)
    stem = f"{plan.table}-{uuid.uuid4().hex[:12]}"
    con = checking_connection(wh, local)
    keep_as = f"tmp_{stem.replace('-', '_')}" if con is not local else None
    spec = BatchSpec(
        columns=columns,
        version_key=plan.version_key,
        required=plan.required,
        load_id=load_id,
        loaded_at=dt.datetime.now(tz=dt.UTC),
        workdir=workdir,
        stem=stem,
        keep_as=keep_as,
    )
    batch = normalize(con, records, spec)
    return _land(wh, plan, batch, load_id, spec.loaded_at, stem)


def checking_connection(
    wh: Warehouse, local: duckdb.DuckDBPyConnection
) -> duckdb.DuckDBPyConnection:
    """Where a batch is checked: inside a DuckDB warehouse (its rows then stay there as a temp
    table), else in the loader's own in-memory DuckDB (`local`), whence Parquet is staged."""
    engine = wh.local_engine()
    return local if engine is None else engine


def _land(
    wh: Warehouse,
    plan: TablePlan,
    batch: NormalizedBatch,
    load_id: str,
    loaded_at: dt.datetime,
    stem: str,
) -> BatchResult:
    """Bulk load the staged Parquet file (unless the rows are already in a temp table of the
    warehouse), merge it, write the rejects: one transaction."""
    dialect = wh.dialect
    tmp = batch.staged_table or f"tmp_{stem.replace('-', '_')}"
    location = (
        wh.stage(batch.parquet_path, f"{load_id}/{stem}.parquet")
        if batch.parquet_path is not None
        else None
    )
    inserted = 0
    try:
        wh.begin()
        try:
            if location is not None:
                wh.execute(dialect.create_temp_table(tmp, batch.columns))
                wh.execute(dialect.bulk_load(tmp, location))
            window = merge_window(wh, tmp, batch.columns, plan.version_key)
            inserted = wh.execute(
                dialect.merge(plan.schema, plan.table, tmp, batch.columns, plan.version_key, window)
            )
            wh.execute(dialect.drop_temp_table(tmp))
            if batch.rejects:
                write_rejects(wh, plan, batch.rejects, load_id, loaded_at)
        except BaseException:
            wh.rollback()
            raise
        wh.commit()
    finally:
        if location is not None:
            wh.unstage(location)
        elif batch.staged_table is not None:
            wh.execute(dialect.drop_temp_table(batch.staged_table))
    return BatchResult(
        received=batch.rows_received,
        inserted=inserted,
        duplicate=batch.rows_received - len(batch.rejects) - inserted,
        rejected=len(batch.rejects),
    )


def merge_window(
    wh: Warehouse,
    tmp: str,
    columns: Sequence[tuple[str, LogicalType]],
    version_key: Sequence[str],
) -> MergeWindow | None:
    """The range of the batch's first time column of the version key, when it has no NULL.

    A stored row can be the same version as a staged one only if its value of that column lies
    in the range, so the merge reads only the stored rows there: the zone maps (DuckDB row
    groups, Redshift blocks) of older rows are skipped, and an hourly merge does not scan the
    whole version log. None when the key has no such column or the batch has a NULL in it.
    """
    kinds = dict(columns)
    column = next(
        (k for k in version_key if kinds.get(k) in (LogicalType.TIMESTAMPTZ, LogicalType.DATE)),
        None,
    )
    if column is None:
        return None
    rows = wh.query(wh.dialect.window_query(tmp, column))
    if not rows:
        return None
    low, high, nulls = rows[0]
    if low is None or high is None or int(nulls) > 0:
        return None
    return MergeWindow(column, kinds[column], low, high)


def write_rejects(
    wh: Warehouse,
    plan: TablePlan,
    rejects: list[tuple[str, str]],
    load_id: str,
    loaded_at: dt.datetime,
) -> None:
    table = f"{plan.table}__rejects"
    log.warning(
        "%d record(s) of %s did not fit their schema; kept in %s.%s. First: %s",
        len(rejects),
        plan.table,
        plan.schema,
        table,
        rejects[0][0],
    )
    wh.execute(wh.dialect.create_table(plan.schema, table, REJECT_COLUMNS))
    wh.insert_rows(
        plan.schema,
        table,
        [name for name, _ in REJECT_COLUMNS],
        [(load_id, loaded_at, error, record) for error, record in rejects],
    )
