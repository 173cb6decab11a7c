"""BrightCart KPIs, each defined once; every mart and bi view calls these macros.

Ledger KPIs aggregate money rows with the columns ``entry_type``, ``amount`` and ``order_id``:
the lines as of business date (``marts_finance.revenue_lines``), or ledger entries
(``marts_finance.revenue_ledger``, where a reversal carries the negated amount); the column names
can be passed when a model aliases them.
Ratio KPIs combine already aggregated figures and never divide by zero (NULL instead).

    gmv             = sum(quantity * unit_price) of paid orders        (sale entries)
    discounts       = sum(discount_amount) of paid orders              (discount entries, positive)
    net_sales       = gmv - discounts
    commission      = marketplace commission on net sales              (commission entries)
    refunds         = refunds + chargebacks, positive                  (refund, chargeback entries)
    net_revenue     = net_sales - refunds
    orders          = distinct paid orders                             (orders with a sale entry)
    aov             = net_sales / orders
    refund_rate     = refunds / net_sales
    new_customers   = distinct customers whose first paid order falls in the period
    retention       = active customers / cohort size
    cac             = marketing spend / new customers
    roas            = attributed net revenue / marketing spend
    conversion_rate = orders / sessions
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

MONEY = "DECIMAL(18, 2)"
RATIO = "DECIMAL(18, 6)"


def _sql(evaluator: MacroEvaluator, value: exp.Expression | str) -> str:
    return value if isinstance(value, str) else value.sql(dialect=evaluator.dialect)


def _parse(evaluator: MacroEvaluator, sql: str) -> exp.Expression:
    return exp.maybe_parse(sql, dialect=evaluator.dialect)


def _ledger_sum(
    evaluator: MacroEvaluator,
    types: tuple[str, ...],
    sign: int,
    entry_type: exp.Expression | str,
    amount: exp.Expression | str,
) -> exp.Expression:
    listed = ", ".join(f"'{t}'" for t in types)
    factor = "" if sign > 0 else "-"
    return _parse(
        evaluator,
        f"CAST({factor}SUM(CASE WHEN {_sql(evaluator, entry_type)} IN ({listed}) "
        f"THEN {_sql(evaluator, amount)} ELSE 0 END) AS {MONEY})",
    )


def _ratio(
    evaluator: MacroEvaluator, numerator: exp.Expression | str, denominator: exp.Expression | str
) -> exp.Expression:
    num, den = _sql(evaluator, numerator), _sql(evaluator, denominator)
    return _parse(evaluator, f"CAST(CAST({num} AS {RATIO}) / NULLIF({den}, 0) AS {RATIO})")


@macro()
def kpi_gmv(
    evaluator: MacroEvaluator,
    entry_type: exp.Expression | str = "entry_type",
    amount: exp.Expression | str = "amount",
) -> exp.Expression:
    """GMV: sum(quantity * unit_price) of paid orders (ledger sale entries)."""
    return _ledger_sum(evaluator, ("sale",), 1, entry_type, amount)


@macro()
def kpi_discounts(
    evaluator: MacroEvaluator,
    entry_type: exp.Expression | str = "entry_type",
    amount: exp.Expression | str = "amount",
) -> exp.Expression:
    """Discounts granted on paid orders, as a positive amount."""
    return _ledger_sum(evaluator, ("discount",), -1, entry_type, amount)


@macro()
def kpi_net_sales(
    evaluator: MacroEvaluator,
    entry_type: exp.Expression | str = "entry_type",
    amount: exp.Expression | str = "amount",
) -> exp.Expression:
    """Net sales: GMV - discounts."""
    return _ledger_sum(evaluator, ("sale", "discount"), 1, entry_type, amount)


@macro()
def kpi_commission_revenue(
    evaluator: MacroEvaluator,
    entry_type: exp.Expression | str = "entry_type",
    amount: exp.Expression | str = "amount",
) -> exp.Expression:
    """Commission revenue: the marketplace's share of net sales (seller commission rate)."""
    return _ledger_sum(evaluator, ("commission",), 1, entry_type, amount)


@macro()
def kpi_refunds(
    evaluator: MacroEvaluator,
    entry_type: exp.Expression | str = "entry_type",
    amount: exp.Expression | str = "amount",
) -> exp.Expression:
    """Refunds including chargebacks, as a positive amount, at refund time."""
    return _ledger_sum(evaluator, ("refund", "chargeback"), -1, entry_type, amount)


@macro()
def kpi_net_revenue(
    evaluator: MacroEvaluator,
    entry_type: exp.Expression | str = "entry_type",
    amount: exp.Expression | str = "amount",
) -> exp.Expression:
    """Net revenue: net sales - refunds (incl. chargebacks)."""
    return _ledger_sum(
        evaluator, ("sale", "discount", "refund", "chargeback"), 1, entry_type, amount
    )


@macro()
def kpi_orders(
    evaluator: MacroEvaluator,
    entry_type: exp.Expression | str = "entry_type",
    order_id: exp.Expression | str = "order_id",
) -> exp.Expression:
    """Orders: distinct paid orders (orders with a sale entry in the period)."""
    return _parse(
        evaluator,
        f"COUNT(DISTINCT CASE WHEN {_sql(evaluator, entry_type)} = 'sale' "
        f"THEN {_sql(evaluator, order_id)} END)",
    )


@macro()
def kpi_new_customers(
    evaluator: MacroEvaluator,
    customer_id: exp.Expression | str,
    is_first_order: exp.Expression | str,
) -> exp.Expression:
    """New customers: distinct customers whose first paid order falls in the period."""
    return _parse(
        evaluator,
        f"COUNT(DISTINCT CASE WHEN {_sql(evaluator, is_first_order)} "
        f"THEN {_sql(evaluator, customer_id)} END)",
    )


@macro()
def kpi_aov(
    evaluator: MacroEvaluator, net_sales: exp.Expression, orders: exp.Expression
) -> exp.Expression:
    """AOV: net sales / orders."""
    return _ratio(evaluator, net_sales, orders)


@macro()
def kpi_refund_rate(
    evaluator: MacroEvaluator, refunds: exp.Expression, net_sales: exp.Expression
) -> exp.Expression:
    """Refund rate: refunds (incl. chargebacks) / net sales."""
    return _ratio(evaluator, refunds, net_sales)


@macro()
def kpi_retention(
    evaluator: MacroEvaluator, active_customers: exp.Expression, cohort_size: exp.Expression
) -> exp.Expression:
    """Retention: customers of a cohort active in a period / cohort size."""
    return _ratio(evaluator, active_customers, cohort_size)


@macro()
def kpi_cac(
    evaluator: MacroEvaluator, spend: exp.Expression, new_customers: exp.Expression
) -> exp.Expression:
    """CAC: marketing spend / new customers."""
    return _ratio(evaluator, spend, new_customers)


@macro()
def kpi_roas(
    evaluator: MacroEvaluator, attributed_net_revenue: exp.Expression, spend: exp.Expression
) -> exp.Expression:
    """ROAS: attributed net revenue / marketing spend."""
    return _ratio(evaluator, attributed_net_revenue, spend)


@macro()
def kpi_conversion_rate(
    evaluator: MacroEvaluator, orders: exp.Expression, sessions: exp.Expression
) -> exp.Expression:
    """Conversion rate: orders / sessions."""
    return _ratio(evaluator, orders, sessions)
