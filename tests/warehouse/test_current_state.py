"""Current-state models merge only the keys that changed, and end equal to a full rebuild.

marts_orders.orders, marts_orders.order_items and the six stg_crm__* models are
INCREMENTAL_BY_UNIQUE_KEY: an hourly run recomputes the keys with a version known since its
interval's start (and, for order lines, the lines of a changed order, product or seller) and
removes keys whose latest version is a deletion. The revenue marts downstream of the ledger
(revenue_lines, revenue_daily, revenue_hourly, refund_rates) rebuild only the lines, days and hours
that the hour's bookings touched. Here an hour brings an old order's new status, an order's
deletion, a line's deletion, an old order's new shipping country, a seller's new commission rate
and Salesforce accounts created, changed and deleted; after the hourly runs the tables hold what
the raw logs and the whole ledger say (computed apart from the models) and what a full rebuild
gives, row for row.
"""

from __future__ import annotations

from datetime import date
from decimal import Decimal

from sqlmesh import Context
from sqlmesh.core.macros import RuntimeStage

from . import project, raw_fixture
from .conftest import Built

CURRENT_STATE = [
    "marts_orders.orders",
    "marts_orders.order_items",
    "staging.stg_crm__accounts",
    "marts_finance.revenue_lines",
    "marts_finance.revenue_daily",
    "marts_finance.revenue_hourly",
    "marts_refunds.refund_rates",
]

# Written apart from the models: net revenue (sales, discounts, refunds, chargebacks) and
# commission per business day, summed over every ledger entry (reversals carry the opposite sign).
LEDGER_BY_DAY = """
SELECT DATE_TRUNC('DAY', entry_at)::DATE,
       COALESCE(SUM(amount) FILTER (
         WHERE entry_type IN ('sale', 'discount', 'refund', 'chargeback')), 0),
       COALESCE(SUM(amount) FILTER (WHERE entry_type = 'commission'), 0)
FROM marts_finance.revenue_ledger GROUP BY 1 ORDER BY 1
"""
MARTS_BY_DAY = """
SELECT {day}, SUM(net_revenue), SUM(commission_revenue)
FROM marts_finance.{table} GROUP BY 1 ORDER BY 1
"""


def _days_with_money(rows: list[tuple]) -> dict:
    return {day: (net, commission) for day, net, commission in rows if net or commission}


# Written apart from the models: the latest version per key via MAX over (updated_at, sequence).
INDEPENDENT_ORDERS = """
WITH o AS (
  SELECT * FROM raw_shop.orders AS r
  WHERE (updated_at, _sdc_sequence) = (
    SELECT (updated_at, _sdc_sequence) FROM raw_shop.orders AS x WHERE x.order_id = r.order_id
    ORDER BY updated_at DESC, _sdc_sequence DESC LIMIT 1)
), i AS (
  SELECT * FROM raw_shop.order_items AS r
  WHERE (updated_at, _sdc_sequence) = (
    SELECT (updated_at, _sdc_sequence) FROM raw_shop.order_items AS x
    WHERE x.order_item_id = r.order_item_id
    ORDER BY updated_at DESC, _sdc_sequence DESC LIMIT 1)
    AND _sdc_deleted_at IS NULL
)
SELECT o.order_id, o.status, COUNT(i.order_item_id),
       CAST(COALESCE(SUM(i.quantity * i.unit_price - i.discount_amount), 0)
            + o.shipping_amount + o.tax_amount AS DECIMAL(12, 2))
FROM o LEFT JOIN i ON i.order_id = o.order_id
WHERE o._sdc_deleted_at IS NULL
GROUP BY o.order_id, o.status, o.shipping_amount, o.tax_amount
ORDER BY 1
"""


def _new_version(table: str, key: str, value: int, changes: dict[str, str], sequence: int) -> str:
    """A new version of the latest landed row of `table` where `key` = `value`."""
    replaced = ", ".join(f"{expression} AS {column}" for column, expression in changes.items())
    return (
        f"INSERT INTO {table} SELECT * REPLACE ({replaced}, {sequence} AS _sdc_sequence, "
        f"'later' AS _load_id) FROM {table} WHERE {key} = {value} "
        "ORDER BY updated_at DESC, _sdc_sequence DESC LIMIT 1"
    )


