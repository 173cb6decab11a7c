"""Fixtures for the loader tests: a DuckDB loader config, a private PostgreSQL database."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest

from .support import PG_HOST, PG_PORT, PG_USER


@pytest.fixture
def duck_config(tmp_path: Path) -> dict[str, Any]:
    return {
        "backend": "duckdb",
        "path": str(tmp_path / "warehouse.duckdb"),
        "lane": "shop",
        "default_target_schema": "raw_shop",
        "staging_dir": str(tmp_path / "staging"),
        "batch_size_rows": 1000,
    }


@pytest.fixture
def pg_database() -> Iterator[str]:
    """A uniquely named, empty PostgreSQL database, dropped afterwards."""
    name = f"tgt_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
    ) as con:
        con.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(
            host=PG_HOST, port=PG_PORT, user=PG_USER, dbname="postgres", autocommit=True
        ) as con:
            con.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
