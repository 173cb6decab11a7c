"""A backfill of a window leaves every mart identical to a clean run, for every source at once.

A world from 2026-10-31 22:00 to 2026-11-03 00:00 is landed by the four real lanes and planned in
prod; the window is 2026-11-01, so every source has rows before it (the seeded entities, the last
hours of 2026-10-31, its spend file) and after it (2026-11-02). The window's rows are removed from
the raw landing tables (lost loads), the window is restated and the marts differ; `backfill all`
receives exactly the window's rows of every source and restates, and every mart and BI view
equals the clean checksums; a second backfill lands nothing and changes nothing.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime

import duckdb
import pytest
from conftest import LoadedWorld

from brightcart_ops.backfill import backfill, sources
from brightcart_ops.registry import registry
from brightcart_ops.restate import restate
from brightcart_ops.transform import run_sqlmesh
from brightcart_world.generator import generate
from brightcart_world.settings import Settings

WORLD = (datetime(2026, 10, 31, 22, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
START, END = date(2026, 11, 1), date(2026, 11, 2)  # the window, END exclusive

# Each source's landing tables and the value each source's backfill is bounded on, with the
# window's bounds in that value's terms: (expression, first value in, first value after).
DAYS = (f"'{START}'", f"'{END}'")
BOUNDS: dict[str, dict[str, tuple[str, str, str]]] = {
    "shop": {f"raw_shop.{t}": ("updated_at", *DAYS) for t in registry().lane("shop").tables},
    "events": {  # the hourly partition the object landed in
        f"raw_events.{t}": ("s3_key", f"'events/dt={START}/'", f"'events/dt={END}/'")
        for t in ("events", "events_quarantine")
    },
    "marketing": {"raw_marketing.ad_spend": ("CAST(date AS DATE)", *DAYS)},
    "crm": {
        f"raw_crm.{t}": ("systemmodstamp", *DAYS)
        for t in ("account", "contact", "lead", "campaign", "campaignmember", "opportunity")
    },
}
# Restated after the loss: the staging models of these sources and their downstream. A partial
# order stops a restate at staging's blocking audits, as it should (an item of 2026-10-31 whose
# order was paid on 2026-11-01, a ledger without its payments), so the shop's loss shows in the
# final comparison only: there the backfill's restate covers the shop too.
DAMAGED = ("events", "marketing", "crm")


@dataclass
class Planned:
    world: LoadedWorld

    @property
    def settings(self) -> Settings:
        return self.world.settings

    def warehouse(self, read_only: bool = True) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.warehouse), read_only=read_only)


@pytest.fixture(scope="module")
def planned(sources: Settings) -> Iterator[Planned]:
    """The world landed by every lane into a warehouse of its own and planned in prod."""
    own = sources.home / "backfill_all_sources"
    own.mkdir(parents=True, exist_ok=True)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTCART_WAREHOUSE", str(own / "warehouse.duckdb"))
        patch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{own / 'meltano.db'}")
        patch.setenv("BRIGHTCART_WAREHOUSE_START", WORLD[0].date().isoformat())
        generate(sources, seed=11, start=WORLD[0], end=WORLD[1], scale=0.002)
        world = LoadedWorld(sources)
        for lane, result in world.run_all().items():
            assert result.status == "succeeded", (lane, result.error)
        plan = run_sqlmesh(sources, ["plan", "prod", "--auto-apply", "--no-prompts"], job="plan")
        assert plan.exit_code == 0, plan.output_tail
        yield Planned(world)


def mart_checksums(planned: Planned) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash over all columns of every mart and BI view."""
    with planned.warehouse() as wh:
        relations = wh.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema LIKE 'marts\\_%' ESCAPE '\\' OR table_schema = 'bi' "
            "ORDER BY 1, 2"
        ).fetchall()
        sums = {}
        for schema, name in relations:
            row = wh.execute(
                f'SELECT count(*), coalesce(sum(hash(t)::HUGEINT), 0) FROM "{schema}"."{name}" t'
            ).fetchone()
            assert row is not None
            sums[f"{schema}.{name}"] = (int(row[0]), int(row[1]))
    return sums


