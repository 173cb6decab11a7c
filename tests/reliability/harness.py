"""The reliability world: real sources on a private PostgreSQL cluster, real lanes, checks on data.

One world per test run (its own BRIGHTCART_HOME under /tmp/rel/, free ports, a private
PostgreSQL cluster so that PostgreSQL itself can be stopped, a moto S3 server, the Salesforce
emulator). Every check compares the DuckDB warehouse with the sources and adds what it found to the
tally of the run that the terminal summary prints.
"""

from __future__ import annotations

import csv
import io
import json
import os
import random
import secrets
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import duckdb
import psutil
import psycopg

from brightcart_ops.lanes import LaneResult, run_lane
from brightcart_ops.registry import registry
from brightcart_ops.runtime import PROJECT_ROOT, meltano_bin, step_env
from brightcart_ops.transform import StepResult, run_sqlmesh, sqlmesh_bin
from brightcart_world.generator import Manifest
from brightcart_world.settings import Settings
from brightcart_world.sources import LocalSources

REL_ROOT = Path("/tmp/rel")
SHOP_KEYS = {
    "customers": "customer_id",
    "sellers": "seller_id",
    "products": "product_id",
    "orders": "order_id",
    "order_items": "order_item_id",
    "payments": "payment_id",
    "refunds": "refund_id",
    "heartbeat": "writer",
}
CRM_OBJECTS = ("Account", "Contact", "Lead", "Campaign", "CampaignMember", "Opportunity")
SPEND_PREFIX = "marketing/spend/"
WORLD_START = datetime(2026, 11, 1, tzinfo=UTC)
# The credentials the reliability world issues besides Salesforce's (random per test run).
WORLD_CREDENTIALS = {
    "pg_password": f"pg-{secrets.token_urlsafe(12)}/+&%",
    "aws_access_key_id": f"AKIA{secrets.token_hex(8).upper()}",
    "aws_secret_access_key": f"{secrets.token_urlsafe(27)}/+",
    "warehouse_password": f'wh-{secrets.token_urlsafe(12)}"/+&%',
}


@dataclass(frozen=True)
class Size:
    """How big a reliability run is (see conftest.py for the knobs)."""

    large: bool
    scale: float
    hours: int
    trials: int
    seed: int

    def trial_counts(self) -> dict[str, int]:
        """The kill -9 trials spread evenly over the four lanes and `sqlmesh run`."""
        targets = [*KILL_LANES, "sqlmesh"]
        base, extra = divmod(self.trials, len(targets))
        return {t: base + (1 if i < extra else 0) for i, t in enumerate(targets)}


KILL_LANES = ("shop", "events", "marketing", "crm")


# --------------------------------------------------------------------------------------------
# The tally of the run
# --------------------------------------------------------------------------------------------
@dataclass
class Tally:
    trials: int = 0
    killed_mid_run: int = 0  # trials whose run was still going at its kill point
    rows_lost: int = 0
    rows_duplicated: int = 0
    outages_survived: int = 0
    bad_inputs_handled: int = 0
    lines: list[str] = field(default_factory=list)

    def note(self, line: str) -> None:
        self.lines.append(line)
        print(f"reliability case: {line}", flush=True)

    def summary(self) -> str:
        return (
            f"reliability: trials={self.trials} killed_mid_run={self.killed_mid_run} "
            f"rows_lost={self.rows_lost} "
            f"rows_duplicated={self.rows_duplicated} outages_survived={self.outages_survived} "
            f"bad_inputs_handled={self.bad_inputs_handled}"
        )


TALLY = Tally()


# --------------------------------------------------------------------------------------------
# Comparison results
# --------------------------------------------------------------------------------------------
@dataclass
class Diff:
    """Source versus warehouse for one table: what is missing, extra, or landed twice."""

    table: str
    source_rows: int
    lost: int
    extra: int
    duplicated: int
    sample: list[Any] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return self.lost == 0 and self.extra == 0 and self.duplicated == 0

    def __str__(self) -> str:
        return (
            f"{self.table}: source={self.source_rows} lost={self.lost} extra={self.extra} "
            f"duplicated={self.duplicated} sample={self.sample[:5]}"
        )


def _utc(value: Any) -> Any:
    if isinstance(value, datetime):
        return value.astimezone(UTC) if value.tzinfo else value.replace(tzinfo=UTC)
    return value


def _diff(table: str, source: set[tuple[Any, ...]], landed: set[tuple[Any, ...]], dup: int) -> Diff:
    lost = source - landed
    extra = landed - source
    return Diff(table, len(source), len(lost), len(extra), dup, sorted(lost | extra, key=str))


