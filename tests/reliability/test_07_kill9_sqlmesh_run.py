"""Case 1 (transform): kill -9 of `sqlmesh run` at a seeded random point, then a rerun.

A prod environment is planned once on the lane-loaded world (the package's `sqlmesh_prod`). Per
trial the world advances one simulated hour, the shop lane loads it, `sqlmesh run` starts in a
process group of its own and SIGKILL hits the group at a seeded point inside the duration of the
latest clean hourly run (one clean hourly run comes first, so the first kill point is not drawn
from the initial full build); the rerun (same command) must succeed. A trial counts only if the
run was alive when the kill hit it, and at least one does. After every rerun the revenue ledger
holds exactly the source's paid orders, each with its sale, discount, shipping and tax amounts to
the cent, and no `entry_id` twice. After the last trial every mart equals a clean build: the raw
landing is copied into a new warehouse with no SQLMesh state, planned and run from scratch, and
each mart table's rows (as a multiset) and checksum are compared; rows missing count as lost,
rows in excess as duplicated. The marts rebuilt whole once a day are left out: an hourly run
never evaluates them, so they show the landing as of their last daily run.

The prod environment is planned before the bad-input case feeds a null `orders.channel` spike into
the world on purpose, and the blocking `not_null(channel)` audit then stops every prod run, as
it must. What a kill of the transform leaves behind is a different question, asked on clean data.
"""

from __future__ import annotations

import hashlib
import re
from collections import Counter
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import duckdb

from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_world.generator import advance

from .harness import (
    EXTRA_TRIALS,
    PLAN_SKIPS,
    TALLY,
    WORLD_START,
    RelWorld,
    Size,
    SqlmeshProd,
    record_kill,
)

CENT = Decimal("0.01")


def _ledger_diff(rel: RelWorld) -> tuple[int, int, int]:
    """(lost, extra, duplicated) of the revenue ledger's paid orders against the source, each
    order compared with its amounts: sales, discounts, shipping and tax, to the cent. An order
    whose amounts differ counts as lost and as extra."""
    with rel.warehouse() as wh:
        hwm_row = wh.execute(
            "SELECT max(high_water_mark) FROM raw_meta.load_log "
            "WHERE lane = 'shop' AND status = 'succeeded'"
        ).fetchone()
        dup_row = wh.execute(
            "SELECT count(*) - count(DISTINCT entry_id) FROM marts_finance.revenue_ledger"
        ).fetchone()
        ledger_orders = {
            _amounts(r)
            for r in wh.execute(
                "SELECT order_id, "
                "sum(amount) FILTER (WHERE entry_type = 'sale'), "
                "sum(amount) FILTER (WHERE entry_type = 'discount'), "
                "sum(amount) FILTER (WHERE entry_type = 'shipping'), "
                "sum(amount) FILTER (WHERE entry_type = 'tax') "
                "FROM marts_finance.revenue_ledger WHERE order_id IN "
                "(SELECT order_id FROM marts_finance.revenue_ledger WHERE entry_type = 'sale') "
                "GROUP BY order_id"
            ).fetchall()
        }
    assert hwm_row and hwm_row[0] and dup_row
    hwm: datetime = hwm_row[0].astimezone(UTC)
    # the ledger's hours run once the shop lane has landed past their end, counting the shop
    # heartbeat's one second of grace (signals/sources_landed.py): 10:59:59 lands up to 11:00
    cutoff = (hwm + timedelta(seconds=1)).replace(minute=0, second=0, microsecond=0)
    with rel.source() as pg:
        paid = {
            _amounts(r)
            for r in pg.execute(
                "SELECT o.order_id, sum(i.quantity * i.unit_price), -sum(i.discount_amount), "
                "min(o.shipping_amount), min(o.tax_amount) "
                "FROM shop.orders o JOIN shop.order_items i USING (order_id) "
                "WHERE o.paid_at >= %s AND o.paid_at < %s GROUP BY o.order_id",
                (WORLD_START, cutoff),
            ).fetchall()
        }
    assert paid, "no paid order in the source"
    return len(paid - ledger_orders), len(ledger_orders - paid), int(dup_row[0])


def _amounts(row: tuple[Any, ...]) -> tuple[Any, ...]:
    """(order_id, amounts...) with each amount to the cent (a missing entry type is 0)."""
    return (row[0], *(Decimal(v or 0).quantize(CENT) + 0 for v in row[1:]))


def _daily_full_refreshes() -> set[str]:
    """Marts rebuilt whole once a (wall-clock) day: an hourly `sqlmesh run` does not evaluate
    them, so no kill can touch them and they show the raw landing as of their last daily run,
    not as of the clean build. They are left out of the comparison."""
    out = set()
    for path in (PROJECT_ROOT / "models" / "marts").rglob("*.sql"):
        text = path.read_text(encoding="utf-8")
        name = re.search(r"^\s*name\s+([\w.]+)", text, re.M)
        if name and re.search(r"\bkind\s+FULL\b", text) and "cron '@daily'" in text:
            out.add(name.group(1))
    return out


def _mart_tables(con: duckdb.DuckDBPyConnection) -> list[str]:
    rows = con.execute(
        "SELECT table_schema, table_name FROM information_schema.tables "
        "WHERE table_schema LIKE 'marts\\_%' ESCAPE '\\' ORDER BY 1, 2"
    ).fetchall()
    return [f"{r[0]}.{r[1]}" for r in rows]


