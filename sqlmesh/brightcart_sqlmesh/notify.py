"""The SQLMesh notification target that publishes to the BI tool after a successful prod change.

SQLMesh calls ``notify_apply_end`` after a plan was applied and ``notify_run_end`` after a run
completed. Neither fires when a blocking audit fails (then ``audit_failure`` and
``run_failure``/``apply_failure`` fire instead), and both also fire for dev environments and for
runs that evaluated nothing. So this target publishes for prod only, and the publish step itself
refreshes only datasets whose upstream models have new intervals or new versions.

Failure events raise alerts through the ops Alerter: ``audit_failure`` per failing audit and
``lane_failure:transform`` for a failed prod run or apply. SQLMesh gives ``audit_failure`` and
``run_failure`` no environment name, so the target remembers the environment of the command in
progress from ``run_start``/``apply_start``.

config.py registers it through :func:`targets`.
"""

from __future__ import annotations

import logging
import os
import typing as t

from sqlmesh.core.notification_target import (
    GenericNotificationTarget,
    NotificationEvent,
    NotificationStatus,
)

if t.TYPE_CHECKING:
    from sqlmesh.utils.errors import AuditError

logger = logging.getLogger(__name__)

PROD = "prod"
EVENTS = frozenset(
    {
        NotificationEvent.APPLY_START,
        NotificationEvent.APPLY_END,
        NotificationEvent.APPLY_FAILURE,
        NotificationEvent.RUN_START,
        NotificationEvent.RUN_END,
        NotificationEvent.RUN_FAILURE,
        NotificationEvent.AUDIT_FAILURE,
    }
)

# The command in progress in this process (SQLMesh runs one plan or run at a time per process).
_current: dict[str, t.Any] = {"environment": None, "audits": set()}


