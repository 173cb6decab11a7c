"""End to end: the real tap-postgres binary piped into the real target-redshift (DuckDB)."""

from __future__ import annotations

import json
import subprocess
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb
import psycopg

from .support import PG_HOST, PG_PORT, PG_USER, TARGET, incremental_catalog

TAP = Path(__file__).resolve().parents[2] / ".meltano/extractors/tap-postgres/venv/bin/tap-postgres"

SOURCE_SQL = """
CREATE SCHEMA shop;
CREATE TABLE shop.orders (
    order_id bigint PRIMARY KEY,
    amount numeric(12,2) NOT NULL,
    placed_at timestamptz NOT NULL,
    updated_at timestamptz NOT NULL
);
INSERT INTO shop.orders
SELECT 9000000000 + i,
       round((i * 7.31) % 1000, 2) + 0.99,
       timestamptz '2026-11-01 00:00:00+00' + i * interval '37 seconds',
       timestamptz '2026-11-01 00:00:00+00' + (i / 10) * interval '1 minute'
FROM generate_series(1, 500) AS i;
"""


def _catalog(tap_config: Path) -> dict[str, Any]:
    return incremental_catalog(TAP, tap_config)


def _run(tap_config: Path, catalog: Path, target_config: Path, state: Path | None) -> str:
    tap_cmd = [str(TAP), "--config", str(tap_config), "--catalog", str(catalog)]
    if state is not None:
        tap_cmd += ["--state", str(state)]
    tap = subprocess.Popen(tap_cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL)
    target = subprocess.run(
        [str(TARGET), "--config", str(target_config)],
        stdin=tap.stdout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert tap.wait(timeout=300) == 0
    assert target.returncode == 0, target.stderr[-3000:]
    return target.stdout.strip().splitlines()[-1]


def test_tap_postgres_into_duckdb(pg_database: str, tmp_path: Path) -> None:
    assert TAP.exists(), f"{TAP} is missing: run `meltano install` (it builds the tap's venv)"
    with psycopg.connect(
        host=PG_HOST, port=PG_PORT, user=PG_USER, dbname=pg_database, autocommit=True
    ) as con:
        con.execute(SOURCE_SQL)
        source = con.execute(
            "SELECT count(*), sum(amount), sum(order_id), min(order_id), "
            "max(updated_at) FROM shop.orders"
        ).fetchone()
        source_keys = {r[0] for r in con.execute("SELECT order_id FROM shop.orders")}
    tap_config = tmp_path / "tap.json"
    tap_config.write_text(
        json.dumps(
            {
                "host": PG_HOST,
                "port": PG_PORT,
                "user": PG_USER,
                "password": "",
                "database": pg_database,
                "filter_schemas": ["shop"],
                "use_singer_decimal": True,
            }
        )
    )
    catalog = tmp_path / "catalog.json"
    catalog.write_text(json.dumps(_catalog(tap_config)))
    warehouse = tmp_path / "warehouse.duckdb"
    target_config = tmp_path / "target.json"
    target_config.write_text(
        json.dumps(
            {
                "backend": "duckdb",
                "path": str(warehouse),
                "lane": "shop",
                "default_target_schema": "raw_shop",
                "staging_dir": str(tmp_path / "staging"),
                "batch_size_rows": 200,
            }
        )
    )

    state_line = _run(tap_config, catalog, target_config, None)
    state = tmp_path / "state.json"
    state.write_text(state_line)
    # An incremental rerun from the bookmark re-sends the boundary rows (>=): no duplicates.
    _run(tap_config, catalog, target_config, state)

    with duckdb.connect(str(warehouse), read_only=True) as con:
        con.execute("SET TimeZone = 'UTC'")
        landed = con.execute(
            "SELECT count(*), sum(amount), sum(order_id), min(order_id), "
            "max(updated_at) FROM raw_shop.shop_orders"
        ).fetchone()
        keys = {r[0] for r in con.execute("SELECT order_id FROM raw_shop.shop_orders").fetchall()}
        types = dict(
            con.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw_shop' AND table_name = 'shop_orders'"
            ).fetchall()
        )
        log = con.execute(
            "SELECT rows_received, rows_inserted, rows_duplicate, rows_rejected, "
            "high_water_mark, status FROM raw_meta.load_log "
            "ORDER BY finished_at"
        ).fetchall()
    assert landed == source
    assert landed is not None and landed[1] == Decimal(landed[1]).quantize(Decimal("0.01"))
    assert keys == source_keys
    assert types["order_id"] == "BIGINT"
    assert types["amount"] == "DECIMAL(38,9)"
    assert types["placed_at"] == "TIMESTAMP WITH TIME ZONE"
    assert types["updated_at"] == "TIMESTAMP WITH TIME ZONE"
    assert len(log) == 2
    assert log[0][:4] == (500, 500, 0, 0) and log[0][5] == "succeeded"
    assert source is not None and log[0][4] == source[4] == log[1][4]
    resent = log[1][0]
    assert resent >= 1 and log[1][1:4] == (0, resent, 0)
