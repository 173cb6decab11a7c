"""The full plan also runs on the postgres gateway (Redshift-like) in a fresh wh_* database."""

from __future__ import annotations

import os
import shutil
import uuid
from collections.abc import Iterator

import psycopg
import pytest
from psycopg import sql

from . import project, raw_fixture


def _admin_conninfo() -> str:
    host = os.environ.get("BRIGHTCART_PG_HOST", "127.0.0.1")
    port = os.environ.get("BRIGHTCART_PG_PORT", "5432")
    user = os.environ.get("BRIGHTCART_PG_USER", "postgres")
    return f"host={host} port={port} user={user} dbname=postgres connect_timeout=5"


@pytest.fixture
def wh_database() -> Iterator[str]:
    name = f"wh_test_{uuid.uuid4().hex[:10]}"
    try:
        admin = psycopg.connect(_admin_conninfo(), autocommit=True)
    except psycopg.OperationalError as error:
        pytest.fail(
            f"no PostgreSQL at {_admin_conninfo()} (start it, or point BRIGHTCART_PG_HOST/PORT "
            f"at one): {error}",
            pytrace=False,
        )
    with admin:
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
        admin.execute(
            sql.SQL("ALTER DATABASE {} SET timezone TO 'UTC'").format(sql.Identifier(name))
        )
    try:
        yield name
    finally:
        with psycopg.connect(_admin_conninfo(), autocommit=True) as admin:
            admin.execute(
                sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
            )


def test_full_plan_on_postgres_gateway(wh_database: str, monkeypatch: pytest.MonkeyPatch) -> None:
    conninfo = _admin_conninfo().replace("dbname=postgres", f"dbname={wh_database}")
    with psycopg.connect(conninfo, autocommit=True) as con:
        for statement in raw_fixture.fixture_statements():
            con.execute(statement.encode())
    workdir = project.temp_dir("pg-")
    try:
        copy = project.copy_project(workdir / "project")
        for name, value in project.duckdb_env(workdir).items():
            monkeypatch.setenv(name, value)
        monkeypatch.setenv("BRIGHTCART_WH_PG_DB", wh_database)
        context = project.context(copy, gateway="postgres")
        context.plan(auto_apply=True, no_prompts=True)
        rows = context.engine_adapter.fetchall(
            "SELECT CAST(revenue_date AS VARCHAR), gmv, net_revenue, refunds, orders, "
            "new_customers FROM bi.executive_daily ORDER BY 1"
        )
        context.close()
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
    expected = [
        (day, k["gmv"], k["net_revenue"], k["refunds"], k["orders"], k["new_customers"])
        for day, k in sorted(raw_fixture.EXPECTED_DAILY.items())
    ]
    assert [tuple(row) for row in rows] == expected
