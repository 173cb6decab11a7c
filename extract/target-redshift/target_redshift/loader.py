"""Load one batch into one table: evolve the table, bulk load to staging, merge, count."""

from __future__ import annotations

import datetime as dt
import logging
import uuid
from collections.abc import Callable, Sequence
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
from target_redshift.dialect import REJECT_COLUMNS
from target_redshift.normalize import JsonLines, NormalizedBatch, normalize, normalize_file
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
) -> BatchResult:
    """Land one batch; the merge and the rejects commit together or not at all."""
    return _load(wh, local, plan, load_id, workdir, normalize, records)


def load_file(
    wh: Warehouse,
    local: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    source: JsonLines,
    load_id: str,
    workdir: Path,
) -> BatchResult:
    """Land one JSON-lines file of records (a Singer BATCH file) the way load_batch lands a list."""
    return _load(wh, local, plan, load_id, workdir, normalize_file, source)


def _load(
    wh: Warehouse,
    local: duckdb.DuckDBPyConnection,
    plan: TablePlan,
    load_id: str,
    workdir: Path,
    normalizer: Callable[..., NormalizedBatch],
    records: Sequence[dict[str, Any]] | JsonLines,
) -> BatchResult:
    """The steps every batch shares: `normalizer` (normalize for a list of records,
    normalize_file for a file) casts, checks and de-duplicates `records`."""
    columns = evolve_table(wh, plan)
    loaded_at = dt.datetime.now(tz=dt.UTC)
    stem = f"{plan.table}-{uuid.uuid4().hex[:12]}"
    con, keep_as = _checker(wh, local, stem)
    batch = normalizer(
        con,
        records,
        columns,
        plan.version_key,
        plan.required,
        load_id,
        loaded_at,
        workdir,
        stem,
        keep_as,
    )
    return _land(wh, plan, batch, load_id, loaded_at, stem)


def _checker(
    wh: Warehouse, local: duckdb.DuckDBPyConnection, stem: str
) -> tuple[duckdb.DuckDBPyConnection, str | None]:
    """Where a batch is checked: inside a DuckDB warehouse (kept as a temp table), else `local`."""
    engine = wh.local_engine()
    if engine is None:
        return local, None
    return engine, f"tmp_{stem.replace('-', '_')}"


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
            inserted = wh.execute(
                dialect.merge(plan.schema, plan.table, tmp, batch.columns, plan.version_key)
            )
            wh.execute(dialect.drop_temp_table(tmp))
            if batch.rejects:
                _write_rejects(wh, plan, batch.rejects, load_id, loaded_at)
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


def _write_rejects(
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
