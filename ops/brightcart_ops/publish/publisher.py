"""Publish after a successful prod apply or run: refresh exactly the datasets that changed.

Called by the SQLMesh notification target (brightcart_sqlmesh.notify) on ``apply_end`` and
``run_end`` for prod, and by ``brightcart publish run`` by hand. Every decision lands in
ops.publish_log.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from brightcart_ops.opslog import new_id, utcnow
from brightcart_ops.publish import adapters as adapters_mod
from brightcart_ops.publish.adapters import Adapter, RefreshError
from brightcart_ops.publish.datasets import DatasetMap
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.log import Decision, PublishLog
from brightcart_ops.publish.policy import Candidate, decide
from brightcart_ops.publish.state import PROD, ProdState, read_prod_state
from brightcart_ops.warehouse import Warehouse


@dataclass
class PublishReport:
    batch_id: str
    trigger: str
    environment: str
    adapter: str
    decisions: list[Decision] = field(default_factory=list)
    note: str = ""

    def by_status(self, status: str) -> list[str]:
        return sorted(d.dataset for d in self.decisions if d.status == status)

    @property
    def refreshed(self) -> list[str]:
        return sorted(d.dataset for d in self.decisions if d.status in ("started", "succeeded"))

    @property
    def failed(self) -> list[str]:
        return self.by_status("failed")


def ingestion_id_for(digest: str, force: bool, now: datetime) -> str:
    """Deterministic per upstream state, so a retried call never starts a second ingestion."""
    base = f"bc-{digest[:32]}"
    return f"{base}-f{now:%Y%m%d%H%M%S}" if force else base


def publish(
    trigger: str,
    environment: str = PROD,
    plan_id: str | None = None,
    *,
    maps: DatasetMap | None = None,
    warehouse: Warehouse | None = None,
    adapter: Adapter | None = None,
    state: ProdState | None = None,
    state_reader: Any = None,
    gateway: str | None = None,
    now: datetime | None = None,
    force: bool = False,
    only: set[str] | None = None,
    dry_run: bool = False,
) -> PublishReport:
    """Decide, refresh and record. Dev environments never publish."""
    now = now or utcnow()
    batch_id = new_id()
    if environment.lower() != PROD:
        return PublishReport(batch_id, trigger, environment, "none", note="not prod: ignored")
    maps = maps or load_map()
    warehouse = warehouse or Warehouse(gateway_name=gateway)
    adapter = adapter or adapters_mod.choose(maps, warehouse)
    report = PublishReport(batch_id, trigger, environment, adapter.name)
    if state is None:
        state = read_prod_state(gateway, state_reader)
    if state is None:
        report.note = "prod environment does not exist yet: nothing to publish"
        return report
    log = PublishLog(warehouse)
    last = log.last_refreshes()
    hour_count, day_counts = log.window_counts(now)
    candidates = [
        Candidate(ds, state.upstream(ds.view))
        for ds in maps.datasets.values()
        if only is None or ds.name in only
    ]
    decisions = decide(
        candidates,
        last,
        hour_count,
        day_counts,
        maps,
        now,
        in_flight=adapter.in_flight,
        force=force,
    )
    report.decisions = decisions
    if dry_run:
        return report
    refreshed: list[Decision] = []
    with log.recorder(
        batch_id=batch_id,
        trigger=trigger,
        plan_id=plan_id,
        environment=environment,
        adapter=adapter.name,
        at=now,
    ) as record:
        for decision in decisions:
            if decision.decision == "refresh":
                dataset = maps.datasets[decision.dataset]
                assert decision.digest is not None
                decision.ingestion_id = ingestion_id_for(decision.digest, force, now)
                try:
                    decision.status = adapter.refresh(dataset, decision, decision.ingestion_id)
                    refreshed.append(decision)
                except (RefreshError, OSError) as error:
                    decision.status = "failed"
                    decision.error = str(error)[:2000]
            record(decision)
    if refreshed:
        adapter.finish(refreshed)
    return report
