"""SQLMesh gateways for the BrightCart warehouse, built from environment variables.

* ``local``: DuckDB file at ``BRIGHTCART_WAREHOUSE``
  (default ``$BRIGHTCART_HOME/warehouse.duckdb``);
  SQLMesh state in a separate DuckDB file beside it (``<name>.state.duckdb``) so the warehouse file
  holds only data that dashboards and the publish step read, as in production where the state
  lives in its own PostgreSQL database. DuckDB's memory limit and threads are set, not left at
  80% of the machine's RAM and all its cores (``BRIGHTCART_DUCKDB_MEMORY_LIMIT``, default
  ``1GB``, beyond which DuckDB spills to ``<name>.duckdb.tmp``; ``BRIGHTCART_DUCKDB_THREADS``,
  default the CPUs this process may use).
* ``postgres``: PostgreSQL (``BRIGHTCART_PG_HOST``/``_PORT``/``_USER``), database
  ``BRIGHTCART_WH_PG_DB`` (default ``brightcart_wh``); a Redshift-like engine for integration runs.
* ``redshift``: production warehouse (``REDSHIFT_HOST``/``_PORT``/``_USER``/``_PASSWORD``/
  ``_DATABASE``) with state in PostgreSQL (``SQLMESH_STATE_HOST``/``_PORT``/``_USER``/
  ``_PASSWORD``/``_DATABASE``).
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path

from sqlmesh.core.config import (
    DuckDBConnectionConfig,
    GatewayConfig,
    PostgresConnectionConfig,
)
from sqlmesh.core.config.connection import RedshiftConnectionConfig

REPO_ROOT = Path(__file__).resolve().parents[2]


def warehouse_path(env: Mapping[str, str] | None = None) -> Path:
    """Where the local DuckDB warehouse lives."""
    env = os.environ if env is None else env
    home = Path(env.get("BRIGHTCART_HOME") or REPO_ROOT / ".local")
    return Path(env.get("BRIGHTCART_WAREHOUSE") or home / "warehouse.duckdb")


def state_path(warehouse: Path) -> Path:
    """The SQLMesh state file that sits beside a warehouse file."""
    return warehouse.with_name(f"{warehouse.stem}.state.duckdb")


def duckdb_settings(env: Mapping[str, str] | None = None) -> dict[str, str]:
    """The DuckDB settings of the local warehouse's connections."""
    env = os.environ if env is None else env
    threads = env.get("BRIGHTCART_DUCKDB_THREADS") or len(os.sched_getaffinity(0))
    return {
        "memory_limit": env.get("BRIGHTCART_DUCKDB_MEMORY_LIMIT") or "1GB",
        "threads": str(threads),
    }


def local_gateway(env: Mapping[str, str] | None = None) -> GatewayConfig:
    warehouse = warehouse_path(env)
    # DuckDB creates the files but not their folder ($BRIGHTCART_HOME is the runtime folder).
    warehouse.parent.mkdir(parents=True, exist_ok=True)
    return GatewayConfig(
        connection=DuckDBConnectionConfig(
            database=str(warehouse), concurrent_tasks=1, connector_config=duckdb_settings(env)
        ),
        state_connection=DuckDBConnectionConfig(database=str(state_path(warehouse))),
    )


def postgres_gateway(env: Mapping[str, str] | None = None) -> GatewayConfig:
    env = os.environ if env is None else env
    return GatewayConfig(
        connection=PostgresConnectionConfig(
            host=env.get("BRIGHTCART_PG_HOST", "127.0.0.1"),
            port=int(env.get("BRIGHTCART_PG_PORT", "5432")),
            user=env.get("BRIGHTCART_PG_USER", "postgres"),
            password=env.get("BRIGHTCART_PG_PASSWORD", ""),
            database=env.get("BRIGHTCART_WH_PG_DB", "brightcart_wh"),
            concurrent_tasks=2,
        ),
    )


def redshift_gateway(env: Mapping[str, str] | None = None) -> GatewayConfig:
    env = os.environ if env is None else env
    return GatewayConfig(
        connection=RedshiftConnectionConfig(
            host=env.get("REDSHIFT_HOST"),
            port=int(env.get("REDSHIFT_PORT", "5439")),
            user=env.get("REDSHIFT_USER"),
            password=env.get("REDSHIFT_PASSWORD"),
            database=env.get("REDSHIFT_DATABASE", "brightcart"),
        ),
        state_connection=PostgresConnectionConfig(
            host=env.get("SQLMESH_STATE_HOST", "127.0.0.1"),
            port=int(env.get("SQLMESH_STATE_PORT", "5432")),
            user=env.get("SQLMESH_STATE_USER", "sqlmesh"),
            password=env.get("SQLMESH_STATE_PASSWORD", ""),
            database=env.get("SQLMESH_STATE_DATABASE", "sqlmesh_state"),
        ),
    )


def gateways(env: Mapping[str, str] | None = None) -> dict[str, GatewayConfig]:
    """All gateways; ``local`` is the default."""
    return {
        "local": local_gateway(env),
        "postgres": postgres_gateway(env),
        "redshift": redshift_gateway(env),
    }
