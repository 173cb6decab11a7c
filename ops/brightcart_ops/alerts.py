"""One alert interface: SNS in production, a local file sink in dev; one alert per incident.

An incident has a stable key (e.g. ``lane_failure:crm``). Raising an alert for a key that is
already open records nothing new and sends nothing: retries and hourly re-checks of the same
outage do not page anyone twice. Resolving the key closes the incident (and says so once).

When the warehouse (which holds ops.alerts) stays locked past its wait bound, an alerter with a
journal still pages: it sends the alert unless the journal already holds an open raise of the same
incident, and journals the record; a resolution is journaled and sent when the journal is
replayed and the incident is found open. An incident already open in ops.alerts before the lock
may thus be paged a second time; the replay then folds the second raise into the open incident.
"""

from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any, Protocol

from brightcart_ops.journal import OpsJournal, from_json_time
from brightcart_ops.opslog import SCHEMA, ensure, new_id, utcnow
from brightcart_ops.settings import load as load_settings
from brightcart_ops.warehouse import Warehouse, WarehouseLocked

ALERTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.alerts (
    alert_id VARCHAR NOT NULL,
    incident_key VARCHAR NOT NULL,    -- what is wrong and where, stable across retries
    kind VARCHAR NOT NULL,            -- lane_failure, upstream_outage, sla_at_risk, sla_breached,
                                      -- audit_failure, reconciliation_mismatch, budget,
                                      -- change_control
    severity VARCHAR NOT NULL,        -- warning, critical
    subject VARCHAR(65535) NOT NULL,  -- long text: Redshift's plain VARCHAR is 256 bytes
    detail VARCHAR(65535),
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
    "change_control": "reviewed-changes.md",
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
    """SNS when the settings name a topic (BRIGHTCART_ALERT_TOPIC_ARN), else the local file."""
    settings = load_settings()
    if settings.alert_topic_arn:
        return SnsSink(settings.alert_topic_arn)
    return LocalSink(settings.home / "alerts.jsonl")


class Alerter:
    """Raises and resolves incidents, deduplicated through the ops.alerts table."""

    def __init__(
        self, warehouse: Warehouse, sink: Sink | None = None, journal: OpsJournal | None = None
    ) -> None:
        self.warehouse = warehouse
        self.sink = sink or default_sink()
        self.journal = journal

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
        alert_id = new_id()
        try:
            if self.is_open(alert.incident_key):
                return False
        except WarehouseLocked:
            if self.journal is None:
                raise
            if _journal_open(self.journal.entries()).get(alert.incident_key):
                return False
            self.sink.send(alert)
            self.journal.append("alert_raised", self._row(alert_id, alert))
            return True
        self.sink.send(alert)
        try:
            self._insert(self._row(alert_id, alert))
        except WarehouseLocked:
            if self.journal is None:
                raise
            self.journal.append("alert_raised", self._row(alert_id, alert))
        return True

    def resolve(self, kind: str, key: str, note: str = "") -> bool:
        """Close an open incident. True when one was open (or the closing was journaled)."""
        incident_key = f"{kind}:{key}"
        try:
            if not self.is_open(incident_key):
                return False
        except WarehouseLocked:
            if self.journal is None:
                raise
            resolution = {
                "incident_key": incident_key,
                "alert_kind": kind,
                "alert_key": key,
                "note": note,
                "resolved_at": utcnow(),
            }
            self.journal.append("alert_resolved", resolution)
            return True
        self._close(kind, key, note, utcnow())
        return True

    def replay(self, entries: list[dict[str, Any]]) -> None:
        """Apply journaled raises and resolutions to ops.alerts (see OpsJournal)."""
        for entry in entries:
            if entry.get("kind") == "alert_raised":
                self._ensure()
                known = self.warehouse.query(
                    f"SELECT 1 FROM {SCHEMA}.alerts WHERE alert_id = ?", (entry["alert_id"],)
                )
                if not known and not self.is_open(entry["incident_key"]):
                    self._insert(entry)
            elif entry.get("kind") == "alert_resolved" and self.is_open(entry["incident_key"]):
                resolved_at = from_json_time(entry["resolved_at"]) or utcnow()
                note = str(entry.get("note") or "")
                self._close(entry["alert_kind"], entry["alert_key"], note, resolved_at)

    def _row(self, alert_id: str, alert: Alert) -> dict[str, Any]:
        return {
            "alert_id": alert_id,
            "incident_key": alert.incident_key,
            "alert_kind": alert.kind,
            "severity": alert.severity,
            "subject": alert.subject,
            "detail": alert.detail,
            "raised_at": alert.raised_at,
            "sink": self.sink.name,
        }

    def _insert(self, row: dict[str, Any]) -> None:
        self._ensure()
        raised_at = row["raised_at"]
        if isinstance(raised_at, str):
            raised_at = from_json_time(raised_at)
        self.warehouse.execute(
            f"INSERT INTO {SCHEMA}.alerts VALUES (?, ?, ?, ?, ?, ?, ?, NULL, ?)",
            (
                row["alert_id"],
                row["incident_key"],
                row["alert_kind"],
                row["severity"],
                row["subject"],
                row["detail"],
                raised_at,
                row["sink"],
            ),
        )

    def _close(self, kind: str, key: str, note: str, resolved_at: datetime) -> None:
        incident_key = f"{kind}:{key}"
        self.sink.send(
            Alert(kind=kind, key=key, subject=f"resolved: {incident_key}", detail=note),
            resolved=True,
        )
        self.warehouse.execute(
            f"UPDATE {SCHEMA}.alerts SET resolved_at = ? WHERE incident_key = ? "
            "AND resolved_at IS NULL",
            (resolved_at, incident_key),
        )


def _journal_open(entries: list[dict[str, Any]]) -> dict[str, bool]:
    """Incident keys the journal holds a raise for, and whether no later resolution closed it."""
    state: dict[str, bool] = {}
    for entry in entries:
        if entry.get("kind") == "alert_raised":
            state[entry["incident_key"]] = True
        elif entry.get("kind") == "alert_resolved":
            state[entry["incident_key"]] = False
    return state