def window_rows(planned: Planned) -> dict[str, tuple[int, int, int]]:
    """Per source: raw rows before the window, in it, and after it."""
    counts = {}
    with planned.warehouse() as wh:
        for source, tables in BOUNDS.items():
            sides = [0, 0, 0]
            for table, (value, first, after) in tables.items():
                row = wh.execute(
                    f"SELECT count(*) FILTER (WHERE {value} < {first}), "
                    f"count(*) FILTER (WHERE {value} >= {first} AND {value} < {after}), "
                    f"count(*) FILTER (WHERE {value} >= {after}) FROM {table}"
                ).fetchone()
                assert row is not None
                sides = [total + int(n) for total, n in zip(sides, row, strict=True)]
            counts[source] = (sides[0], sides[1], sides[2])
    return counts


def landed_since(planned: Planned, since: datetime) -> dict[str, tuple[int, int]]:
    """Per lane: (rows_received, rows_inserted) of the loads that started after `since`."""
    with planned.warehouse() as wh:
        rows = wh.execute(
            "SELECT lane, sum(rows_received), sum(rows_inserted) FROM raw_meta.load_log "
            "WHERE started_at >= ? GROUP BY lane",
            [since],
        ).fetchall()
    return {str(lane): (int(got), int(new)) for lane, got, new in rows}


def lane_states(planned: Planned) -> dict[str, str]:
    path = planned.settings.warehouse.parent / "meltano.db"
    with sqlite3.connect(path) as con:
        rows = con.execute("SELECT state_id, partial_state, completed_state FROM state").fetchall()
    return {str(r[0]): f"{r[1]}|{r[2]}" for r in rows}


def lose_the_window(planned: Planned) -> dict[str, int]:
    """Delete the window's rows from the raw landing tables; rows deleted per source."""
    lost = {}
    with planned.warehouse(read_only=False) as wh:
        for source, tables in BOUNDS.items():
            lost[source] = 0
            for table, (value, first, after) in tables.items():
                row = wh.execute(
                    f"DELETE FROM {table} WHERE {value} >= {first} AND {value} < {after}"
                ).fetchone()
                lost[source] += int(row[0]) if row else 0
    return lost


@pytest.mark.full
def test_backfill_of_every_source_leaves_every_mart_identical_to_a_clean_run(
    planned: Planned,
) -> None:
    clean = mart_checksums(planned)
    schemas = {name.split(".")[0] for name in clean}
    assert {"marts_finance", "marts_orders", "marts_customers", "marts_marketing", "bi"} <= schemas
    assert sum(count for count, _ in clean.values()) > 0
    window = window_rows(planned)
    for source, sides in window.items():
        assert all(sides), (source, sides)  # rows before, in and after the window
    hourly_states = {k: v for k, v in lane_states(planned).items() if "backfill" not in k}

    # Lost loads: the marts computed from what is left differ from the clean run.
    lost = lose_the_window(planned)
    assert all(lost.values()), lost
    restate(
        planned.settings,
        [model for source in DAMAGED for model in sources()[source].models],
        START,
        START,
    )
    damaged = mart_checksums(planned)
    assert damaged != clean
    differing = {name for name in clean if damaged.get(name) != clean[name]}
    assert {"marts_marketing.sessions", "marts_marketing.attribution"} <= differing, differing

    # The backfill re-extracts exactly the window's rows of every source, and only those.
    since = datetime.now(UTC)
    first = backfill(planned.settings, "all", START, END)
    landed = landed_since(planned, since)
    for source, (_before, inside, _after) in window.items():
        received, inserted = landed[source]
        assert received == inside, (source, received, inside)
        assert inserted == lost[source] == first.inserted_by_source[source], source
    assert first.rows_inserted == sum(lost.values())
    assert window_rows(planned) == window
    assert mart_checksums(planned) == clean

    # Again: nothing new lands and every mart stays identical.
    since = datetime.now(UTC)
    second = backfill(planned.settings, "all", START, END)
    assert second.rows_inserted == 0
    assert {lane: got for lane, (got, _new) in landed_since(planned, since).items()} == {
        source: inside for source, (_before, inside, _after) in window.items()
    }
    assert mart_checksums(planned) == clean

    # The hourly lanes' bookmarks are untouched; the backfills kept state ids of their own.
    states = lane_states(planned)
    assert {k: v for k, v in states.items() if "backfill" not in k} == hourly_states
    assert sum("backfill" in k for k in states) == len(sources())