# --------------------------------------------------------------------------------------------
# The world
# --------------------------------------------------------------------------------------------
@dataclass
class KillOutcome:
    what: str
    delay_s: float
    # True only if the run was still alive at the kill point and died of our SIGKILL; a trial
    # counts only then (a run that had finished, or exited on its own meanwhile, does not)
    killed: bool
    returncode: int | None
    leftovers: int  # processes of the group still alive after the kill (must be 0)


def record_kill(outcome: KillOutcome, trial: int) -> bool:
    """Tally one kill trial: counted only if it killed a running process. Returns that."""
    assert outcome.leftovers == 0, f"{outcome.what}: processes survived kill -9 of their group"
    if outcome.killed:
        TALLY.trials += 1
        TALLY.killed_mid_run += 1
        state = "killed while running"
    else:
        state = f"not counted: the run had ended (exit {outcome.returncode}) before the kill point"
    TALLY.note(f"kill -9 {outcome.what} trial {trial} at {outcome.delay_s:.2f}s: {state}")
    return outcome.killed


# Trials past the planned ones, aimed early in the run, until one kill hits a running process.
EXTRA_TRIALS = 3
# Plans here skip the project's YAML unit tests and its linter: tests/warehouse/test_unit_yaml.py,
# tests/warehouse/test_linter.py and `make lint` run them once.
PLAN_SKIPS = ("--skip-tests", "--skip-linter")


