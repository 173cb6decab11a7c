"""Section 1b: one large table (2M orders by default), our shop lane against its peers.

Every contender is a WHOLE PROCESS started from the same point, with the same rows in
PostgreSQL and an empty destination, and timed from its start to its exit (start-up included),
with the CPU seconds of its process tree:

- our lane: `meltano run shop-lane` narrowed to `shop-orders` (tap-postgres-bulk | target-redshift
  into a fresh DuckDB warehouse and a fresh Meltano state);
- dlt's sql_database with the connectorx backend into a fresh DuckDB file;
- PostgreSQL binary COPY to the client (extract only, the machine's ceiling).

Each runs twice in a row: `cold` is the first run of the section (files of the process not yet
in the page cache), `warm` the second. In-process seconds of the peers are in the notes.
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
import sys
from pathlib import Path

import psycopg

from bench.figures import Figure
from bench.lanes import _reason, count_rows, meltano_fresh
from bench.proc import Measured
from bench.world import World
from brightcart_world.sources.pgdb import drop_database, ensure_database

LANE = "shop (one table)"

FILL_SQL = """
SELECT set_config('brightcart.now', '2026-11-01T00:00:00+00', false);
INSERT INTO shop.customers (customer_id, email, country_code, created_at, updated_at)
SELECT i, 'c' || i || '@example.com', 'DE', timestamptz '2026-10-01 00:00:00+00',
       timestamptz '2026-10-01 00:00:00+00'
FROM generate_series(1, 10000) AS i;
INSERT INTO shop.orders (order_id, customer_id, status, channel, currency, shipping_country,
    shipping_amount, tax_amount, placed_at, paid_at, shipped_at, delivered_at, cancelled_at,
    created_at, updated_at)
SELECT i, 1 + i % 10000,
       (ARRAY['placed', 'paid', 'shipped', 'delivered', 'cancelled'])[1 + i % 5],
       (ARRAY['web', 'ios', 'android'])[1 + i % 3], 'EUR', 'DE',
       round(((i * 37) % 2000) / 100.0, 2), round(((i * 53) % 5000) / 100.0, 2),
       t, CASE WHEN i % 5 <> 0 THEN t + interval '5 minutes' END,
       CASE WHEN i % 5 IN (2, 3) THEN t + interval '1 day' END,
       CASE WHEN i % 5 = 3 THEN t + interval '3 days' END,
       CASE WHEN i % 5 = 4 THEN t + interval '1 hour' END,
       t, t
FROM (SELECT i, timestamptz '2026-10-01 00:00:00+00' + i * interval '1.3 seconds' AS t
      FROM generate_series(1, %(rows)s) AS i) AS g;
ANALYZE shop.orders;
"""


def fill(world: World, rows: int) -> None:
    """A database of its own with the shop DDL and `rows` orders (and their customers)."""
    drop_database(world.settings)
    ensure_database(world.settings)
    with psycopg.connect(world.settings.pg_dsn, autocommit=True) as con:
        con.execute("ALTER TABLE shop.orders DISABLE TRIGGER USER")
        con.execute(FILL_SQL.replace("%(rows)s", str(int(rows))))
        con.execute("ALTER TABLE shop.orders ENABLE TRIGGER USER")


def _lane(world: World, label: str) -> tuple[Measured, int]:
    """Our lane on the orders table alone, into a fresh warehouse and a fresh Meltano state."""
    scratch = world.home / "bulk" / label.replace(" ", "_")
    shutil.rmtree(scratch, ignore_errors=True)
    scratch.mkdir(parents=True)
    measured = meltano_fresh(
        world,
        f"{LANE}: lane ({label})",
        scratch,
        {"TAP_POSTGRES__SELECT": json.dumps(["shop-orders.*"])},
        "run",
        "shop-lane",
    )
    rows = count_rows(scratch / "warehouse.duckdb", "raw_shop.orders")
    return measured, rows


def _peer(world: World, label: str, args: list[str]) -> tuple[Measured, dict[str, float]]:
    out = world.home / "bulk" / f"{label.replace(' ', '_').replace(':', '')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        measured = world.run(label, [sys.executable, "-m", "bench.peers", *args], stdout=handle)
    if not measured.ok:
        return measured, {}
    return measured, json.loads(out.read_text().strip().splitlines()[-1])


def measure(world: World, rows: int) -> list[Figure]:
    """Fill the table, then time our lane, dlt + connectorx and binary COPY, cold then warm."""
    figures: list[Figure] = []
    started = dt.datetime.now(dt.UTC)
    fill(world, rows)
    figures.append(
        Figure(
            LANE,
            f"set-up: {rows:,} orders written to PostgreSQL",
            rows=rows,
            wall_s=(dt.datetime.now(dt.UTC) - started).total_seconds(),
            note="not a contender; the same rows for every run below",
            kind="fixed",
        )
    )
    s = world.settings
    url = f"postgresql+psycopg2://{s.pg_user}@{s.pg_host}:{s.pg_port}/{s.pg_db}"
    for label in ("cold", "warm"):
        measured, landed = _lane(world, label)
        if measured.ok:
            figures.append(
                Figure.of(LANE, f"lane, whole process ({label})", measured, landed, note="")
            )
        else:
            figures.append(Figure.missing(LANE, f"lane ({label})", _reason(measured)))
        dlt_dir = world.home / "bulk" / f"dlt_{label}"
        shutil.rmtree(dlt_dir, ignore_errors=True)
        dlt, inside = _peer(
            world,
            f"peer: dlt sql_database, connectorx ({label})",
            [
                "dlt",
                "--url",
                url,
                "--backend",
                "connectorx",
                "--duckdb",
                str(dlt_dir / "dlt.duckdb"),
                "--pipelines-dir",
                str(dlt_dir / "pipelines"),
                "--tables",
                "orders",
            ],
        )
        what = f"peer: dlt + connectorx, whole process ({label})"
        figures.append(_peer_figure(dlt, inside, what))
        copy, inside = _peer(
            world,
            f"peer: binary COPY ({label})",
            ["pg-copy", "--dsn", s.pg_dsn, "--tables", "shop.orders"],
        )
        figures.append(_peer_figure(copy, inside, f"peer: binary COPY, whole process ({label})"))
    return figures


def _peer_figure(measured: Measured, inside: dict[str, float], what: str) -> Figure:
    if not measured.ok or not inside:
        return Figure.missing(LANE, what, _reason(measured), kind="peer")
    note = f"{inside['seconds']:.1f} s inside its process (start-up excluded)"
    return Figure.of(LANE, what, measured, int(inside["rows"]), note=note, kind="peer")


def bulk_world(port_base: int = 6750) -> World:
    """The section's world: no S3 or Salesforce needed, only a database of its own."""
    return World("bulk", port_base)


def run(rows: int, keep: bool = False) -> list[Figure]:
    world = bulk_world()
    world.home.mkdir(parents=True, exist_ok=True)
    try:
        return measure(world, rows)
    finally:
        if not keep:
            drop_database(world.settings)
        shutil.rmtree(Path(world.home) / "bulk", ignore_errors=True)
