"""One loader run's landing: the warehouse connection, the batches, their counts, the load log.

The target (target.py) reads Singer messages and the sinks (sink.py) collect a stream's
records; both hand their batches to the run's Landing, which neither imports the other. A sink
reaches it through the `LandingOwner` protocol its target satisfies.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import logging
import tempfile
import typing as t
import uuid
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import duckdb
import orjson

from target_redshift.batchfiles import BatchSource
from target_redshift.loader import (
    BatchResult,
    TablePlan,
    checking_connection,
    evolve_table,
    load_batch,
    load_file,
    write_rejects,
)
from target_redshift.loadlog import StreamTally, write_load_log
from target_redshift.normalize import CheckedLines
from target_redshift.objects import LineRules, ObjectManifest, check_objects
from target_redshift.rehash import HashSchemes
from target_redshift.warehouse import DuckDBWarehouse, Warehouse, redshift_from_config


class LandingOwner(t.Protocol):
    """What a sink asks of its target."""

    @property
    def landing(self) -> Landing: ...

    @property
    def batch_time_extracted(self) -> str | None: ...

    def version_key_override(self, stream: str) -> Sequence[str] | None: ...

    def replication_key(self, stream: str) -> str | None: ...

    @property
    def batch_objects(self) -> Mapping[str, t.Any] | None: ...

    def stream_plan(self, stream: str) -> TablePlan | None: ...


@dataclass(frozen=True)
class Destination:
    """One stream's table and the run's tally for it."""

    plan: TablePlan
    tally: StreamTally


class Landing:
    """Lands the batches of one loader run and writes its load log."""

    def __init__(self, config: Mapping[str, t.Any], logger: logging.Logger) -> None:
        self.config = config
        self.logger = logger
        self.load_id = uuid.uuid4().hex
        self.tallies: dict[str, StreamTally] = {}
        self.schemes = HashSchemes()
        self._redshift: Warehouse | None = None
        self._held: Warehouse | None = None
        self._local = duckdb.connect()
        self._local.execute("SET TimeZone = 'UTC'")
        base = config.get("staging_dir") or str(Path(tempfile.gettempdir()) / "target-redshift")
        self.workdir = Path(base) / self.load_id
        self.workdir.mkdir(parents=True, exist_ok=True)

    @property
    def target_schema(self) -> str:
        return str(self.config.get("default_target_schema") or "raw").lower()

    @contextlib.contextmanager
    def warehouse(self) -> Iterator[Warehouse]:
        """A DuckDB file opened for the duration of a step, or the one Redshift connection."""
        if self.config.get("backend", "duckdb") == "redshift":
            if self._redshift is None:
                self._redshift = redshift_from_config(dict(self.config))
            yield self._redshift
            return
        if self._held is not None:
            yield self._held
            return
        path = self.config.get("path")
        if not path:
            msg = "backend=duckdb needs the setting 'path' (the warehouse file). Set it and rerun."
            raise ValueError(msg)
        wh = DuckDBWarehouse(str(path), float(self.config.get("lock_timeout_seconds", 60)))
        try:
            yield wh
        finally:
            wh.close()

    @contextlib.contextmanager
    def held(self) -> Iterator[None]:
        """Keep one DuckDB connection for the steps inside (the end of a run: the last drains,
        every stream's table, the load log), instead of opening the file for each. Opening the
        warehouse file costs ~30 ms of CPU (its catalog is read, its WAL checked); a run with
        nothing new used to open it once per stream more than it needed."""
        if self._held is not None or self.config.get("backend", "duckdb") == "redshift":
            yield
            return
        with self.warehouse() as wh:
            self._held = wh
            try:
                yield
            finally:
                self._held = None

    def ensure_table(self, plan: TablePlan) -> None:
        """Create (or widen) a stream's table even when the stream sent no record."""
        with self.warehouse() as wh:
            evolve_table(wh, plan)

    def tally(self, stream: str, plan: TablePlan, high_water_column: str | None) -> StreamTally:
        tally = self.tallies.get(stream)
        if tally is None:
            tally = StreamTally(
                schema=plan.schema,
                table=plan.table,
                started_at=dt.datetime.now(tz=dt.UTC),
            )
            self.tallies[stream] = tally
        tally.high_water_column = high_water_column
        return tally

    def _count(self, tally: StreamTally, plan: TablePlan, result: BatchResult) -> None:
        tally.received += result.received
        tally.inserted += result.inserted
        tally.duplicate += result.duplicate
        tally.rejected += result.rejected
        self.logger.info(
            "Loaded %s.%s: %d received, %d inserted, %d duplicate, %d rejected",
            plan.schema,
            plan.table,
            result.received,
            result.inserted,
            result.duplicate,
            result.rejected,
        )

    def load(self, tally: StreamTally, plan: TablePlan, records: list[dict]) -> None:
        """Land one batch of a stream and add its counts to the run's tally."""
        with self.warehouse() as wh:
            result = load_batch(
                wh, self._local, plan, records, self.load_id, self.workdir, self.schemes
            )
        self._count(tally, plan, result)

    def load_file(
        self, tally: StreamTally, plan: TablePlan, url: str, source: BatchSource
    ) -> BatchResult:
        """Land one BATCH file of a stream in one bulk step; remove it once committed."""
        local = source.fetch(url, self.workdir)
        try:
            with self.warehouse() as wh:
                result = load_file(
                    wh,
                    self._local,
                    plan,
                    local.as_source(),
                    self.load_id,
                    self.workdir,
                    self.schemes,
                )
        finally:
            local.discard()
        self._count(tally, plan, result)
        if self.config.get("delete_batch_files", True):
            source.delete(url)
        return result

    def load_objects(
        self,
        events: Destination,
        manifest: ObjectManifest,
        rules: LineRules,
        constants: Mapping[str, str | None],
        quarantine: Destination | None,
    ) -> BatchResult:
        """Read the source objects a BATCH message names, land their good lines in `events` and
        their bad ones in `quarantine` (objects.py). The objects are never removed."""
        from target_redshift.s3read import enable_s3

        plan = events.plan
        with self.warehouse() as wh:
            evolve_table(wh, plan)
            con = checking_connection(wh, self._local)
            enable_s3(con)
            checked = check_objects(con, manifest, rules, self.workdir)
            try:
                names = frozenset(c.name for c in plan.columns if not c.name.startswith("_sdc_"))
                source = CheckedLines(checked.good, names, constants)
                result = load_file(
                    wh, self._local, plan, source, self.load_id, self.workdir, self.schemes
                )
            finally:
                checked.drop(con)
            bad = [row | dict(constants) for row in checked.quarantine]
            if bad and quarantine is None:
                reasons = [
                    (str(row[manifest.error_column]), orjson.dumps(row).decode()) for row in bad
                ]
                write_rejects(wh, plan, reasons, self.load_id, dt.datetime.now(tz=dt.UTC))
                result.received += len(bad)
                result.rejected += len(bad)
        self._count(events.tally, plan, result)
        if bad and quarantine is not None:
            self.load(quarantine.tally, quarantine.plan, bad)
        self._log_quarantine(manifest, checked.objects, checked.fallback_objects, bad)
        return result

    def _log_quarantine(
        self, manifest: ObjectManifest, objects: int, fallback: int, bad: list[dict[str, t.Any]]
    ) -> None:
        kinds: dict[str, int] = {}
        for row in bad:
            kind = str(row[manifest.error_column]).split(":", 1)[0]
            kinds[kind] = kinds.get(kind, 0) + 1
        self.logger.info(
            "Read %d object(s) (%d through Python); quarantined %d line(s) %s",
            objects,
            fallback,
            len(bad),
            kinds,
        )

    def log_run(self, status: str) -> None:
        with self.warehouse() as wh:
            write_load_log(
                wh, self.load_id, str(self.config.get("lane") or ""), self.tallies, status
            )

    def close(self) -> None:
        with contextlib.suppress(OSError):
            self.workdir.rmdir()
        if self._redshift is not None:
            self._redshift.close()
            self._redshift = None