def _account(account_id: str, name: str, seller_id: int, stamp: str, deleted: bool = False) -> str:
    (statement,) = raw_fixture.insert_statements(
        "raw_crm.account",
        [
            {
                "id": account_id,
                "isdeleted": deleted,
                "name": name,
                "type": "Seller",
                "billingcountry": "US",
                "seller_id__c": seller_id,
                "createddate": "2024-11-04 00:30:00+00",
                "lastmodifieddate": stamp,
                "systemmodstamp": stamp,
                "_sdc_extracted_at": stamp,
                "_loaded_at": stamp,
            }
        ],
        load_id="later",
    )
    return statement


def _landed(context: Context, lane: str, mark: str, load_id: str) -> None:
    context.engine_adapter.execute(raw_fixture.load_log_statement(lane, mark, load_id=load_id))


def test_an_hourly_run_merges_changed_keys_and_equals_a_full_rebuild(built: Built) -> None:
    context = built.context
    at = "TIMESTAMPTZ '2024-11-04 01:{:02d}:00+00'"
    for statement in [
        # an order of 2024-11-01 ships: its row changes in place, days after it was paid
        _new_version(
            "raw_shop.orders",
            "order_id",
            1002,
            {"status": "'shipped'", "shipped_at": at.format(10), "updated_at": at.format(10)},
            9001,
        ),
        # a cancelled order is hard-deleted with its line (deletion versions, as LOG_BASED lands
        # them; the shop's foreign key cascades, and the order lines view audits it)
        _new_version("raw_shop.orders", "order_id", 1004, {"_sdc_deleted_at": at.format(20)}, 9002),
        _new_version(
            "raw_shop.order_items", "order_item_id", 5005, {"_sdc_deleted_at": at.format(20)}, 9006
        ),
        # seller 20's commission rate changes: every line of that seller has a new commission
        _new_version(
            "raw_shop.sellers",
            "seller_id",
            20,
            {"commission_rate": "0.25", "updated_at": at.format(30)},
            9003,
        ),
        # order 1005 is re-addressed to France days after payment: its money moves to another slice
        # of its old business day (a reversal and a new entry per line, booked in this hour)
        _new_version(
            "raw_shop.orders",
            "order_id",
            1005,
            {"shipping_country": "'FR'", "updated_at": at.format(50)},
            9005,
        ),
        # order 1003 loses its only line
        _new_version(
            "raw_shop.order_items", "order_item_id", 5004, {"_sdc_deleted_at": at.format(40)}, 9004
        ),
        _account("001A", "Ada Goods", 10, "2024-11-04 01:05:00+00"),
        _account("001B", "Bolt Toys", 20, "2024-11-04 01:06:00+00"),
    ]:
        context.engine_adapter.execute(statement)
    _landed(context, "shop", "2024-11-04 02:00:00+00", "later-shop")
    _landed(context, "crm", "2024-11-04 02:00:00+00", "later-crm")
    built.run()

    assert built.rows(
        "SELECT order_id, status, item_count, order_total FROM marts_orders.orders ORDER BY 1"
    ) == [
        (1001, "delivered", 2, Decimal("94.00")),
        (1002, "shipped", 1, Decimal("80.00")),
        (1003, "paid", 0, Decimal("4.00")),
        (1005, "paid", 1, Decimal("100.00")),
    ]
    assert [(r[0], r[1], r[2], r[3]) for r in built.rows(INDEPENDENT_ORDERS)] == built.rows(
        "SELECT order_id, status, item_count, order_total FROM marts_orders.orders ORDER BY 1"
    )
    assert built.rows(
        "SELECT order_item_id, commission_rate, commission_amount, order_status "
        "FROM marts_orders.order_items ORDER BY 1"
    ) == [
        (5001, Decimal("0.1000"), Decimal("3.60"), "delivered"),
        (5002, Decimal("0.2500"), Decimal("12.50"), "delivered"),
        (5003, Decimal("0.2500"), Decimal("20.00"), "shipped"),
        (5006, Decimal("0.2500"), Decimal("25.00"), "paid"),
    ]
    # 2024-11-01 by hand: order 1003's 20.00 line is gone, order 1005's 100.00 (commission at the
    # rate known when it was re-addressed, 0.25) moved from US to FR; no US slice is left behind
    assert built.rows(
        "SELECT revenue_date, country, net_revenue, commission_revenue "
        "FROM marts_finance.revenue_daily WHERE revenue_date = DATE '2024-11-01'"
    ) == [(date(2024, 11, 1), "FR", Decimal("100.00"), Decimal("25.00"))]
    # the revenue marts rebuilt only the days and hours the hour's entries touched, and hold what
    # the whole ledger says for every day
    ledger = _days_with_money(built.rows(LEDGER_BY_DAY))
    for table, day in (
        ("revenue_daily", "revenue_date"),
        ("revenue_hourly", "DATE_TRUNC('DAY', revenue_hour)::DATE"),
    ):
        assert _days_with_money(built.rows(MARTS_BY_DAY.format(table=table, day=day))) == ledger

    # the next hour: one account renamed, the other deleted in Salesforce
    context.engine_adapter.execute(_account("001A", "Ada Goods Ltd", 10, "2024-11-04 02:10:00+00"))
    context.engine_adapter.execute(
        _account("001B", "Bolt Toys", 20, "2024-11-04 02:20:00+00", deleted=True)
    )
    _landed(context, "crm", "2024-11-04 03:00:00+00", "later-crm-2")
    built.run()
    assert built.rows("SELECT account_id, account_name FROM staging.stg_crm__accounts") == [
        ("001A", "Ada Goods Ltd")
    ]

    merged = {name: built.checksum(name) for name in CURRENT_STATE}
    plan = context.plan(restate_models=CURRENT_STATE, auto_apply=True, no_prompts=True)
    restated = {s.name.replace('"', "").split(".", 1)[-1] for s in plan.restatements}
    assert set(CURRENT_STATE) <= restated
    assert {name: built.checksum(name) for name in CURRENT_STATE} == merged


