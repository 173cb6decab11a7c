"""A benchmark world: own ports (6700-6799), own home under /tmp/bench, own `bench_` database."""

from __future__ import annotations

import os
import shutil
import sys
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from bench.proc import Measured, run_measured
from brightcart_ops.runtime import step_env
from brightcart_world.settings import REPO_ROOT, Settings

BIN = Path(sys.executable).parent
BENCH_ROOT = Path(os.environ.get("BRIGHTCART_BENCH_ROOT", "/tmp/bench"))  # noqa: S108 - the agreed place


def bin_path(name: str) -> str:
    path = BIN / name
    return str(path) if path.exists() else name


@dataclass
class World:
    """One isolated set of local sources plus a warehouse, named e.g. ``main`` or ``h7``."""

    name: str
    port_base: int
    steps: list[Measured] = field(default_factory=list)

    def __post_init__(self) -> None:
        base = Settings()
        self.settings = Settings(
            home=BENCH_ROOT / self.name,
            pg_host=base.pg_host,
            pg_port=base.pg_port,
            pg_user=base.pg_user,
            pg_db=f"bench_{self.name}",
            s3_port=self.port_base,
            s3_bucket=base.s3_bucket,
            sf_port=self.port_base + 1,
            sf_proxy_port=self.port_base + 2,
        )
        self.home = self.settings.home
        self.logs = self.home / "logs"

    # -- environment ---------------------------------------------------------------------------
    def base_env(self) -> dict[str, str]:
        s = self.settings
        env = {k: v for k, v in os.environ.items() if not k.startswith(("BRIGHTCART_", "AWS_"))}
        env.update(
            {
                "BRIGHTCART_HOME": str(s.home),
                "BRIGHTCART_PG_HOST": s.pg_host,
                "BRIGHTCART_PG_PORT": str(s.pg_port),
                "BRIGHTCART_PG_USER": s.pg_user,
                "BRIGHTCART_PG_DB": s.pg_db,
                "BRIGHTCART_S3_PORT": str(s.s3_port),
                "BRIGHTCART_S3_BUCKET": s.s3_bucket,
                "BRIGHTCART_SF_PORT": str(s.sf_port),
                "BRIGHTCART_SF_PROXY_PORT": str(s.sf_proxy_port),
                "BRIGHTCART_WAREHOUSE": str(s.warehouse),
                "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
                "RUNTIME__DLTHUB_TELEMETRY": "false",
                "PYTHONUNBUFFERED": "1",
            }
        )
        return env

    def step_env(self) -> dict[str, str]:
        """The environment of pipeline steps (Meltano, SQLMesh), as `brightcart` builds it."""
        env = self.base_env()
        saved = dict(os.environ)
        try:  # step_env reads a few defaults from os.environ: give it this world's view
            os.environ.clear()
            os.environ.update(env)
            env.update(step_env(self.settings, "dev"))
        finally:
            os.environ.clear()
            os.environ.update(saved)
        return env

    def run(self, label: str, argv: list[str], **kwargs: Any) -> Measured:
        measured = run_measured(
            label, argv, self.step_env(), REPO_ROOT, self.logs / "bench.log", **kwargs
        )
        self.steps.append(measured)
        return measured

    def brightcart(self, label: str, *args: str, **kwargs: Any) -> Measured:
        return self.run(label, [bin_path("brightcart"), *args], **kwargs)

    # -- life cycle ----------------------------------------------------------------------------
    def fresh(self) -> None:
        """Stop leftovers of an earlier run and start from an empty home."""
        if self.home.exists():
            self.brightcart("sources down", "sources", "down")
            shutil.rmtree(self.home, ignore_errors=True)
        self.home.mkdir(parents=True)
        self.home.chmod(0o755)

    def up(self) -> Measured:
        result = self.brightcart("sources up", "sources", "up")
        if not result.ok:
            raise RuntimeError(f"brightcart sources up failed for {self.name}: {result.tail}")
        return result

    def down(self, drop: bool = True) -> None:
        self.brightcart("sources down", "sources", "down")
        if drop:
            self.drop_database()

    def drop_database(self) -> None:
        s = self.settings
        with psycopg.connect(
            host=s.pg_host, port=s.pg_port, user=s.pg_user, dbname="postgres", autocommit=True
        ) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{s.pg_db}" WITH (FORCE)')

    def generate(self, start: datetime, end: datetime, scale: float, seed: int = 42) -> Measured:
        return self.brightcart(
            "world generate",
            "world",
            "generate",
            "--seed",
            str(seed),
            "--start",
            start.strftime("%Y-%m-%dT%H:%M"),
            "--end",
            end.strftime("%Y-%m-%dT%H:%M"),
            "--scale",
            str(scale),
        )

    # -- warehouse -----------------------------------------------------------------------------
    def warehouse_query(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        path = self.settings.warehouse
        if not path.exists():
            return []
        try:
            with duckdb.connect(str(path), read_only=True) as con:
                return con.execute(sql, params or []).fetchall()
        except duckdb.Error:
            return []

    def load_ids(self) -> set[str]:
        return {
            str(r[0])
            for r in self.warehouse_query("SELECT DISTINCT load_id FROM raw_meta.load_log")
        }

    def landed_since(self, lane: str, known: set[str]) -> tuple[int, int]:
        """(rows received, rows inserted) by loads of ``lane`` not in ``known``."""
        rows = self.warehouse_query(
            "SELECT load_id, coalesce(sum(rows_received), 0), coalesce(sum(rows_inserted), 0) "
            "FROM raw_meta.load_log WHERE lane = ? GROUP BY load_id",
            [lane],
        )
        received = sum(int(r[1]) for r in rows if str(r[0]) not in known)
        inserted = sum(int(r[2]) for r in rows if str(r[0]) not in known)
        return received, inserted

    def landed_to(self) -> datetime | None:
        """The newest high-water mark any lane landed: where the world's clock stands."""
        rows = self.warehouse_query(
            "SELECT MAX(high_water_mark) FROM raw_meta.load_log WHERE status = 'succeeded'"
        )
        mark = rows[0][0] if rows else None
        return mark if isinstance(mark, datetime) else None

    def pg_dsn(self) -> str:
        return self.settings.pg_dsn
