"""End to end: drift at the source, the real lanes, then the automatic repair restates exactly
the mismatched day of a SQLMesh prod model built on the raw landing."""

from __future__ import annotations

from datetime import UTC, date, datetime
from decimal import Decimal
from pathlib import Path

import duckdb
import psycopg
from sqlmesh import Context

from brightcart_ops.reconcile_job import run_reconciliation

from .conftest import ShopWorld

LATEST = (
    "SELECT * FROM (SELECT *, ROW_NUMBER() OVER (PARTITION BY {key} ORDER BY updated_at DESC, "
    "_sdc_sequence DESC) AS version_rank FROM raw_shop.{table}) AS v "
    "WHERE version_rank = 1 AND _sdc_deleted_at IS NULL"
)
STAGING = "MODEL (name staging.stg_shop__{table}, kind VIEW, dialect duckdb);\n" + LATEST
MART = """MODEL (
  name marts_finance.payments_daily,
  kind INCREMENTAL_BY_TIME_RANGE (time_column day),
  cron '@daily',
  start '2026-11-01',
  dialect duckdb
);
SELECT CAST(created_at AT TIME ZONE 'UTC' AS DATE) AS day,
  CAST(sum(amount) AS DECIMAL(12, 2)) AS total
FROM staging.stg_shop__payments
WHERE CAST(created_at AT TIME ZONE 'UTC' AS DATE) BETWEEN @start_ds AND @end_ds
GROUP BY 1
"""


def make_project(world: ShopWorld) -> Path:
    root = world.settings.home / "project"
    (root / "models").mkdir(parents=True)
    (root / "config.yaml").write_text(
        f"gateways:\n  local:\n    connection: {{type: duckdb, database: "
        f"'{world.settings.warehouse}'}}\n"
        f"    state_connection: {{type: duckdb, database: '{root / 'state.duckdb'}'}}\n"
        "default_gateway: local\nmodel_defaults: {dialect: duckdb}\n"
    )
    for table, key in (
        ("orders", "order_id"),
        ("payments", "payment_id"),
        ("refunds", "refund_id"),
    ):
        (root / "models" / f"stg_shop__{table}.sql").write_text(
            STAGING.format(table=table, key=key)
        )
    (root / "models" / "payments_daily.sql").write_text(MART)
    context = Context(paths=str(root), gateway="local")
    try:
        context.plan("prod", auto_apply=True, no_prompts=True)
    finally:
        context.close()
    return root


def daily(world: ShopWorld) -> dict[str, Decimal]:
    with duckdb.connect(str(world.settings.warehouse), read_only=True) as con:
        rows = con.execute("SELECT day, total FROM marts_finance.payments_daily").fetchall()
    return {str(d): Decimal(str(t)) for d, t in rows}


def test_repair_restates_exactly_the_mismatched_day(shop_world: ShopWorld) -> None:
    root = make_project(shop_world)
    assert daily(shop_world) == {"2026-11-01": 90, "2026-11-02": 135, "2026-11-03": 195}
    with psycopg.connect(shop_world.settings.pg_dsn, autocommit=True) as con:
        con.execute("SET session_replication_role = replica")  # changed, updated_at kept
        con.execute("UPDATE shop.payments SET amount = amount + 1 WHERE payment_id = 2")
    # a raw version of day 3 that the model has not picked up: restating day 1 must not touch it
    shop_world.warehouse.execute(
        "INSERT INTO raw_shop.payments BY NAME SELECT * REPLACE (amount + 100 AS amount, "
        "_sdc_sequence + 1 AS _sdc_sequence) FROM raw_shop.payments WHERE payment_id = 15"
    )
    with psycopg.connect(shop_world.settings.pg_dsn, autocommit=True) as con:
        con.execute("SET session_replication_role = replica")
        con.execute("UPDATE shop.payments SET amount = amount + 100 WHERE payment_id = 15")

    report = run_reconciliation(
        shop_world.settings,
        date(2026, 11, 1),
        date(2026, 11, 3),
        entities=["payments"],
        cutoff=datetime(2026, 11, 4, tzinfo=UTC),
        warehouse=shop_world.warehouse,
        alerter=shop_world.alerter,
        project=root,
    )
    assert [(r.day.isoformat(), r.status) for r in report.rechecked] == [("2026-11-01", "repaired")]
    assert not report.errors
    # day 1 restated with the corrected payment; day 3 untouched although raw changed under it
    assert daily(shop_world) == {"2026-11-01": 91, "2026-11-02": 135, "2026-11-03": 195}