class RelWorld:
    """Sources, lanes and warehouse of one reliability run."""

    def __init__(self, sources: LocalSources, seed: int, scale: float) -> None:
        self.sources = sources
        self.settings: Settings = sources.settings
        self.seed = seed
        self.scale = scale
        self.rng = random.Random(seed)
        self.durations: dict[str, float] = {}
        self.captured = self.settings.home / "captured"
        self.captured.mkdir(parents=True, exist_ok=True)
        self.outputs: dict[int, Path] = {}

    # -- running ------------------------------------------------------------------------------
    def env(self) -> dict[str, str]:
        return {**os.environ, **step_env(self.settings, "dev")}

    def lane(
        self, name: str, attempts: int = 3, backoff: float = 1.0, timeout: float | None = None
    ) -> LaneResult:
        """run_lane in this process, as the lane's schedule runs it (three attempts by default)."""
        started = time.monotonic()
        result = run_lane(
            self.settings,
            registry().lane(name).job,
            "dev",
            attempts=attempts,
            backoff_seconds=backoff,
            timeout_seconds=timeout,
        )
        if result.status == "succeeded" and result.attempts == 1:
            self.durations[name] = time.monotonic() - started  # the latest clean run
        return result

    def lane_cli(self, name: str, *extra: str) -> subprocess.Popen[bytes]:
        """`brightcart lane run <name>` in a process group of its own, output captured to a file."""
        path = self.captured / f"lane-{name}-{time.time_ns()}.out"
        out = path.open("wb")
        argv = [
            sys.executable,
            "-m",
            "brightcart_ops.cli",
            "lane",
            "run",
            name,
            "--attempts",
            "1",
            *extra,
        ]
        proc = subprocess.Popen(
            argv,
            cwd=PROJECT_ROOT,
            env={**self.env(), "COLUMNS": "200"},  # the status table on one line per lane
            stdout=out,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            start_new_session=True,
        )
        out.close()
        self.outputs[proc.pid] = path
        return proc

    def meltano_popen(self, name: str) -> subprocess.Popen[bytes]:
        """`meltano run --force <job>` of a lane in a process group of its own.

        `--force`: after kill -9 Meltano's own record of the killed job stays `running` until its
        heartbeat is five minutes stale, and a plain `meltano run` refuses to start meanwhile.
        """
        path = self.captured / f"meltano-{name}-{time.time_ns()}.out"
        with path.open("wb") as out:
            proc = subprocess.Popen(
                [
                    meltano_bin(),
                    "--environment",
                    "dev",
                    "run",
                    "--force",
                    registry().lane(name).job,
                ],
                cwd=PROJECT_ROOT,
                env=self.env(),
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.outputs[proc.pid] = path
        return proc

    def output_tail(self, proc: subprocess.Popen[bytes], lines: int = 15) -> str:
        text = self.outputs[proc.pid].read_text(errors="replace")
        return "\n".join(text.splitlines()[-lines:])

    def sqlmesh_popen(
        self, *args: str, env: dict[str, str] | None = None
    ) -> subprocess.Popen[bytes]:
        """`sqlmesh --gateway local <args>` in a process group of its own (`env` on top)."""
        path = self.captured / f"sqlmesh-{time.time_ns()}.out"
        with path.open("wb") as out:
            proc = subprocess.Popen(
                [sqlmesh_bin(), "--gateway", "local", *args],
                cwd=PROJECT_ROOT,
                env={**self.env(), **(env or {})},
                stdout=out,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                start_new_session=True,
            )
        self.outputs[proc.pid] = path
        return proc

    def sqlmesh(self, *args: str) -> StepResult:
        started = time.monotonic()
        result = run_sqlmesh(self.settings, list(args))
        if result.status == "succeeded" and args[:1] == ("run",):
            took = time.monotonic() - started
            self.durations["sqlmesh"] = max(took, self.durations.get("sqlmesh", 0.0))
        return result

    def kill_at(self, what: str, proc: subprocess.Popen[bytes], delay: float) -> KillOutcome:
        """SIGKILL the whole process group of `proc` after `delay` seconds (if still running)."""
        try:
            code = proc.wait(timeout=delay)
            return KillOutcome(what, delay, False, code, 0)
        except subprocess.TimeoutExpired:
            pass
        group = [proc.pid]
        try:
            group += [p.pid for p in psutil.Process(proc.pid).children(recursive=True)]
        except psutil.NoSuchProcess:
            pass
        alive = proc.poll() is None
        try:
            os.killpg(proc.pid, signal.SIGKILL)
        except ProcessLookupError:  # the whole group had already gone
            alive = False
        code = proc.wait()
        leftovers = 0
        for _ in range(50):
            leftovers = sum(1 for pid in group if _alive(pid))
            if leftovers == 0:
                break
            time.sleep(0.1)
        # alive at the kill and died of it: a run ending on its own exits with its own code
        killed = alive and code == -signal.SIGKILL
        return KillOutcome(what, delay, killed, code, leftovers)

    def wait_clean(self, what: str, proc: subprocess.Popen[bytes]) -> int:
        """Wait for a run that is not killed; remember how long it took (next kill points)."""
        started = time.monotonic()
        code = proc.wait()
        if code == 0:
            self.durations[what] = time.monotonic() - started
        return code

    def kill_point(self, what: str, early: bool = False) -> float:
        """A seeded random point inside the duration of the latest clean run of `what` (`early`:
        inside its first quarter, for the extra trials that make sure one kill hits a run)."""
        expected = self.durations.get(what, 10.0)
        return round(self.rng.uniform(0.05, 0.25 if early else 0.95) * expected, 2)

    # -- reading ------------------------------------------------------------------------------
    @contextmanager
    def warehouse(self) -> Iterator[duckdb.DuckDBPyConnection]:
        con = duckdb.connect(str(self.settings.warehouse), read_only=True)
        try:
            yield con
        finally:
            con.close()

    def source(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self.settings.pg_dsn, autocommit=True)

    def wh_rows(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with self.warehouse() as wh:
            return wh.execute(sql, params or []).fetchall()

    def wh_table_exists(self, schema: str, table: str) -> bool:
        if not self.settings.warehouse.exists():
            return False
        rows = self.wh_rows(
            "SELECT count(*) FROM information_schema.tables WHERE table_schema = ? "
            "AND table_name = ?",
            [schema, table],
        )
        return bool(rows[0][0])

    def s3(self) -> Any:
        aws = self.settings.aws_env()
        return boto3.client(
            "s3",
            endpoint_url=aws["AWS_ENDPOINT_URL"],
            aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
            region_name=aws["AWS_DEFAULT_REGION"],
        )

    def bucket_objects(self, prefix: str) -> dict[str, bytes]:
        client = self.s3()
        out: dict[str, bytes] = {}
        for page in client.get_paginator("list_objects_v2").paginate(
            Bucket=self.settings.s3_bucket, Prefix=prefix
        ):
            for item in page.get("Contents", []):
                body = client.get_object(Bucket=self.settings.s3_bucket, Key=item["Key"])["Body"]
                out[item["Key"]] = body.read()
        return out

    # -- comparing ----------------------------------------------------------------------------
    def _versions(self, table: str, key: str, version: str) -> tuple[set[tuple[Any, ...]], int]:
        """Latest version per key in a raw table, and count(*) - count(distinct version key)."""
        schema, name = table.split(".")
        if not self.wh_table_exists(schema, name):
            return set(), 0
        with self.warehouse() as wh:
            latest = {
                (r[0], _utc(r[1]))
                for r in wh.execute(
                    f"SELECT {key}, max({version}) FROM {table} GROUP BY {key}"
                ).fetchall()
            }
            row = wh.execute(
                f"SELECT count(*) - count(DISTINCT ({key}, {version})) FROM {table}"
            ).fetchone()
        return latest, int(row[0]) if row else 0

    def diff_shop(self) -> list[Diff]:
        diffs = []
        with self.source() as pg:
            for table, key in SHOP_KEYS.items():
                source = {
                    (r[0], _utc(r[1]))
                    for r in pg.execute(f"SELECT {key}, updated_at FROM shop.{table}").fetchall()
                }
                landed, dup = self._versions(f"raw_shop.{table}", key, "updated_at")
                diffs.append(_diff(f"raw_shop.{table}", source, landed, dup))
        return diffs

    def diff_crm(self) -> list[Diff]:
        diffs = []
        with self.source() as pg:
            for obj in CRM_OBJECTS:
                source = {
                    (r[0], _utc(r[1]))
                    for r in pg.execute(
                        f'SELECT "Id", "SystemModstamp" FROM sfdc."{obj}"'
                    ).fetchall()
                }
                landed, dup = self._versions(f"raw_crm.{obj.lower()}", "id", "systemmodstamp")
                diffs.append(_diff(f"raw_crm.{obj.lower()}", source, landed, dup))
        return diffs

    def expected_event_lines(self) -> tuple[set[tuple[str, int]], set[tuple[str, int]]]:
        """(good lines, bad lines) of every events object the generator wrote."""
        manifest = Manifest.load(self.settings)
        good = {(e.s3_key, e.line_number) for e in manifest.events}
        every = {
            (o.s3_key, n) for o in manifest.events_objects() for n in range(1, o.line_count + 1)
        }
        return good, every - good

    def _line_set(self, table: str) -> tuple[set[tuple[Any, ...]], int]:
        schema, name = table.split(".")
        if not self.wh_table_exists(schema, name):
            return set(), 0
        with self.warehouse() as wh:
            got = {
                (str(r[0]), int(r[1]))
                for r in wh.execute(f"SELECT s3_key, line_number FROM {table}").fetchall()
            }
            row = wh.execute(
                f"SELECT count(*) - count(DISTINCT (s3_key, line_number)) FROM {table}"
            ).fetchone()
        return got, int(row[0]) if row else 0

    def diff_events(self) -> list[Diff]:
        good, bad = self.expected_event_lines()
        landed, dup = self._line_set("raw_events.events")
        quarantined, qdup = self._line_set("raw_events.events_quarantine")
        return [
            _diff("raw_events.events", good, landed, dup),
            _diff("raw_events.events_quarantine", bad, quarantined, qdup),
        ]

    def expected_spend(self) -> set[tuple[Any, ...]]:
        rows: set[tuple[Any, ...]] = set()
        for key, body in self.bucket_objects(SPEND_PREFIX).items():
            for rec in csv.DictReader(io.StringIO(body.decode("utf-8"))):
                rows.add((rec["date"], rec["platform"], rec["campaign"], key))
        return rows

    def diff_marketing(self) -> list[Diff]:
        source = self.expected_spend()
        if not self.wh_table_exists("raw_marketing", "ad_spend"):
            return [_diff("raw_marketing.ad_spend", source, set(), 0)]
        with self.warehouse() as wh:
            landed = {
                (str(r[0]), str(r[1]), str(r[2]), _source_key(str(r[3])))
                for r in wh.execute(
                    "SELECT date, platform, campaign, _sdc_source_file FROM raw_marketing.ad_spend"
                ).fetchall()
            }
            row = wh.execute(
                "SELECT count(*) - count(DISTINCT (date, platform, campaign, _sdc_source_file)) "
                "FROM raw_marketing.ad_spend"
            ).fetchone()
        return [_diff("raw_marketing.ad_spend", source, landed, int(row[0]) if row else 0)]

    def diff_lane(self, lane: str) -> list[Diff]:
        return {
            "shop": self.diff_shop,
            "events": self.diff_events,
            "marketing": self.diff_marketing,
            "crm": self.diff_crm,
        }[lane]()

    def assert_lane_equals_source(self, lane: str, context: str) -> None:
        """Warehouse equals source for the lane; lost/duplicated rows go to the tally first."""
        diffs = self.diff_lane(lane)
        for d in diffs:
            TALLY.rows_lost += d.lost
            TALLY.rows_duplicated += d.duplicated
        bad = [str(d) for d in diffs if not d.ok]
        assert not bad, f"{context}: warehouse differs from source:\n" + "\n".join(bad)

    def rejects(self) -> dict[str, int]:
        """Rows the loader set aside in any `<table>__rejects` table."""
        if not self.settings.warehouse.exists():
            return {}
        out: dict[str, int] = {}
        with self.warehouse() as wh:
            tables = wh.execute(
                "SELECT table_schema, table_name FROM information_schema.tables "
                "WHERE table_name LIKE '%\\_\\_rejects' ESCAPE '\\'"
            ).fetchall()
            for schema, name in tables:
                row = wh.execute(f'SELECT count(*) FROM "{schema}"."{name}"').fetchone()
                out[f"{schema}.{name}"] = int(row[0]) if row else 0
        return out

    # -- ops records --------------------------------------------------------------------------
    def pipeline_runs(self, job: str, since: datetime) -> list[tuple[str, int]]:
        if not self.wh_table_exists("ops", "pipeline_runs"):
            return []
        return [
            (str(r[0]), int(r[1]))
            for r in self.wh_rows(
                "SELECT status, attempt FROM ops.pipeline_runs WHERE job = ? AND started_at >= ? "
                "ORDER BY started_at",
                [job, since],
            )
        ]

    def alerts_sent(self, incident_key: str, since: datetime) -> tuple[int, int]:
        """(raised, resolved) messages for the incident in the local sink since `since`."""
        path = self.settings.home / "alerts.jsonl"
        raised = resolved = 0
        if not path.exists():
            return 0, 0
        for line in path.read_text(encoding="utf-8").splitlines():
            body = json.loads(line)
            if body.get("incident_key") != incident_key:
                continue
            if datetime.fromisoformat(body["raised_at"]) < since:
                continue
            if body.get("resolved"):
                resolved += 1
            else:
                raised += 1
        return raised, resolved

    def alert_rows(self, incident_key: str, since: datetime) -> int:
        if not self.wh_table_exists("ops", "alerts"):
            return 0
        return int(
            self.wh_rows(
                "SELECT count(*) FROM ops.alerts WHERE incident_key = ? AND raised_at >= ?",
                [incident_key, since],
            )[0][0]
        )

    def meltano_state(self) -> dict[str, str]:
        """Every Meltano state id of this world with its stored JSON (sqlite system database)."""
        uri = step_env(self.settings)["MELTANO_DATABASE_URI"]
        path = uri.removeprefix("sqlite:///")
        if not Path(path).exists():
            return {}
        import sqlite3

        con = sqlite3.connect(path)
        try:
            rows = con.execute(
                "SELECT state_id, partial_state, completed_state FROM state"
            ).fetchall()
        finally:
            con.close()
        return {str(r[0]): json.dumps([r[1], r[2]], sort_keys=True, default=str) for r in rows}


class SqlmeshProd:
    """The prod environment planned and run once on the lane-loaded world, before any fault."""

    def __init__(self, world: RelWorld) -> None:
        log = world.settings.home / "logs" / "transform.log"
        seen = log.stat().st_size if log.exists() else 0
        result = world.sqlmesh("plan", "--auto-apply", "--no-prompts", *PLAN_SKIPS)
        if result.status == "succeeded":
            result = world.sqlmesh("run")
        assert result.status == "succeeded", (
            "sqlmesh prod plan/run on the lane-loaded world failed: "
            f"{_errors(log, seen) or result.output_tail}"
        )


def _errors(log: Path, offset: int) -> str:
    """The distinct error lines SQLMesh wrote to the transform log after `offset`."""
    if not log.exists():
        return ""
    with log.open("rb") as handle:
        handle.seek(offset)
        text = handle.read().decode("utf-8", errors="replace")
    keep: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if ("Error" in line or "audit error" in line) and line not in keep:
            keep.append(line)
    return " | ".join(keep)[:1200]


def _alive(pid: int) -> bool:
    try:
        proc = psutil.Process(pid)
        return proc.is_running() and proc.status() != psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return False


def _source_key(value: str) -> str:
    """tap-s3-csv's `_sdc_source_file` may carry a bucket/URL prefix: keep the object key."""
    at = value.find(SPEND_PREFIX)
    return value[at:] if at >= 0 else value


def utcnow() -> datetime:
    # pipeline_runs/alerts are stamped with the wall clock; leave a little slack for clock reads
    return datetime.now(UTC) - timedelta(milliseconds=5)