def _rows(con: duckdb.DuckDBPyConnection, table: str) -> Counter[str]:
    return Counter(repr(row) for row in con.execute(f"SELECT * FROM {table}").fetchall())


def _checksum(rows: Counter[str]) -> str:
    digest = hashlib.sha256()
    for line in sorted(rows.elements()):
        digest.update(line.encode())
    return digest.hexdigest()[:16]


def _clean_build(rel: RelWorld) -> Path:
    """The raw landing of the world copied into a new warehouse, built by SQLMesh from scratch."""
    home = rel.settings.home / "clean-build"
    home.mkdir(parents=True, exist_ok=True)
    clean = home / "warehouse.duckdb"
    with duckdb.connect(str(clean)) as con:
        con.execute(f"ATTACH '{rel.settings.warehouse}' AS landed (READ_ONLY)")
        tables = con.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_catalog = 'landed' AND table_schema LIKE 'raw\\_%' ESCAPE '\\' "
            "AND table_type = 'BASE TABLE'"
        ).fetchall()
        for schema, table in tables:
            con.execute(f'CREATE SCHEMA IF NOT EXISTS "{schema}"')
            con.execute(
                f'CREATE TABLE "{schema}"."{table}" AS SELECT * FROM landed."{schema}"."{table}"'
            )
        con.execute("DETACH landed")
    env = {"BRIGHTCART_HOME": str(home), "BRIGHTCART_WAREHOUSE": str(clean)}
    for args in (("plan", "--auto-apply", "--no-prompts", *PLAN_SKIPS), ("run",)):
        proc = rel.sqlmesh_popen(*args, env=env)
        assert proc.wait() == 0, (
            f"clean build `sqlmesh {' '.join(args)}`: {rel.output_tail(proc, 40)}"
        )
    return clean


def _compare_marts(rel: RelWorld, clean: Path) -> list[str]:
    """Each mart of the killed-and-rerun warehouse against the clean build; lines for the report."""
    problems: list[str] = []
    compared = 0
    daily = _daily_full_refreshes()
    with rel.warehouse() as wh, duckdb.connect(str(clean), read_only=True) as fresh:
        tables = _mart_tables(fresh)
        assert tables, "the clean build has no mart"
        assert _mart_tables(wh) == tables, "the killed warehouse has other marts than a clean build"
        assert daily and daily < set(tables), daily
        for table in [t for t in tables if t not in daily]:
            got, want = _rows(wh, table), _rows(fresh, table)
            compared += 1
            missing, extra = want - got, got - want
            TALLY.rows_lost += sum(missing.values())
            TALLY.rows_duplicated += sum(extra.values())
            if missing or extra:
                sample: list[Any] = sorted(missing)[:2] + sorted(extra)[:2]
                problems.append(
                    f"{table}: clean={sum(want.values())} rows ({_checksum(want)}) "
                    f"rerun={sum(got.values())} rows ({_checksum(got)}) missing={len(missing)} "
                    f"extra={len(extra)} sample={sample}"
                )
    TALLY.note(
        f"sqlmesh run after kill -9: {compared - len(problems)} of {compared} mart tables equal a "
        f"clean build ({len(daily)} daily full refreshes left out)"
    )
    return problems


def test_kill_9_sqlmesh_run_then_rerun_equals_a_clean_build(
    rel: RelWorld, size: Size, sqlmesh_prod: SqlmeshProd
) -> None:
    trials = size.trial_counts()["sqlmesh"]
    assert trials > 0
    lost, extra, dup = _ledger_diff(rel)
    assert (lost, extra, dup) == (0, 0, 0), "the ledger differs from the source before any kill"
    # One clean hourly run first: the kill points come from an hourly run's duration, not from
    # the initial full build's.
    advance(rel.settings, hours=1)
    shop = rel.lane("shop")
    assert shop.status == "succeeded", shop.error
    first = rel.sqlmesh_popen("run")
    assert rel.wait_clean("sqlmesh", first) == 0, rel.output_tail(first, 40)
    counted = trial = 0
    while trial < trials or (counted == 0 and trial < trials + EXTRA_TRIALS):
        trial += 1
        advance(rel.settings, hours=1)
        shop = rel.lane("shop")
        assert shop.status == "succeeded", shop.error
        delay = rel.kill_point("sqlmesh", early=trial > trials)
        outcome = rel.kill_at("sqlmesh run", rel.sqlmesh_popen("run"), delay)
        rerun = rel.sqlmesh_popen("run")
        assert rel.wait_clean("sqlmesh", rerun) == 0, rel.output_tail(rerun, 40)
        lost, extra, dup = _ledger_diff(rel)
        TALLY.rows_lost += lost
        TALLY.rows_duplicated += dup
        assert (lost, extra, dup) == (0, 0, 0), f"ledger after kill at {delay}s"
        counted += record_kill(outcome, trial)
    assert counted >= 1, f"none of {trial} `sqlmesh run` trials killed a running process"
    problems = _compare_marts(rel, _clean_build(rel))
    assert not problems, "marts differ from a clean build:\n" + "\n".join(problems)
