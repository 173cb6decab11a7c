"""Shared code for the loader tests: run the real executable, checksum a table."""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import sys
import uuid
from pathlib import Path
from typing import Any

import duckdb

TARGET = Path(sys.executable).with_name("target-redshift")
PG_HOST = os.environ.get("BRIGHTCART_PG_HOST", "127.0.0.1")
PG_PORT = int(os.environ.get("BRIGHTCART_PG_PORT", "5432"))
PG_USER = os.environ.get("BRIGHTCART_PG_USER", "postgres")


def run_target(
    config: dict[str, Any], messages: list[dict[str, Any]] | str, workdir: Path
) -> subprocess.CompletedProcess[str]:
    """Run the real target-redshift with Singer messages on stdin."""
    config_file = workdir / f"config-{uuid.uuid4().hex[:8]}.json"
    config_file.write_text(json.dumps(config))
    stdin = (
        messages if isinstance(messages, str) else "".join(json.dumps(m) + "\n" for m in messages)
    )
    return subprocess.run(
        [str(TARGET), "--config", str(config_file)],
        input=stdin,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def table_checksum(path: Path, table: str) -> tuple[int, str]:
    """Row count and a hash over every row (sorted), every column."""
    with duckdb.connect(str(path), read_only=True) as con:
        rows = con.execute(f"SELECT * FROM {table}").fetchall()
    digest = hashlib.sha256("\n".join(sorted(repr(r) for r in rows)).encode()).hexdigest()
    return len(rows), digest


def incremental_catalog(tap: Path, tap_config: Path) -> dict[str, Any]:
    """tap-postgres' discovery with every stream selected, INCREMENTAL on updated_at."""
    found = subprocess.run(
        [str(tap), "--config", str(tap_config), "--discover"],
        capture_output=True,
        text=True,
        check=True,
        timeout=300,
    )
    catalog: dict[str, Any] = json.loads(found.stdout)
    for stream in catalog["streams"]:
        for entry in stream["metadata"]:
            if entry["breadcrumb"] == []:
                entry["metadata"].update(
                    {
                        "selected": True,
                        "replication-method": "INCREMENTAL",
                        "replication-key": "updated_at",
                    }
                )
        stream["replication_method"] = "INCREMENTAL"
        stream["replication_key"] = "updated_at"
    return catalog
