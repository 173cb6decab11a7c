"""Repairs of reconciliation drift: tombstones, a narrowed re-extract, a restatement.

1. Keys the warehouse still shows for a day but the source no longer has at all get a tombstone
   version (`_sdc_deleted_at` set) appended to their raw table; staging drops them.
2. The finance-full-extract job re-reads exactly the affected streams and days (tap-postgres
   `custom_where_clauses` on the day column, through Meltano environment overrides); the loader
   appends versions it does not hold yet.
3. The staging models of the affected entities are restated in prod for the affected days, and
   the finance ledger from the oldest of them through today; SQLMesh restates everything
   downstream of them for that window.
4. A finance mart that differs from the source is restated in prod from its oldest wrong business
   day through today (finance_restatements: which models, which range).

The ledger is processed by booking time (docs/warehouse.md, "The time model"): the entries of a
business day are booked on that day or on any day after it, when a change to its money became
known. Repairing business day D therefore restates the ledger's booking intervals from D through
today, whatever D's age; restating only D would leave out every correction booked later.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime
from pathlib import Path

import psycopg

from brightcart_ops import reconcile_sql as q
from brightcart_ops.meltano_window import postgres_window, range_clause
from brightcart_ops.opslog import business_now, utcnow
from brightcart_ops.registry import registry
from brightcart_ops.restate import restate
from brightcart_ops.runner import Window, run_window
from brightcart_ops.settings import Settings
from brightcart_ops.warehouse import Warehouse

FINANCE_JOB = "finance-full-extract"
LEDGER = "marts_finance.revenue_ledger"
# The source entities whose versions the ledger books (a re-extracted version of one of them may
# be dated at any earlier hour, so the ledger is restated with their staging).
LEDGER_ENTITIES = frozenset({"orders", "order_items", "refunds"})


@dataclass
class RepairPlan:
    days: dict[str, set[date]] = field(default_factory=dict)  # entity -> mismatched days
    gone: dict[str, list[int]] = field(default_factory=dict)  # entity -> keys deleted at source
    marts: dict[str, set[date]] = field(default_factory=dict)  # finance mart -> mismatched days

    def add(self, entity: str, day: date) -> None:
        if entity in q.MARTS:
            self.marts.setdefault(entity, set()).add(day)
        else:
            self.days.setdefault(entity, set()).add(day)


@dataclass(frozen=True)
class Restatement:
    models: tuple[str, ...]  # restated in prod; SQLMesh restates their downstream too
    first_day: date  # the range, inclusive, as `sqlmesh plan --start/--end` read dates
    last_day: date


def business_today() -> date:
    """Today on the business clock (a local world's own day, else the wall clock's), UTC."""
    return business_now().astimezone(UTC).date()


def finance_restatements(marts: dict[str, set[date]], through: date) -> list[Restatement]:
    """Which models to restate over which days so the finance marts are rebuilt for the given
    business days: one restatement from the oldest wrong day through `through` (today).

    revenue_daily and executive_daily are rebuilt from the ledger (restating it restates both,
    whichever of the two is wrong); the refunds mart reads staging and is restated itself. The
    ledger's intervals are booking time, and money of business day D may be booked on any later
    day, so the range runs from D to today rather than over D alone.
    """
    own = {
        "marts_finance.revenue_daily": LEDGER,
        "bi.executive_daily": LEDGER,
        "marts_refunds.refunds": "marts_refunds.refunds",
    }
    models = tuple(sorted({own[mart] for mart in marts}))
    days = sorted({d for ds in marts.values() for d in ds})
    if not days:
        return []
    return [Restatement(models, days[0], max(days[0], through))]


def restate_finance(
    settings: Settings,
    marts: dict[str, set[date]],
    environment: str,
    project: Path | None = None,
) -> None:
    for run in finance_restatements(marts, business_today()):
        restate(settings, run.models, run.first_day, run.last_day, environment, project)


def gone_from_source(settings: Settings, entity: str, keys: list[int]) -> list[int]:
    """The keys no longer at the source at all (not merely moved to another day)."""
    if not keys:
        return []
    spec = q.ENTITIES[entity]
    with psycopg.connect(settings.pg_dsn, autocommit=True) as con:
        present = {int(str(r[0])) for r in con.execute(q.source_existing(spec), (keys,))}
    return sorted(set(keys) - present)


def write_tombstones(warehouse: Warehouse, entity: str, keys: list[int], run_id: str) -> int:
    """Append a deleted version for each key; returns the rows written."""
    if not keys:
        return 0
    spec = q.ENTITIES[entity]
    columns = [
        str(r[0])
        for r in warehouse.query(
            "SELECT column_name FROM information_schema.columns WHERE table_schema = ? "
            "AND table_name = ? ORDER BY ordinal_position",
            ("raw_shop", entity),
        )
    ]
    missing = {"_sdc_deleted_at", "_sdc_sequence", "_load_id", "_loaded_at"} - set(columns)
    if missing:
        raise RuntimeError(
            f"raw_shop.{entity} lacks {sorted(missing)}: it was not written by target-redshift; "
            "reload it with the shop lane before reconciling"
        )
    # the deletion became known now on the business clock: the ledger books its reversal there
    deleted_at = business_now()
    before = warehouse.query(f"SELECT count(*) FROM raw_shop.{entity}")[0][0]
    warehouse.execute(
        q.tombstones(spec, keys, columns),
        (deleted_at, time.time_ns() // 1_000_000, f"reconcile:{run_id}", utcnow()),
    )
    after = warehouse.query(f"SELECT count(*) FROM raw_shop.{entity}")[0][0]
    return int(after) - int(before)


def finance_window_env(days: dict[str, set[date]]) -> dict[str, str]:
    """Overrides narrowing finance-full-extract to the entities' streams and days."""
    clauses = {
        entity: range_clause(q.ENTITIES[entity].day_column, [q.day_bounds(d) for d in sorted(ds)])
        for entity, ds in sorted(days.items())
    }
    known = registry()
    job = known.job(FINANCE_JOB)
    assert job.lane is not None, f"{FINANCE_JOB} runs in a lane's task"
    return postgres_window(job.plugins[0], known.lane(job.lane), clauses)


def reextract(
    settings: Settings, days: dict[str, set[date]], run_id: str, environment: str
) -> None:
    run_window(
        settings,
        FINANCE_JOB,
        Window(f"reconcile-{run_id[:8]}", env=finance_window_env(days)),
        environment,
    )


def restate_entities(
    settings: Settings,
    entities: Iterable[str],
    days: Iterable[date],
    environment: str,
    project: Path | None = None,
) -> None:
    """Restate the entities' staging for the days; with the ledger, from the first through today
    (one plan)."""
    chosen_entities = set(entities)
    models = {q.ENTITIES[e].staging_model for e in chosen_entities}
    chosen = sorted(days)
    last = chosen[-1]
    if chosen_entities & LEDGER_ENTITIES:
        models.add(LEDGER)
        last = max(last, business_today())
    restate(settings, sorted(models), chosen[0], last, environment, project)


def window_of(days: Iterable[date]) -> tuple[datetime, datetime]:
    chosen = sorted(days)
    return q.day_bounds(chosen[0])[0], q.day_bounds(chosen[-1])[1]
