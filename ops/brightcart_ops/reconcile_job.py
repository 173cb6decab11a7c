"""The daily reconciliation job: check, alert once, repair, re-check, record, alert again.

Checked: the source against the raw landing (orders, payments, refunds) and against the marts
finance reads (revenue_daily, executive_daily, the refunds mart), per UTC day.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import date, datetime
from pathlib import Path

from brightcart_ops import reconcile as rc
from brightcart_ops import repair
from brightcart_ops.alerts import Alert, Alerter
from brightcart_ops.metrics import emit
from brightcart_ops.opslog import new_id
from brightcart_ops.settings import Settings
from brightcart_ops.warehouse import Warehouse

INCIDENT = "finance"
UNREPAIRED = "finance-unrepaired"


@dataclass
class ReconcileReport:
    run_id: str
    cutoff: datetime
    checked: list[rc.DayResult]
    rechecked: list[rc.DayResult] = field(default_factory=list)
    tombstones: dict[str, int] = field(default_factory=dict)
    errors: list[str] = field(default_factory=list)

    @property
    def mismatches(self) -> list[rc.DayResult]:
        return [r for r in self.checked if r.status == "mismatch"]

    @property
    def unrepaired(self) -> list[rc.DayResult]:
        return [r for r in self.rechecked if r.status == "mismatch"]

    @property
    def ok(self) -> bool:
        return not self.unrepaired and not self.errors


def _summary(results: Sequence[rc.DayResult]) -> str:
    return "\n".join(
        f"{r.entity} {r.day}: source {r.source.count} rows / {r.source.total} / "
        f"{r.source.checksum}, warehouse {r.warehouse.count} rows / {r.warehouse.total} / "
        f"{r.warehouse.checksum} {r.detail}"
        for r in results
    )


def run_reconciliation(
    settings: Settings,
    first_day: date | None = None,
    last_day: date | None = None,
    days: int = 7,
    entities: Sequence[str] = tuple(rc.q.ENTITIES),
    marts: Sequence[str] = tuple(rc.q.MARTS),
    cutoff: datetime | None = None,
    repair_drift: bool = True,
    restate_models: bool = True,
    environment: str = "dev",
    warehouse: Warehouse | None = None,
    alerter: Alerter | None = None,
    project: Path | None = None,
    stage: Callable[[str], object] | None = None,
) -> ReconcileReport:
    """Check the window; on drift alert once, repair, re-check, and alert again if needed.

    `entities` are compared with the raw landing, `marts` (what finance reads) with the source's
    finance figures; a mart not built yet is left out. `project` is the SQLMesh project to
    restate in (default: the repository's); `stage` is told each step as it starts (progress).
    """
    stage = stage or (lambda _text: None)
    warehouse = warehouse or Warehouse(settings)
    alerter = alerter or Alerter(warehouse)
    cutoff = cutoff or rc.default_cutoff(warehouse)
    if first_day is None or last_day is None:
        first_day, last_day = rc.default_window(cutoff, days)
    report = ReconcileReport(new_id(), cutoff, [])
    stage(f"comparing {len(entities)} entities, {first_day}..{last_day}, source vs warehouse")
    report.checked = rc.compare(settings, warehouse, entities, first_day, last_day, cutoff)
    built = rc.built_marts(warehouse, marts)
    for mart in sorted(set(marts) - set(built)):
        stage(f"{mart} is not built yet (no prod plan): not compared")
    if built:
        through = min(last_day, rc.last_complete_day(cutoff))
        stage(f"comparing {len(built)} finance marts with the source, {first_day}..{through}")
        report.checked += rc.compare_marts(settings, warehouse, built, first_day, last_day, cutoff)
    plan = repair.RepairPlan()
    for result in report.mismatches:
        if result.entity in rc.q.MARTS:
            plan.add(result.entity, result.day)
            continue
        stage(f"key by key: {result.entity} {result.day}")
        diff = rc.key_diff(settings, warehouse, result.entity, result.day, cutoff)
        gone = repair.gone_from_source(settings, result.entity, diff.extra)
        plan.add(result.entity, result.day)
        plan.gone.setdefault(result.entity, []).extend(gone)
        result.detail = f"{diff.describe()} gone_from_source={len(gone)}"
    rc.record(warehouse, report.run_id, "check", cutoff, report.checked)
    emit("ReconciliationMismatches", len(report.mismatches))
    if not report.mismatches:
        alerter.resolve(rc_kind(), INCIDENT, note=f"run {report.run_id}: all days match")
        return report
    alerter.raise_(
        Alert(
            kind=rc_kind(),
            key=INCIDENT,
            subject=f"finance reconciliation: {len(report.mismatches)} entity-days differ",
            detail=f"run {report.run_id}, cutoff {cutoff.isoformat()}\n"
            + _summary(report.mismatches),
        )
    )
    if not repair_drift:
        return report
    _repair(settings, warehouse, report, plan, restate_models, environment, project, stage)
    stage("re-checking the repaired days")
    days_to_check = {(r.entity, r.day) for r in report.mismatches}
    rechecked = []
    again = [
        result
        for entity, days_of in sorted(plan.days.items())
        for result in rc.compare(settings, warehouse, [entity], min(days_of), max(days_of), cutoff)
    ] + [
        result
        for mart, days_of in sorted(plan.marts.items())
        for result in rc.compare_marts(
            settings, warehouse, [mart], min(days_of), max(days_of), cutoff
        )
    ]
    for result in again:
        if (result.entity, result.day) in days_to_check:
            result.status = "repaired" if result.matches else "mismatch"
            result.detail = "; ".join(filter(None, [result.detail, *report.errors]))
            rechecked.append(result)
    report.rechecked = rechecked
    rc.record(warehouse, report.run_id, "recheck", cutoff, rechecked)
    if report.ok:
        alerter.resolve(rc_kind(), INCIDENT, note=f"run {report.run_id}: repaired")
        alerter.resolve(rc_kind(), UNREPAIRED, note=f"run {report.run_id}: repaired")
    else:
        alerter.raise_(
            Alert(
                kind=rc_kind(),
                key=UNREPAIRED,
                subject=f"finance reconciliation: {len(report.unrepaired)} entity-days still "
                "differ after the automatic repair",
                detail=f"run {report.run_id}\n{_summary(report.unrepaired)}\n"
                + "\n".join(report.errors),
            )
        )
    return report


def _repair(
    settings: Settings,
    warehouse: Warehouse,
    report: ReconcileReport,
    plan: repair.RepairPlan,
    restate_models: bool,
    environment: str,
    project: Path | None,
    stage: Callable[[str], object],
) -> None:
    for entity, keys in sorted(plan.gone.items()):
        if not keys:
            continue
        report.tombstones[entity] = repair.write_tombstones(
            warehouse, entity, sorted(set(keys)), report.run_id
        )
    if plan.days:
        stage(f"re-extracting {sum(len(d) for d in plan.days.values())} entity-days")
        try:
            repair.reextract(settings, plan.days, report.run_id, environment)
        except (RuntimeError, OSError) as exc:  # recorded and alerted; the re-check shows it
            report.errors.append(f"re-extract failed: {exc}")
    if restate_models and plan.days:
        all_days = {d for ds in plan.days.values() for d in ds}
        stage(f"restating the models of {len(all_days)} day(s) in prod")
        try:
            repair.restate_entities(settings, plan.days, all_days, environment, project)
        except (RuntimeError, OSError) as exc:
            report.errors.append(f"restate failed: {exc}")
    if restate_models and plan.marts:  # after the raw repair: the marts read what it fixed
        finance_days = {d for ds in plan.marts.values() for d in ds}
        stage(f"restating the finance marts for {len(finance_days)} business day(s) in prod")
        try:
            repair.restate_finance(settings, plan.marts, environment, project)
        except (RuntimeError, OSError) as exc:
            report.errors.append(f"finance restate failed: {exc}")


def rc_kind() -> str:
    return "reconciliation_mismatch"
