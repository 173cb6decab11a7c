"""Retention deletes exactly the superseded old versions and old events, never a latest version."""

from __future__ import annotations

import shutil
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest

from brightcart_ops.retention import apply_retention
from brightcart_ops.warehouse import Warehouse
from brightcart_world.settings import Settings

AS_OF = datetime(2026, 11, 1, tzinfo=UTC)  # raw horizon 2026-08-03, curated 2023-10-31

# order_id, updated_at, _sdc_sequence, deleted, _loaded_at, label
ORDERS = [
    (1, "2026-01-01", 1, None, "2026-01-01", "superseded old -> deleted"),
    (1, "2026-02-01", 2, None, "2026-02-01", "superseded old -> deleted"),
    (1, "2026-03-01", 3, None, "2026-03-01", "latest, old -> kept"),
    (2, "2026-10-01", 4, None, "2026-10-01", "superseded, recent -> kept"),
    (2, "2026-10-02", 5, None, "2026-10-02", "latest -> kept"),
    (3, "2026-01-05", 6, None, "2026-01-05", "superseded by its tombstone -> deleted"),
    (3, "2026-01-05", 7, "2026-01-06", "2026-01-06", "tombstone, latest -> kept"),
    (4, "2025-06-01", 8, None, "2025-06-01", "only version, old -> kept"),
    (5, "2025-06-01", 9, None, "2025-06-01", "exact duplicate of the latest -> kept"),
    (5, "2025-06-01", 9, None, "2025-06-01", "exact duplicate of the latest -> kept"),
]


@pytest.fixture
def warehouse(monkeypatch: pytest.MonkeyPatch) -> Iterator[Warehouse]:
    home = Path("/tmp/rec") / f"retention-{uuid.uuid4().hex[:8]}"
    home.mkdir(parents=True)
    path = home / "warehouse.duckdb"
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(path))
    with duckdb.connect(str(path)) as con:
        con.execute("SET TimeZone = 'UTC'")
        for schema in ("raw_shop", "raw_events", "marts_finance"):
            con.execute(f"CREATE SCHEMA {schema}")
        con.execute(
            "CREATE TABLE raw_shop.orders (order_id BIGINT, updated_at TIMESTAMPTZ, "
            "_sdc_sequence BIGINT, _sdc_deleted_at TIMESTAMPTZ, _loaded_at TIMESTAMPTZ, "
            "label VARCHAR)"
        )
        con.executemany("INSERT INTO raw_shop.orders VALUES (?, ?, ?, ?, ?, ?)", ORDERS)
        con.execute("CREATE TABLE raw_events.events (event_id VARCHAR, received_at TIMESTAMPTZ)")
        con.execute(
            "INSERT INTO raw_events.events VALUES ('old', '2026-08-02 23:59:59'), "
            "('edge', '2026-08-03 00:00:00'), ('new', '2026-10-30')"
        )
        con.execute("CREATE TABLE marts_finance.ledger_phys (entry_at TIMESTAMPTZ, amount INT)")
        con.execute(
            "INSERT INTO marts_finance.ledger_phys VALUES ('2023-10-30', 1), ('2023-11-01', 2)"
        )
    yield Warehouse(Settings(home=home), "local")
    shutil.rmtree(home, ignore_errors=True)


def test_retention_removes_exactly_the_expired_rows(warehouse: Warehouse) -> None:
    removals = apply_retention(warehouse, AS_OF, curated={"marts_finance.ledger_phys": "entry_at"})
    assert {(r.table, r.rule, r.rows_before, r.rows_deleted) for r in removals} == {
        ("raw_shop.orders", "superseded", 10, 3),
        ("raw_events.events", "age", 3, 1),
        ("marts_finance.ledger_phys", "curated", 2, 1),
    }
    kept = warehouse.query("SELECT label, count(*) FROM raw_shop.orders GROUP BY 1 ORDER BY 1")
    assert all("deleted" not in str(label) for label, _ in kept)
    # the latest version of every order survives, so staging reads the same rows as before
    latest = warehouse.query(
        "SELECT order_id, max(_sdc_sequence) FROM raw_shop.orders GROUP BY 1 ORDER BY 1"
    )
    assert latest == [(1, 3), (2, 5), (3, 7), (4, 8), (5, 9)]
    assert warehouse.query("SELECT event_id FROM raw_events.events ORDER BY 1") == [
        ("edge",),
        ("new",),
    ]
    recorded = warehouse.query(
        "SELECT table_name, rows_deleted, horizon FROM ops.retention_runs ORDER BY 1"
    )
    assert [(t, n) for t, n, _ in recorded] == [
        ("marts_finance.ledger_phys", 1),
        ("raw_events.events", 1),
        ("raw_shop.orders", 3),
    ]
    assert recorded[2][2] == datetime(2026, 8, 3, tzinfo=UTC)

    again = apply_retention(warehouse, AS_OF, curated={"marts_finance.ledger_phys": "entry_at"})
    assert sum(r.rows_deleted for r in again) == 0
