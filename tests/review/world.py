"""A generated world for reviewed changes: the shop lane landed, a temp copy of the finance part of
the SQLMesh project, prod built through the review loop under the enforced promotion gate."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import duckdb
import psycopg
import yaml
from project_copy import copy_project, model_paths, upstream
from sqlmesh import Context
from sqlmesh.core.dialect import format_model_expressions, parse
from typer.testing import CliRunner, Result

from brightcart_ops.cli import app
from brightcart_ops.publish.state import open_state_reader
from brightcart_ops.review.planinfo import fingerprints
from brightcart_ops.review.policy import load as load_policy
from brightcart_world.settings import Settings

REPO = Path(__file__).resolve().parents[2]
SQLMESH = Path(sys.executable).with_name("sqlmesh")
RAW_SCHEMAS = {"raw_shop"}  # the lane this world lands

AUTHOR = "alice.engineer"
ENGINEER = "bob.engineer"
FINANCE = "fiona.finance"
CONTROLLER = "carl.controller"
POLICY = f"""finance_group: finance
groups:
  finance: [{FINANCE}, {CONTROLLER}]
  data_engineering: [{AUTHOR}, {ENGINEER}]
finance_marts:
  schemas: [marts_finance, marts_refunds]
  owners: [finance_data]
approval_valid_days: 14
"""


def finance_project_files() -> list[Path]:
    """Model files of the finance marts, everything they read (shop lane only) and every model
    that reads only those: computed from the project, so it follows the models as they change."""
    context = Context(paths=str(REPO))
    try:
        policy = load_policy(REPO / "ops" / "review_policy.yaml")
        models = {m.fqn: m for m in context.models.values()}
        stack = [
            n
            for n, m in models.items()
            if not m.kind.is_symbolic and policy.is_finance(m.schema_name, m.owner)
        ]
        keep = upstream(models, stack)
        raw = {n for n in keep if models[n].kind.is_symbolic}
        outside = sorted(n for n in raw if models[n].schema_name not in RAW_SCHEMAS)
        assert not outside, f"finance marts read raw tables this world does not land: {outside}"
        grown = True
        while grown:
            grown = False
            for name, model in models.items():
                if name not in keep and model.depends_on and set(model.depends_on) <= keep:
                    keep.add(name)
                    grown = True
        return model_paths(models, keep)
    finally:
        context.close()


def copy_finance_project(target: Path) -> list[str]:
    """Copy the finance part of the project into `target`; returns the bi views it holds."""
    models = finance_project_files()
    copy_project(target, models)
    return [f"bi.{path.stem}" for path in models if path.parent.name == "bi"]


def dataset_map(target: Path, views: Iterable[str]) -> Path:
    """The BI dataset map restricted to the datasets whose views this project holds."""
    data = yaml.safe_load((REPO / "ops" / "bi_datasets.yaml").read_text())
    kept = {k: v for k, v in data["datasets"].items() if v["view"] in set(views)}
    data["datasets"] = kept
    for dashboard in data["dashboards"].values():
        for part in ("tiles", "charts"):
            dashboard[part] = [c for c in dashboard.get(part) or [] if c["dataset"] in kept]
    target.write_text(yaml.safe_dump(data))
    return target


def add_filter(model_file: Path, condition: str) -> None:
    """Change a model in the temp project: AND a condition into its query's WHERE."""
    expressions = parse(model_file.read_text(), default_dialect="redshift")
    query = expressions[-1]
    assert hasattr(query, "where"), f"{model_file.name}: the query is not a SELECT"
    expressions[-1] = query.where(condition)
    model_file.write_text(format_model_expressions(expressions, dialect="redshift") + "\n")


@dataclass
class ReviewWorld:
    settings: Settings
    project: Path
    runner: CliRunner

    @property
    def warehouse(self) -> Path:
        return self.settings.warehouse

    def sqlmesh(
        self, *args: str, actor: str = AUTHOR, env: dict[str, str] | None = None
    ) -> subprocess.CompletedProcess[str]:
        """The real `sqlmesh` command on the temp project, as `actor`."""
        env = os.environ | {"BRIGHTCART_ACTOR": actor} | (env or {})
        return subprocess.run(
            [str(SQLMESH), "--paths", str(self.project), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=900,
            check=False,
        )

    def brightcart(self, actor: str, *args: str) -> Result:
        """The `brightcart` CLI in this process, as `actor`."""
        return self.runner.invoke(app, list(args), env={"BRIGHTCART_ACTOR": actor})

    def rows(self, sql: str, params: Iterable[Any] = ()) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            return [tuple(r) for r in con.execute(sql, list(params)).fetchall()]

    def source(self) -> psycopg.Connection[tuple[Any, ...]]:
        return psycopg.connect(self.settings.pg_dsn, autocommit=True)

    def prod_environment(self) -> Any:
        """SQLMesh's prod environment, read from state."""
        reader = open_state_reader("local")
        try:
            env = reader.get_environment("prod")
        finally:
            reader.close()
        assert env is not None, "SQLMesh has no prod environment"
        return env

    def prod_state(self) -> tuple[str, dict[str, str]]:
        """SQLMesh state: prod's plan id and model fingerprints."""
        env = self.prod_environment()
        return str(env.plan_id), fingerprints(env.snapshots)

    def prod_tables(self) -> list[str]:
        """The physical tables prod's views read (schema.table), from SQLMesh state."""
        env = self.prod_environment()
        names = [s.table_name() for s in env.snapshots if s.is_model and not s.is_symbolic]
        return sorted(".".join(p.strip('"') for p in n.split(".")[-2:]) for n in names)

    def prod_snapshot(self) -> dict[str, Any]:
        """Everything prod is: its view definitions, the rows (count and an order-independent
        hash) of every prod view and of every physical table they read, and SQLMesh's prod plan
        id and fingerprints. A dev plan adds tables of its own; prod's stay as they are."""
        with duckdb.connect(str(self.warehouse), read_only=True) as con:
            views = con.execute(
                "SELECT schema_name, view_name, sql FROM duckdb_views() WHERE NOT internal "
                "AND schema_name NOT LIKE '%\\_\\_%' ESCAPE '\\' ORDER BY 1, 2"
            ).fetchall()
            tables = [tuple(t.split(".")) for t in self.prod_tables()]
            checksums = {
                f"{s}.{n}": con.execute(
                    f'SELECT COUNT(*), SUM(HASH(CAST(t AS VARCHAR))) FROM "{s}"."{n}" AS t'
                ).fetchone()
                for s, n, *_ in [*views, *tables]
            }
        return {
            "views": [tuple(v) for v in views],
            "tables": [tuple(t) for t in tables],
            "checksums": checksums,
            "state": self.prod_state(),
        }


def world_clock(world: ReviewWorld) -> datetime:
    with world.source() as con:
        row = con.execute("SELECT now FROM generator.clock").fetchone()
    assert row is not None
    moment: datetime = row[0]
    return moment
