"""Attribution on a generated world is a function of the data alone.

Six days at a small scale are generated into the source PostgreSQL, S3 and the Salesforce
emulator, two refunds are added to orders of the first day (one inside the attribution window, one
days after it), and every lane lands through the real Meltano jobs. The part of the project that
marts_marketing.attribution reads is then built three ways, each on its own copy of the landed
warehouse: `plan prod` in one batch; `plan prod` up to the fifth day and then hourly `run`s; and
the first build with one day restated. The three attribution tables must be identical row for row,
and per UTC order day and rule the attributed revenue summed over channels must equal the orders'
window net revenue, computed here from the source PostgreSQL with this test's own SQL.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest
from project_copy import copy_project, upstream_files
from sqlmesh import Context

from brightcart_ops.lanes import run_lane
from brightcart_ops.registry import registry
from brightcart_world.generator import generate
from brightcart_world.settings import Settings

REPO = Path(__file__).resolve().parents[2]


def _hours(name: str) -> int:
    """A constant of macros/attribution.py, read without importing the file (an import would
    register its macros a second time, under another module, in this process)."""
    tree = ast.parse((REPO / "macros" / "attribution.py").read_text())
    for node in tree.body:
        if isinstance(node, ast.Assign) and any(
            isinstance(t, ast.Name) and t.id == name for t in node.targets
        ):
            return int(ast.literal_eval(node.value))
    raise AssertionError(f"macros/attribution.py defines no {name}")


ATTRIBUTION_WINDOW_HOURS = _hours("ATTRIBUTION_WINDOW_HOURS")
LEAD = timedelta(hours=_hours("ATTRIBUTION_LEAD_HOURS"))
MODEL = "marts_marketing.attribution"
RULES = ("first_touch", "last_touch", "linear", "position_based")
START = datetime(2026, 11, 1, tzinfo=UTC)
END = START + timedelta(days=6)
HOURLY_FROM = START + timedelta(days=4)  # the second build runs hourly from here to END
RESTATED = (date(2026, 11, 1), date(2026, 11, 2))  # the day the third build restates
WINDOW = timedelta(hours=ATTRIBUTION_WINDOW_HOURS)
# (refund id offset, hours after payment, amount): one refund inside the window, a chargeback
# five days after the payment (after the window, before the end of the world)
ADDED_REFUNDS = ((1, 2, Decimal("5.00")), (2, 5 * 24, Decimal("7.00")))


@dataclass
class World:
    settings: Settings
    project: Path
    landed: Path  # the warehouse with the raw landing tables only
    home: Path

    def build(self, name: str, patch: pytest.MonkeyPatch) -> Context:
        """A context on a fresh copy of the landed warehouse (state beside it)."""
        warehouse = self.home / name / "warehouse.duckdb"
        warehouse.parent.mkdir(parents=True)
        shutil.copy2(self.landed, warehouse)
        patch.setenv("BRIGHTCART_WAREHOUSE", str(warehouse))
        return Context(paths=str(self.project), gateway="local")


def add_refunds(settings: Settings) -> None:
    """Two refunds on paid orders placed on the first day (refund ids above the world's)."""
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:
        orders = conn.execute(
            "SELECT order_id, paid_at FROM shop.orders WHERE paid_at IS NOT NULL "
            "AND placed_at >= %s AND placed_at < %s ORDER BY order_id LIMIT %s",
            (START, START + timedelta(days=1), len(ADDED_REFUNDS)),
        ).fetchall()
        assert len(orders) == len(ADDED_REFUNDS), "the world has too few paid orders on day one"
        top = conn.execute("SELECT COALESCE(MAX(refund_id), 0) FROM shop.refunds").fetchone()
        assert top is not None
        for (order_id, paid_at), (offset, hours, amount) in zip(orders, ADDED_REFUNDS, strict=True):
            at = paid_at + timedelta(hours=hours)
            kind = "partial" if hours < 24 else "chargeback"
            # the source stamps updated_at with this setting (the world's clock), else now()
            conn.execute("SELECT set_config('brightcart.now', %s, false)", (at.isoformat(),))
            conn.execute(
                "INSERT INTO shop.refunds (refund_id, order_id, order_item_id, refund_type, "
                "amount, reason, refunded_at, created_at, updated_at) "
                "VALUES (%s, %s, NULL, %s, %s, 'damaged', %s, %s, %s)",
                (top[0] + offset, order_id, kind, amount, at, at, at),
            )


@pytest.fixture(scope="module")
def world(sources: Settings) -> Iterator[World]:
    """The session's sources (the Salesforce emulator serves their database), a warehouse and
    Meltano state of this module's own."""
    home = Path(tempfile.mkdtemp(prefix="attribution-", dir=sources.home))
    project = home / "project"
    landed = home / "landed" / "warehouse.duckdb"
    landed.parent.mkdir(parents=True)
    with pytest.MonkeyPatch.context() as patch:
        for name, value in {
            "BRIGHTCART_WAREHOUSE": str(landed),
            "MELTANO_DATABASE_URI": f"sqlite:///{home / 'meltano.db'}",
            "BRIGHTCART_WAREHOUSE_START": START.date().isoformat(),
            "BRIGHTCART_GATEWAY": "local",
            "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
        }.items():
            patch.setenv(name, value)
        for name in (
            "BRIGHTCART_PROMOTION_GATE",
            "BRIGHTCART_NOTIFY",
            "BRIGHTCART_ALERT_TOPIC_ARN",
        ):
            patch.delenv(name, raising=False)
        try:
            generate(sources, seed=11, start=START, end=END, scale=0.002)
            add_refunds(sources)
            for lane in registry().lanes.values():
                result = run_lane(sources, lane.job, "dev", attempts=2, backoff_seconds=2)
                assert result.status == "succeeded", (lane.job, result.error)
            copy_project(project, upstream_files(MODEL))
            yield World(sources, project, landed, home)
        finally:
            shutil.rmtree(home, ignore_errors=True)


def attribution_rows(context: Context) -> list[tuple[Any, ...]]:
    """Every row of the attribution table in a fixed order, every value as text."""
    rows = context.engine_adapter.fetchall(
        f"SELECT CAST(t AS VARCHAR) FROM {MODEL} AS t ORDER BY order_id, session_key"
    )
    return [tuple(row) for row in rows]


@dataclass
class Builds:
    one_batch: list[tuple[Any, ...]]
    hourly: list[tuple[Any, ...]]
    restated: list[tuple[Any, ...]]
    per_day: dict[str, dict[date, Decimal]]
    orders: list[tuple[int, datetime]]
    net_revenue: dict[int, Decimal]  # order net revenue (in the window) per attributed order


@pytest.fixture(scope="module")
def builds(world: World) -> Iterator[Builds]:
    with pytest.MonkeyPatch.context() as patch:
        first = world.build("one-batch", patch)
        try:
            first.plan("prod", auto_apply=True, no_prompts=True, execution_time=END)
            one_batch = attribution_rows(first)
            sums = ", ".join(f"SUM(revenue_{rule})" for rule in RULES)
            totals = first.engine_adapter.fetchall(
                f"SELECT CAST(order_completed_at AS DATE), {sums} FROM {MODEL} GROUP BY 1"
            )
            per_day = {
                rule: {row[0]: Decimal(row[i + 1]) for row in totals}
                for i, rule in enumerate(RULES)
            }
            orders = [
                (int(order_id), completed)
                for order_id, completed in first.engine_adapter.fetchall(
                    f"SELECT DISTINCT order_id, order_completed_at FROM {MODEL}"
                )
            ]
            net_revenue = {
                int(order_id): Decimal(amount)
                for order_id, amount in first.engine_adapter.fetchall(
                    f"SELECT DISTINCT order_id, order_net_revenue FROM {MODEL}"
                )
            }
            first.plan(
                "prod",
                restate_models=[MODEL],
                start=RESTATED[0].isoformat(),
                end=RESTATED[1].isoformat(),
                auto_apply=True,
                no_prompts=True,
                execution_time=END,
            )
            restated = attribution_rows(first)
        finally:
            first.close()

        second = world.build("hourly", patch)
        try:
            second.plan("prod", auto_apply=True, no_prompts=True, execution_time=HOURLY_FROM)
            hour = HOURLY_FROM
            while hour < END:
                hour += timedelta(hours=1)
                second.run("prod", execution_time=hour)
            hourly = attribution_rows(second)
        finally:
            second.close()
    yield Builds(one_batch, hourly, restated, per_day, orders, net_revenue)


def window_net_revenue(
    settings: Settings, orders: list[tuple[int, datetime]]
) -> dict[date, Decimal]:
    """Per UTC order day: net sales of the orders paid within the window (a day before to 72 hours
    after order_completed_at) minus their refunds and chargebacks booked within it, from the
    source PostgreSQL."""
    with psycopg.connect(settings.pg_dsn, autocommit=True) as conn:
        conn.execute("CREATE TEMP TABLE completed (order_id bigint, completed_at timestamptz)")
        with conn.cursor().copy("COPY completed FROM STDIN") as copy:
            for row in orders:
                copy.write_row(row)
        rows = conn.execute(
            """
            WITH sales AS (
              SELECT c.order_id, SUM(i.quantity * i.unit_price - i.discount_amount) AS amount
              FROM completed AS c
              JOIN shop.orders AS o ON o.order_id = c.order_id
              JOIN shop.order_items AS i ON i.order_id = c.order_id
              WHERE o.paid_at >= c.completed_at - %(lead)s
                AND o.paid_at < c.completed_at + %(window)s
              GROUP BY c.order_id
            ), refunds AS (
              SELECT c.order_id, SUM(r.amount) AS amount
              FROM completed AS c
              JOIN shop.refunds AS r ON r.order_id = c.order_id
              WHERE r.refunded_at >= c.completed_at - %(lead)s
                AND r.refunded_at < c.completed_at + %(window)s
              GROUP BY c.order_id
            )
            SELECT (c.completed_at AT TIME ZONE 'UTC')::date,
                   SUM(COALESCE(s.amount, 0) - COALESCE(r.amount, 0))
            FROM completed AS c
            LEFT JOIN sales AS s ON s.order_id = c.order_id
            LEFT JOIN refunds AS r ON r.order_id = c.order_id
            GROUP BY 1
            """,
            {"window": WINDOW, "lead": LEAD},
        ).fetchall()
    return {day: Decimal(total) for day, total in rows}


@pytest.mark.full
def test_attribution_sums_to_the_orders_window_net_revenue_every_day(
    world: World, builds: Builds
) -> None:
    expected = window_net_revenue(world.settings, builds.orders)
    assert len(expected) >= 5, expected  # orders on (nearly) every day of the world
    for rule in RULES:
        assert builds.per_day[rule] == expected, rule


@pytest.mark.full
def test_added_refunds_count_inside_the_window_only(world: World, builds: Builds) -> None:
    """The refund two hours after payment is netted; the chargeback five days after is not."""
    with psycopg.connect(world.settings.pg_dsn, autocommit=True) as conn:
        added = conn.execute(
            "SELECT r.order_id, r.amount, r.refunded_at - o.paid_at, "
            "(SELECT SUM(i.quantity * i.unit_price - i.discount_amount) FROM shop.order_items AS i "
            " WHERE i.order_id = r.order_id) "
            "FROM shop.refunds AS r JOIN shop.orders AS o ON o.order_id = r.order_id "
            "WHERE r.reason = 'damaged' AND r.refunded_at - o.paid_at IN (%s, %s) ORDER BY 3",
            [timedelta(hours=hours) for _, hours, _ in ADDED_REFUNDS],
        ).fetchall()
    assert [(amount, lag) for _, amount, lag, _ in added] == [
        (amount, timedelta(hours=hours)) for _, hours, amount in ADDED_REFUNDS
    ]
    (inside, refund, _, inside_sales), (after, _, _, after_sales) = added
    assert builds.net_revenue[inside] == inside_sales - refund
    assert builds.net_revenue[after] == after_sales


@pytest.mark.full
def test_one_batch_hourly_runs_and_a_restated_day_give_identical_tables(builds: Builds) -> None:
    assert builds.one_batch, "nothing was attributed"
    assert builds.hourly == builds.one_batch
    assert builds.restated == builds.one_batch


def test_every_touch_recomputation_and_every_late_booking_recomputes_the_order() -> None:
    """An order's attribution is recomputed whole whenever its inputs can change: the model is
    keyed by (order_id, session_key), its lookback covers the hours touchpoints recomputes, and
    its interval reads the ledger by booking time (money the warehouse learns late, of any age)."""
    context = Context(paths=str(REPO))
    try:
        model = context.get_model(MODEL)
        touchpoints = context.get_model("marts_marketing.touchpoints")
        assert model.interval_unit is not None and model.interval_unit.value == "hour"
        assert model.kind.is_incremental_by_unique_key
        assert [key.name for key in model.unique_key] == ["order_id", "session_key"]
        assert model.lookback >= touchpoints.lookback
        assert model.interval_unit == touchpoints.interval_unit
        rendered = context.render(MODEL, start="2026-11-02", end="2026-11-02").sql()
        booked = '"revenue_ledger"."booked_at" >= CAST(\'2026-11-02 00:00:00+00:00\''
        assert booked in rendered, "the interval does not read the ledger by booking time"
    finally:
        context.close()