def test_a_metadata_change_plans_without_touching_the_merged_tables(built: Built) -> None:
    """A merged table is kept across a metadata-only change, so its physical column types must be
    the ones SQLMesh declares for the model; a type DuckDB widens (SUM to HUGEINT, COALESCE of a
    DECIMAL(5,4) and 0 to DECIMAL(14,4)) made such a plan stop on a destructive schema change."""
    before = {name: built.checksum(name) for name in CURRENT_STATE}
    owners = {
        "orders/orders": ("operations_data", "finance_data"),
        "orders/order_items": ("operations_data", "finance_data"),
        "finance/revenue_lines": ("finance_data", "operations_data"),
        "finance/revenue_daily": ("finance_data", "operations_data"),
        "finance/revenue_hourly": ("finance_data", "operations_data"),
        "refunds/refund_rates": ("finance_data", "operations_data"),
    }
    for path, (old, new) in owners.items():
        model = built.project / "models" / "marts" / f"{path}.sql"
        text = model.read_text(encoding="utf-8")
        assert f"owner {old}" in text
        model.write_text(text.replace(f"owner {old}", f"owner {new}"), "utf-8")
    context = project.context(built.project)
    try:
        plan = context.plan(auto_apply=True, no_prompts=True)
        modified = plan.context_diff.modified_snapshots
        changed = {name.replace('"', "").split(".", 1)[-1] for name in modified}
        assert set(CURRENT_STATE) - {"staging.stg_crm__accounts"} <= changed
        assert not plan.missing_intervals  # metadata only: nothing rebuilt
        assert {name: built.checksum(name) for name in CURRENT_STATE} == before
    finally:
        context.close()


def test_the_keys_of_a_run_as_values_select_what_the_subquery_selects(built: Built) -> None:
    """When a current-state model is evaluated, @in_keys writes the changed keys into its filter
    as values (so DuckDB ranks those keys' versions only); the rows are the ones the subquery form,
    rendered at every other stage, selects."""
    adapter = built.context.engine_adapter
    start, end = "2024-11-04 00:00:00", "2024-11-04 03:00:00"
    for name in ("marts_orders.orders", "marts_orders.order_items"):
        model = built.context.get_model(name)
        as_values = model.render_query(
            start=start, end=end, runtime_stage=RuntimeStage.EVALUATING, engine_adapter=adapter
        )
        as_subquery = model.render_query(start=start, end=end)
        assert as_values is not None and as_subquery is not None
        values_sql, subquery_sql = as_values.sql("duckdb"), as_subquery.sql("duckdb")
        assert values_sql.count(" IN (SELECT") < subquery_sql.count(" IN (SELECT"), name
        selected = sorted(map(str, adapter.fetchall(values_sql)))
        assert selected, f"{name}: no key changed in the interval"
        assert selected == sorted(map(str, adapter.fetchall(subquery_sql))), name
