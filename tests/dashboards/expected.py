"""The headline figures of every dashboard, computed straight from the warehouse's mart tables.

Written independently of the bi views and of the dashboard code: each figure is the SQL a
finance or marketing analyst would write against the ledger, sessions and attribution facts for
one period [start, end). Keyed by (dashboard, tile label), as the page labels its tiles.
"""

from __future__ import annotations

from datetime import datetime

import duckdb

LEDGER = "marts_finance.revenue_ledger"
IN_WINDOW = "entry_at >= $start AND entry_at < $end"
SALES = "entry_type IN ('sale', 'discount')"
MOVES = "entry_type IN ('sale', 'discount', 'refund', 'chargeback')"
BACK = "entry_type IN ('refund', 'chargeback')"


def _ledger(expression: str, extra: str = "") -> str:
    return f"SELECT {expression} FROM {LEDGER} WHERE {IN_WINDOW} {extra}"


GMV = "SUM(CASE WHEN entry_type = 'sale' THEN amount END)"
NET_REVENUE = f"SUM(CASE WHEN {MOVES} THEN amount END)"
ORDERS = "COUNT(DISTINCT CASE WHEN entry_type = 'sale' THEN order_id END)"
NET_SALES = f"SUM(CASE WHEN {SALES} THEN amount END)"
REFUNDS = f"-SUM(CASE WHEN {BACK} THEN amount ELSE 0 END)"

COHORT = (
    "SELECT customer_id FROM marts_customers.customers WHERE cohort_month = CAST($start AS DATE)"
)

SQL: dict[tuple[str, str], str] = {
    ("executive", "GMV"): _ledger(GMV),
    ("executive", "Net revenue"): _ledger(NET_REVENUE),
    ("executive", "Orders"): _ledger(ORDERS),
    ("executive", "Average order value"): _ledger(f"{NET_SALES} / NULLIF({ORDERS}, 0)"),
    ("executive", "Refund rate"): _ledger(f"({REFUNDS}) / NULLIF({NET_SALES}, 0)"),
    ("executive", "New customers"): (
        "SELECT COUNT(*) FROM marts_customers.customers "
        "WHERE first_order_at >= $start AND first_order_at < $end"
    ),
    ("operations", "Orders"): _ledger(ORDERS),
    ("operations", "GMV"): _ledger(GMV),
    ("operations", "Net revenue"): _ledger(NET_REVENUE),
    ("operations", "Refunds"): _ledger(REFUNDS),
    ("operations", "Average order value"): _ledger(f"{NET_SALES} / NULLIF({ORDERS}, 0)"),
    **{
        ("marketing_attribution", f"Net revenue, {label}"): (
            f"SELECT SUM(revenue_{rule}) FROM marts_marketing.attribution "
            "WHERE order_completed_at >= $start AND order_completed_at < $end"
        )
        for rule, label in (
            ("first_touch", "first touch"),
            ("last_touch", "last touch"),
            ("linear", "linear"),
            ("position_based", "position-based"),
        )
    },
    ("marketing_attribution", "Orders attributed"): (
        "SELECT SUM(credit_last_touch) FROM marts_marketing.attribution "
        "WHERE order_completed_at >= $start AND order_completed_at < $end"
    ),
    **{
        ("marketing_campaigns", label): (
            f"SELECT {expression} FROM marts_marketing.campaign_performance "
            "WHERE performance_date >= CAST($start AS DATE) "
            "AND performance_date < CAST($end AS DATE)"
        )
        for label, expression in (
            ("Ad spend", "SUM(spend)"),
            ("New customers", "SUM(new_customers)"),
            ("CAC", "SUM(spend) / NULLIF(SUM(new_customers), 0)"),
            ("ROAS (last touch)", "SUM(revenue_last_touch) / NULLIF(SUM(spend), 0)"),
            ("Conversion rate", "SUM(orders) / NULLIF(SUM(sessions), 0)"),
        )
    },
    **{
        ("marketing_funnel", label): (
            f"SELECT {expression} FROM marts_marketing.sessions "
            "WHERE session_date >= CAST($start AS DATE) AND session_date < CAST($end AS DATE)"
        )
        for label, expression in (
            ("Sessions", "COUNT(*)"),
            ("Orders", "SUM(orders_count)"),
            ("Conversion rate", "SUM(orders_count) / COUNT(*)"),
            ("Add-to-cart rate", "COUNT(*) FILTER (WHERE has_add_to_cart) / COUNT(*)"),
        )
    },
    ("cohorts", "Customers in the cohort"): f"SELECT COUNT(*) FROM ({COHORT})",
    ("cohorts", "First-month net revenue per customer"): (
        f"SELECT SUM(CASE WHEN {MOVES} THEN amount END) / (SELECT COUNT(*) FROM ({COHORT})) "
        f"FROM {LEDGER} WHERE customer_id IN ({COHORT}) AND {IN_WINDOW}"
    ),
    ("cohorts", "Month-1 retention"): (
        f"SELECT COUNT(DISTINCT customer_id) / (SELECT COUNT(*) FROM ({COHORT})) FROM {LEDGER} "
        f"WHERE customer_id IN ({COHORT}) AND entry_type = 'sale' "
        "AND entry_at >= $end AND entry_at < $end + INTERVAL 1 MONTH"
    ),
    ("refunds", "Refunds incl. chargebacks"): _ledger(REFUNDS),
    ("refunds", "Refund rate"): _ledger(f"({REFUNDS}) / NULLIF({NET_SALES}, 0)"),
    ("refunds", "Chargebacks"): _ledger(
        "-SUM(CASE WHEN entry_type = 'chargeback' THEN amount ELSE 0 END)"
    ),
    ("refunds", "Refunds issued"): (
        "SELECT COUNT(*) FROM marts_refunds.refunds "
        "WHERE refunded_at >= $start AND refunded_at < $end"
    ),
    ("revenue_by_seller", "Net revenue"): _ledger(NET_REVENUE, "AND seller_id IS NOT NULL"),
    ("revenue_by_seller", "Commission revenue"): _ledger(
        "SUM(CASE WHEN entry_type = 'commission' THEN amount END)", "AND seller_id IS NOT NULL"
    ),
    ("revenue_by_seller", "GMV"): _ledger(GMV, "AND seller_id IS NOT NULL"),
    ("revenue_by_seller", "Refund rate"): _ledger(
        f"({REFUNDS}) / NULLIF({NET_SALES}, 0)", "AND seller_id IS NOT NULL"
    ),
}


def figure(
    con: duckdb.DuckDBPyConnection, dashboard: str, label: str, start: datetime, end: datetime
) -> float | None:
    """One tile's figure for [start, end); the cohort tiles read start as the cohort month."""
    sql = SQL[(dashboard, label)]
    params = {k: v for k, v in {"start": start, "end": end}.items() if f"${k}" in sql}
    row = con.execute(sql, params).fetchone()
    value = row[0] if row else None
    return None if value is None else float(value)
