"""The attribution window: how long after its order_completed event an order's money counts.

Attributed revenue of an order is the KPI net revenue over the order's ledger entries booked
before ``order_completed_at + ATTRIBUTION_WINDOW_HOURS``: a fixed window per order, so the figure
depends on the data alone, never on how the intervals of a run were batched. Money booked later
(most refunds come after delivery) belongs to finance (marts_finance, marts_refunds), not to
attribution. The window must not exceed the lookback of marts_marketing.attribution: the last
hourly run that recomputes an order has every entry of its window landed.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

ATTRIBUTION_WINDOW_HOURS = 72


@macro()
def attribution_window(evaluator: MacroEvaluator) -> exp.Expression:
    """The attribution window as an interval literal (INTERVAL '72 hours')."""
    return exp.maybe_parse(
        f"INTERVAL '{ATTRIBUTION_WINDOW_HOURS} hours'", dialect=evaluator.dialect
    )
