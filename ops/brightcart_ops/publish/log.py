"""ops.publish_log: every publish decision (refresh, skip, defer) with the upstream state behind it.

Long text columns are VARCHAR(65535): Redshift's plain VARCHAR holds only 256 bytes.

A refresh counts against the BI tool's limits when its status is ``started`` (an ingestion was
created) or ``succeeded`` (a local snapshot was written). The last such row per dataset holds the
upstream digest the dashboard shows; an unchanged digest means nothing to refresh.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from brightcart_ops.opslog import SCHEMA, ensure, new_id
from brightcart_ops.warehouse import Warehouse

PUBLISH_LOG_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.publish_log (
    publish_id VARCHAR NOT NULL,      -- one per decision
    batch_id VARCHAR NOT NULL,        -- one per publish call (a prod apply or run)
    trigger VARCHAR NOT NULL,         -- apply_end, run_end, manual
    plan_id VARCHAR,                  -- SQLMesh plan id for apply_end
    environment VARCHAR NOT NULL,     -- always prod: dev never publishes
    dataset VARCHAR NOT NULL,
    view_name VARCHAR NOT NULL,       -- bi view behind the dataset
    dashboards VARCHAR(65535) NOT NULL, -- comma-separated dashboards that read the dataset
    decision VARCHAR NOT NULL,        -- refresh, skip, defer
    reason VARCHAR(65535) NOT NULL,   -- why (new intervals/versions, unchanged, hourly cap)
    status VARCHAR NOT NULL,          -- started, succeeded, failed, skipped, deferred
    adapter VARCHAR NOT NULL,         -- quicksight, local
    ingestion_id VARCHAR,             -- QuickSight ingestion id or local snapshot id
    upstream_digest VARCHAR,          -- sha256 of the upstream model versions below
    upstream_versions VARCHAR(65535), -- JSON: model -> fingerprint, version, interval end
    changed_models VARCHAR(65535),    -- models changed since the last refresh, comma-separated
    data_through TIMESTAMPTZ,         -- least recent interval end of the upstream models
    error VARCHAR(65535),
    published_at TIMESTAMPTZ NOT NULL
)
"""

COUNTED = ("started", "succeeded")


@dataclass
class Decision:
    dataset: str
    view: str
    dashboards: tuple[str, ...]
    decision: str
    reason: str
    status: str
    digest: str | None = None
    versions: dict[str, Any] | None = None
    changed: tuple[str, ...] = ()
    data_through: datetime | None = None
    ingestion_id: str | None = None
    error: str | None = None


@dataclass(frozen=True)
class LastRefresh:
    dataset: str
    digest: str | None
    versions: dict[str, Any]
    status: str
    ingestion_id: str | None
    published_at: datetime
    data_through: datetime | None


class PublishLog:
    def __init__(self, warehouse: Warehouse) -> None:
        self.warehouse = warehouse
        ensure(warehouse, [PUBLISH_LOG_DDL])

    @contextmanager
    def recorder(
        self,
        *,
        batch_id: str,
        trigger: str,
        plan_id: str | None,
        environment: str,
        adapter: str,
        at: datetime,
    ) -> Iterator[Callable[[Decision], None]]:
        """One connection for a whole publish call; yields ``record(decision)``."""
        sql = (
            f"INSERT INTO {SCHEMA}.publish_log VALUES "
            "(?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
        )
        if self.warehouse.gateway != "local":
            sql = sql.replace("?", "%s")
        with self.warehouse.connect() as con:
            cur = con.cursor()

            def record(decision: Decision) -> None:
                cur.execute(
                    sql,
                    (
                        new_id(),
                        batch_id,
                        trigger,
                        plan_id,
                        environment,
                        decision.dataset,
                        decision.view,
                        ",".join(decision.dashboards),
                        decision.decision,
                        decision.reason,
                        decision.status,
                        adapter,
                        decision.ingestion_id,
                        decision.digest,
                        json.dumps(decision.versions, sort_keys=True)
                        if decision.versions
                        else None,
                        ",".join(decision.changed),
                        decision.data_through,
                        decision.error,
                        at,
                    ),
                )

            yield record

    def last_refreshes(self) -> dict[str, LastRefresh]:
        """The latest counted refresh per dataset."""
        rows = self.warehouse.query(
            f"SELECT dataset, upstream_digest, upstream_versions, status, ingestion_id, "
            f"published_at, data_through FROM {SCHEMA}.publish_log "
            f"WHERE status IN (?, ?) ORDER BY published_at",
            COUNTED,
        )
        latest: dict[str, LastRefresh] = {}
        for dataset, digest, versions, status, ingestion, at, through in rows:
            latest[str(dataset)] = LastRefresh(
                str(dataset),
                digest,
                json.loads(versions) if versions else {},
                str(status),
                ingestion,
                at,
                through,
            )
        return latest

    def refreshes_since(self, since: datetime) -> dict[str, int]:
        rows = self.warehouse.query(
            f"SELECT dataset, count(*) FROM {SCHEMA}.publish_log "
            "WHERE status IN (?, ?) AND published_at > ? GROUP BY dataset",
            (*COUNTED, since),
        )
        return {str(d): int(n) for d, n in rows}

    def window_counts(self, now: datetime) -> tuple[int, dict[str, int]]:
        """Refreshes in the rolling hour (all datasets) and in the rolling day (per dataset)."""
        hour = sum(self.refreshes_since(now - timedelta(hours=1)).values())
        return hour, self.refreshes_since(now - timedelta(days=1))

    def rows(self, limit: int = 200) -> list[dict[str, Any]]:
        with self.warehouse.connect() as con:
            cur = con.cursor()
            cur.execute(
                f"SELECT * FROM {SCHEMA}.publish_log ORDER BY published_at DESC LIMIT {int(limit)}"
            )
            names = [d[0] for d in cur.description]
            return [dict(zip(names, row, strict=True)) for row in cur.fetchall()]
