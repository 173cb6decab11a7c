"""The attribution window: which of an order's money attribution counts.

Attributed revenue of an order is the KPI net revenue over the order's ledger entries dated
(entry_at) from ``order_completed_at - ATTRIBUTION_LEAD_HOURS`` until before
``order_completed_at + ATTRIBUTION_WINDOW_HOURS`` and recorded by the source before the window
ends: a fixed window per order, so the figure depends on the data alone, never on how the
intervals of a run were batched. The window opens a day early because an order's payment is dated
paid_at, which may precede the order_completed event by moments. Money recorded later (most
refunds come after delivery) belongs to finance (marts_finance, marts_refunds), not to
attribution. marts_marketing.attribution recomputes an order in every run that books one of its
ledger entries, so an entry of the window that the warehouse learns late still counts.
"""

from __future__ import annotations

from sqlglot import exp
from sqlmesh import macro
from sqlmesh.core.macros import MacroEvaluator

ATTRIBUTION_WINDOW_HOURS = 72
ATTRIBUTION_LEAD_HOURS = 24


@macro()
def attribution_window(evaluator: MacroEvaluator) -> exp.Expression:
    """The attribution window as an interval literal (INTERVAL '72 hours')."""
    return exp.maybe_parse(
        f"INTERVAL '{ATTRIBUTION_WINDOW_HOURS} hours'", dialect=evaluator.dialect
    )


@macro()
def attribution_lead(evaluator: MacroEvaluator) -> exp.Expression:
    """How long before the order_completed event the window opens (INTERVAL '24 hours')."""
    return exp.maybe_parse(f"INTERVAL '{ATTRIBUTION_LEAD_HOURS} hours'", dialect=evaluator.dialect)