class PublishNotificationTarget(GenericNotificationTarget):  # type: ignore[misc]
    """Publishes BI datasets after a successful prod apply/run; alerts on failures.

    A GenericNotificationTarget subclass (type ``generic``) because Config's
    ``notification_targets`` is a union discriminated on that type. (mypy misreads pydantic's
    frozen model config as a dataclass flag, hence the ignore above.)
    """

    notify_on: frozenset[NotificationEvent] = EVENTS
    gateway: str | None = None  # None: BRIGHTCART_GATEWAY, else local
    raise_errors: bool = False  # True in tests: a publish error fails the command

    # --- internals -------------------------------------------------------------------------
    def send(self, notification_status: NotificationStatus, msg: str, **kwargs: t.Any) -> None:
        logger.info("brightcart notify %s: %s", notification_status.value, msg)

    def _gateway(self) -> str:
        return self.gateway or os.environ.get("BRIGHTCART_GATEWAY", "local")

    def _alerter(self) -> t.Any:
        from brightcart_ops.alerts import Alerter
        from brightcart_ops.warehouse import Warehouse

        return Alerter(Warehouse(gateway_name=self._gateway()))

    def _prod_state(self, environment: str) -> t.Any:
        """Prod's state, read once per event for the audit trail and the publish (reading it
        unpickles every snapshot: the costliest step of a run with nothing new); None when the
        read fails (each user then reads it again and reports its own error)."""
        if environment.lower() != PROD:
            return None
        from brightcart_ops.publish.state import read_prod_state

        try:
            return read_prod_state(self._gateway())
        except Exception:
            logger.exception("reading prod's state failed")
            return None

    def _publish(
        self, trigger: str, environment: str, plan_id: str | None = None, state: t.Any = None
    ) -> None:
        if environment.lower() != PROD:
            return
        from brightcart_ops.alerts import Alert
        from brightcart_ops.publish import publish

        try:
            report = publish(trigger, environment, plan_id, gateway=self._gateway(), state=state)
        except Exception as error:
            logger.exception("publish after %s failed", trigger)
            self._alerter().raise_(
                Alert(
                    kind="lane_failure",
                    key="publish",
                    subject=f"BI publish after {trigger} failed: {type(error).__name__}",
                    detail=f"{error}\nDashboards keep their last good data; the next run retries.",
                )
            )
            if self.raise_errors:
                raise
            return
        logger.info(
            "published after %s: refreshed=%s deferred=%s failed=%s",
            trigger,
            report.refreshed,
            report.by_status("deferred"),
            report.failed,
        )
        if report.failed:
            self._alerter().raise_(
                Alert(
                    kind="lane_failure",
                    key="publish",
                    subject=f"BI refresh failed for {', '.join(report.failed)}",
                    detail="See ops.publish_log for the error; the next run retries.",
                )
            )
        else:
            self._alerter().resolve("lane_failure", "publish", note="publish succeeded")

    def _resolve_cleared_audits(self) -> None:
        from brightcart_ops.alerts import Alerter

        alerter: Alerter = self._alerter()
        seen: set[str] = _current["audits"]
        for key, _, _ in alerter.open_incidents():
            kind, _, rest = key.partition(":")
            if kind == "audit_failure" and rest not in seen:
                alerter.resolve("audit_failure", rest, note="audit passed in a successful prod run")

    # --- SQLMesh events --------------------------------------------------------------------
    def notify_apply_start(self, environment: str, plan_id: str, *a: t.Any, **k: t.Any) -> None:
        _current.update(environment=environment, audits=set())

    def notify_run_start(self, environment: str, *a: t.Any, **k: t.Any) -> None:
        _current.update(environment=environment, audits=set())

    def _audit_trail(
        self, kind: str, environment: str, plan_id: str | None, state: t.Any = None
    ) -> None:
        """SOX trail: who changed or ran prod, with which model versions, and audit outcomes."""
        if environment.lower() != PROD:
            return
        from brightcart_ops.audit_trail import record_prod_event
        from brightcart_ops.publish.state import read_prod_state

        try:
            state = state if state is not None else read_prod_state(self._gateway())
            snapshots = [
                {"name": v.model, "fingerprint": v.fingerprint, "version": v.version}
                for v in (state.versions.values() if state else [])
            ]
            failing = sorted(_current["audits"])
            audits = [{"audit": key, "outcome": "failed (non-blocking)"} for key in failing]
            record_prod_event(kind, plan_id, PROD, snapshots=snapshots, audits=audits)
        except Exception:
            logger.exception("recording the audit trail after %s failed", kind)
            if self.raise_errors:
                raise

    def notify_apply_end(self, environment: str, plan_id: str, *a: t.Any, **k: t.Any) -> None:
        if environment.lower() == PROD:
            self._resolve_cleared_audits()
            self._alerter().resolve("lane_failure", "transform", note=f"plan {plan_id} applied")
        state = self._prod_state(environment)
        self._audit_trail("apply", environment, plan_id, state)
        self._publish("apply_end", environment, plan_id, state)

    def notify_run_end(self, environment: str, *a: t.Any, **k: t.Any) -> None:
        if environment.lower() == PROD:
            self._resolve_cleared_audits()
            self._alerter().resolve("lane_failure", "transform", note="prod run succeeded")
        state = self._prod_state(environment)
        self._audit_trail("run", environment, None, state)
        self._publish("run_end", environment, None, state)

    def notify_audit_failure(self, audit_error: AuditError, *a: t.Any, **k: t.Any) -> None:
        if str(_current["environment"] or "").lower() != PROD:
            return
        from brightcart_ops.alerts import Alert
        from brightcart_ops.metrics import emit

        key = f"{audit_error.model_name}.{audit_error.audit_name}"
        _current["audits"].add(key)
        # No dimension: the stack's alarm watches the metric as a whole (metrics.CATALOGUE); the
        # model and audit are named in the alert.
        emit("BlockingAuditFailures", 1)
        self._alerter().raise_(
            Alert(
                kind="audit_failure",
                key=key,
                subject=f"audit {audit_error.audit_name} failed on {audit_error.model_name}",
                detail=f"{audit_error.count} offending rows. Query:\n{audit_error.sql()}"[:3000],
            )
        )

    def _failed(self, what: str, exc: str) -> None:
        if str(_current["environment"] or "").lower() != PROD:
            return
        from brightcart_ops.alerts import Alert

        self._alerter().raise_(
            Alert(
                kind="lane_failure",
                key="transform",
                subject=f"SQLMesh {what} failed in prod; dashboards were not refreshed",
                detail=exc[-2000:],
            )
        )

    def notify_run_failure(self, exc: str, *a: t.Any, **k: t.Any) -> None:
        self._failed("run", exc)

    def notify_apply_failure(
        self, environment: str, plan_id: str, exc: str, *a: t.Any, **k: t.Any
    ) -> None:
        _current["environment"] = environment
        if "PromotionRefused" in exc:  # the review gate refused it: recorded, nothing applied
            logger.info("plan %s was refused by the review gate", plan_id)
            return
        self._failed(f"plan {plan_id} apply", exc)


def targets(**options: t.Any) -> list[PublishNotificationTarget]:
    """The notification targets config.py registers (``notification_targets=targets()``)."""
    return [PublishNotificationTarget(**options)]
