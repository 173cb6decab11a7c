"""The promotion gate inside SQLMesh: a plan evaluator that asks the review gate first.

config.py sets ``default_scheduler=GatedSchedulerConfig()``. SQLMesh builds its plan evaluator
from the scheduler config (``create_plan_evaluator``) for every plan it applies, whether the plan
comes from ``sqlmesh plan prod`` on the command line, the Python API or a wrapper, so the gate
cannot be stepped around by calling SQLMesh another way. The evaluator calls
``brightcart_ops.review.gate.check_plan`` before SQLMesh pushes a snapshot or swaps a view: a
refusal leaves prod exactly as it was (SQLMesh reports it as an apply failure and exits 1).
"""

from __future__ import annotations

import typing as t

from sqlmesh.core.config.scheduler import BuiltInSchedulerConfig
from sqlmesh.core.plan import BuiltInPlanEvaluator
from sqlmesh.core.plan.definition import EvaluatablePlan

if t.TYPE_CHECKING:
    from sqlmesh.core.context import GenericContext


class GatedPlanEvaluator(BuiltInPlanEvaluator):
    """SQLMesh's built-in evaluator, preceded by the review gate for prod plans."""

    def __init__(self, *args: t.Any, gateway: str, **kwargs: t.Any) -> None:
        super().__init__(*args, **kwargs)
        self.gateway = gateway

    def evaluate(
        self,
        plan: EvaluatablePlan,
        circuit_breaker: t.Callable[[], bool] | None = None,
    ) -> None:
        from brightcart_ops.review.gate import check_plan

        check_plan(plan, self.state_sync, self.gateway)
        super().evaluate(plan, circuit_breaker=circuit_breaker)


class GatedSchedulerConfig(BuiltInSchedulerConfig):
    """The built-in scheduler whose plan evaluator is gated (same type name: ``builtin``)."""

    def create_plan_evaluator(self, context: GenericContext) -> GatedPlanEvaluator:
        return GatedPlanEvaluator(
            state_sync=context.state_sync,
            snapshot_evaluator=context.snapshot_evaluator,
            create_scheduler=context.create_scheduler,
            default_catalog=context.default_catalog,
            console=context.console,
            gateway=context.selected_gateway,
        )
