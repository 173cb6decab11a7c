"""One alert interface: SNS in production, a local file sink in dev; one alert per incident.

An incident has a stable key (e.g. ``lane_failure:crm``). Raising an alert for a key that is
already open records nothing new and sends nothing: retries and hourly re-checks of the same
outage do not page anyone twice. Resolving the key closes the incident (and says so once).
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Protocol

from brightcart_ops.opslog import SCHEMA, ensure, new_id, utcnow
from brightcart_ops.warehouse import Warehouse

ALERTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.alerts (
    alert_id VARCHAR NOT NULL,
    incident_key VARCHAR NOT NULL,    -- what is wrong and where, stable across retries
    kind VARCHAR NOT NULL,            -- lane_failure, upstream_outage, sla_at_risk, sla_breached,
                                      -- audit_failure, reconciliation_mismatch, budget
    severity VARCHAR NOT NULL,        -- warning, critical
    subject VARCHAR NOT NULL,
    detail VARCHAR,
    raised_at TIMESTAMPTZ NOT NULL,
    resolved_at TIMESTAMPTZ,
    sink VARCHAR NOT NULL             -- where it was sent: sns, local
)
"""

# Every kind of alert and the runbook that answers it.
RUNBOOKS = {
    "lane_failure": "lane-failure.md",
    "upstream_outage": "upstream-outage.md",
    "sla_at_risk": "sla.md",
    "sla_breached": "sla.md",
    "audit_failure": "blocking-audit-failure.md",
    "reconciliation_mismatch": "reconciliation-mismatch.md",
    "budget": "budget.md",
}
KINDS = set(RUNBOOKS)


@dataclass
class Alert:
    kind: str
    key: str
    subject: str
    detail: str = ""
    severity: str = "critical"
    raised_at: datetime = field(default_factory=utcnow)

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown alert kind {self.kind!r}; expected one of {sorted(KINDS)}")

    @property
    def incident_key(self) -> str:
        return f"{self.kind}:{self.key}"

    @property
    def runbook(self) -> str:
        return f"docs/runbooks/{RUNBOOKS[self.kind]}"


class Sink(Protocol):
    name: str

    def send(self, alert: Alert, resolved: bool = False) -> None: ...


class LocalSink:
    """Appends alerts as JSON lines to $BRIGHTCART_HOME/alerts.jsonl (what dev and tests read)."""

    name = "local"

    def __init__(self, path: Path) -> None:
        self.path = path

    def send(self, alert: Alert, resolved: bool = False) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        body = asdict(alert) | {
            "incident_key": alert.incident_key,
            "resolved": resolved,
            "runbook": alert.runbook,
            "raised_at": alert.raised_at.isoformat(),
        }
        with self.path.open("a", encoding="utf-8") as handle:
            handle.write(json.dumps(body) + "\n")


class SnsSink:
    """Publishes to an SNS topic (email and chat subscriptions hang off the topic)."""

    name = "sns"

    def __init__(self, topic_arn: str) -> None:
        import boto3

        self.topic_arn = topic_arn
        self.client = boto3.client("sns")

    def send(self, alert: Alert, resolved: bool = False) -> None:
        prefix = "RESOLVED" if resolved else alert.severity.upper()
        self.client.publish(
            TopicArn=self.topic_arn,
            Subject=f"[BrightCart {prefix}] {alert.subject}"[:100],
            Message=json.dumps(
                {
                    "incident_key": alert.incident_key,
                    "kind": alert.kind,
                    "severity": alert.severity,
                    "subject": alert.subject,
                    "detail": alert.detail,
                    "resolved": resolved,
                    "runbook": alert.runbook,
                    "raised_at": alert.raised_at.isoformat(),
                }
            ),
            MessageAttributes={
                "kind": {"DataType": "String", "StringValue": alert.kind},
                "severity": {"DataType": "String", "StringValue": alert.severity},
            },
        )


def default_sink() -> Sink:
    topic = os.environ.get("BRIGHTCART_ALERT_TOPIC_ARN")
    if topic:
        return SnsSink(topic)
    home = Path(os.environ.get("BRIGHTCART_HOME") or Path.cwd() / ".local")
    return LocalSink(home / "alerts.jsonl")


class Alerter:
    """Raises and resolves incidents, deduplicated through the ops.alerts table."""

    def __init__(self, warehouse: Warehouse, sink: Sink | None = None) -> None:
        self.warehouse = warehouse
        self.sink = sink or default_sink()

    def _ensure(self) -> None:
        ensure(self.warehouse, [ALERTS_DDL])

    def open_incidents(self) -> list[tuple[str, str, datetime]]:
        self._ensure()
        rows = self.warehouse.query(
            f"SELECT incident_key, subject, raised_at FROM {SCHEMA}.alerts "
            "WHERE resolved_at IS NULL ORDER BY raised_at"
        )
        return [(str(r[0]), str(r[1]), r[2]) for r in rows]

    def is_open(self, incident_key: str) -> bool:
        return any(key == incident_key for key, _, _ in self.open_incidents())

    def raise_(self, alert: Alert) -> bool:
        """Send the alert unless its incident is already open. True when it was sent."""
        if self.is_open(alert.incident_key):
            return False
        self.sink.send(alert)
        self.warehouse.execute(
            f"INSERT INTO {SCHEMA}.alerts VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (
                new_id(),
                alert.incident_key,
                alert.kind,
                alert.severity,
                alert.subject,
                alert.detail,
                alert.raised_at,
                self.sink.name,
            ),
        )
        return True

    def resolve(self, kind: str, key: str, note: str = "") -> bool:
        """Close an open incident. True when one was open."""
        incident_key = f"{kind}:{key}"
        if not self.is_open(incident_key):
            return False
        self.sink.send(
            Alert(kind=kind, key=key, subject=f"resolved: {incident_key}", detail=note),
            resolved=True,
        )
        self.warehouse.execute(
            f"UPDATE {SCHEMA}.alerts SET resolved_at = ? WHERE incident_key = ? "
            "AND resolved_at IS NULL",
            (utcnow(), incident_key),
        )
        return True
