"""SOX audit trail: who applied or ran what in prod, with which model versions and audit results.

`record_prod_event()` is called by the SQLMesh notification target after every prod apply/run.
Each event is appended to ops.audit_trail (never updated or deleted) and exported as one JSON
line: locally to $BRIGHTCART_HOME/audit/audit-<UTC date>.jsonl, in production to an S3 bucket
with Object Lock (BRIGHTCART_AUDIT_BUCKET; COMPLIANCE mode, BRIGHTCART_AUDIT_RETAIN_DAYS, default
7 years). Events are hash-chained: `event_hash` = sha256(previous event_hash + the event's
canonical JSON), so a changed or removed row breaks the chain (`verify_chain`).
"""

from __future__ import annotations

import getpass
import hashlib
import json
import logging
import os
import subprocess
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

from tenacity import retry, stop_after_attempt, wait_exponential

from brightcart_ops.opslog import SCHEMA, ensure, new_id, utcnow
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_ops.settings import Settings
from brightcart_ops.settings import load as load_settings
from brightcart_ops.warehouse import Warehouse

AUDIT_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.audit_trail (
    event_id VARCHAR NOT NULL,
    recorded_at TIMESTAMPTZ NOT NULL,
    kind VARCHAR NOT NULL,              -- apply, run, close_month, ...
    plan_id VARCHAR,                    -- SQLMesh plan id (apply) or run id
    environment VARCHAR NOT NULL,       -- prod (dev events are not recorded)
    actor VARCHAR NOT NULL,             -- who: BRIGHTCART_ACTOR, AWS caller or OS user
    actor_source VARCHAR NOT NULL,      -- env, aws, os
    git_commit VARCHAR NOT NULL,        -- code version of the project
    snapshots VARCHAR(65535) NOT NULL,  -- JSON list of name, fingerprint, version
    audits VARCHAR(65535) NOT NULL,     -- JSON list of model, audit, outcome, detail
    audits_failed INTEGER NOT NULL,
    prev_hash VARCHAR NOT NULL,
    event_hash VARCHAR NOT NULL         -- sha256(prev_hash || canonical event JSON)
)
"""
GENESIS = "0" * 64
log = logging.getLogger(__name__)


@dataclass
class AuditEvent:
    kind: str
    plan_id: str | None
    environment: str
    actor: str
    actor_source: str
    git_commit: str
    snapshots: list[dict[str, str]]
    audits: list[dict[str, str]]
    event_id: str = field(default_factory=new_id)
    recorded_at: datetime = field(default_factory=utcnow)
    prev_hash: str = GENESIS
    event_hash: str = ""

    @property
    def audits_failed(self) -> int:
        return sum(1 for a in self.audits if a.get("outcome") == "failed")

    def body(self) -> dict[str, Any]:
        data = asdict(self)
        data.pop("event_hash")
        data["recorded_at"] = self.recorded_at.isoformat()
        data["audits_failed"] = self.audits_failed
        return data

    def seal(self, prev_hash: str) -> None:
        self.prev_hash = prev_hash
        canonical = json.dumps(self.body(), sort_keys=True, separators=(",", ":"))
        self.event_hash = hashlib.sha256((prev_hash + canonical).encode()).hexdigest()

    def json_line(self) -> str:
        return json.dumps(self.body() | {"event_hash": self.event_hash}, sort_keys=True)


def identity(environment: str) -> tuple[str, str]:
    """Who is acting: BRIGHTCART_ACTOR, else the AWS caller in prod, else the OS user."""
    actor = os.environ.get("BRIGHTCART_ACTOR")
    if actor:
        return actor, "env"
    if environment == "prod":
        import boto3
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return str(boto3.client("sts").get_caller_identity()["Arn"]), "aws"
        except (BotoCoreError, ClientError) as exc:  # recorded as the OS user, and logged
            log.warning("no AWS caller identity (%s); recording the OS user instead", exc)
    return getpass.getuser(), "os"


def git_output(*args: str) -> str:
    """`git <args>` in the project, stripped; unknown when git or the repository is missing."""
    try:
        out = subprocess.run(
            ["git", *args],
            cwd=PROJECT_ROOT,
            capture_output=True,
            text=True,
            check=True,
            timeout=10,
        )
    except (OSError, subprocess.SubprocessError):
        return "unknown"
    return out.stdout.strip() or "unknown"


def git_commit() -> str:
    """BRIGHTCART_GIT_COMMIT (set in the container image), else `git rev-parse HEAD`."""
    return os.environ.get("BRIGHTCART_GIT_COMMIT") or git_output("rev-parse", "HEAD")


def snapshot_records(snapshots: Iterable[Any]) -> list[dict[str, str]]:
    """Normalise SQLMesh snapshots / SnapshotTableInfo / dicts / 'name:fingerprint' strings."""
    records = []
    for snap in snapshots:
        if isinstance(snap, Mapping):
            records.append({k: str(v) for k, v in snap.items()})
        elif isinstance(snap, str):
            name, _, fingerprint = snap.partition(":")
            records.append({"name": name, "fingerprint": fingerprint, "version": ""})
        else:
            fingerprint = getattr(snap, "fingerprint", "")
            identifier = getattr(fingerprint, "to_identifier", None)
            records.append(
                {
                    "name": str(getattr(snap, "name", "")),
                    "fingerprint": str(identifier() if callable(identifier) else fingerprint),
                    "version": str(getattr(snap, "version", "") or ""),
                }
            )
    return sorted(records, key=lambda r: r.get("name", ""))


def audit_records(audits: Iterable[Any]) -> list[dict[str, str]]:
    out = []
    for item in audits:
        if isinstance(item, Mapping):
            out.append({k: str(v) for k, v in item.items()})
        else:
            out.append({"audit": str(item), "outcome": "unknown"})
    return out


def _last_hash(warehouse: Warehouse) -> str:
    rows = warehouse.query(
        f"SELECT event_hash FROM {SCHEMA}.audit_trail ORDER BY recorded_at DESC, event_id "
        "DESC LIMIT 1"
    )
    return str(rows[0][0]) if rows else GENESIS


def _insert(warehouse: Warehouse, event: AuditEvent) -> None:
    warehouse.execute(
        f"INSERT INTO {SCHEMA}.audit_trail VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            event.event_id,
            event.recorded_at,
            event.kind,
            event.plan_id,
            event.environment,
            event.actor,
            event.actor_source,
            event.git_commit,
            json.dumps(event.snapshots, sort_keys=True),
            json.dumps(event.audits, sort_keys=True),
            event.audits_failed,
            event.prev_hash,
            event.event_hash,
        ),
    )


def export_local(event: AuditEvent, home: Path) -> Path:
    folder = home / "audit"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"audit-{event.recorded_at.date().isoformat()}.jsonl"
    with path.open("a", encoding="utf-8") as handle:
        handle.write(event.json_line() + "\n")
    return path


@retry(stop=stop_after_attempt(4), wait=wait_exponential(multiplier=0.5, max=8), reraise=True)
def export_s3(event: AuditEvent, bucket: str, retain_days: int) -> str:
    """One immutable object per event, locked in COMPLIANCE mode until the retention date."""
    import boto3

    key = f"audit/dt={event.recorded_at.date().isoformat()}/{event.event_id}.jsonl"
    boto3.client("s3").put_object(
        Bucket=bucket,
        Key=key,
        Body=(event.json_line() + "\n").encode(),
        ContentType="application/x-ndjson",
        ObjectLockMode="COMPLIANCE",
        ObjectLockRetainUntilDate=event.recorded_at + timedelta(days=retain_days),
        ChecksumAlgorithm="SHA256",
    )
    return f"s3://{bucket}/{key}"


def state_snapshots(project: Path = PROJECT_ROOT, gateway: str | None = None) -> list[Any]:
    """The prod environment's snapshots read from SQLMesh state (name, fingerprint, version)."""
    from brightcart_ops.month_close import prod_snapshots

    return list(prod_snapshots(project, gateway or os.environ.get("BRIGHTCART_GATEWAY", "local")))


def record_prod_event(
    kind: str,
    plan_id: str | None,
    environment: str,
    snapshots: Iterable[Any] | None = None,
    audits: Iterable[Any] = (),
    warehouse: Warehouse | None = None,
    settings: Settings | None = None,
) -> AuditEvent | None:
    """Record one prod apply/run (returns None for other environments, which are not audited).

    `snapshots=None` reads the prod environment's snapshots from SQLMesh state.
    """
    if environment != "prod":
        return None
    if snapshots is None:
        snapshots = state_snapshots()
    settings = settings or load_settings()
    warehouse = warehouse or Warehouse(settings)
    actor, source = identity(environment)
    event = AuditEvent(
        kind=kind,
        plan_id=plan_id,
        environment=environment,
        actor=actor,
        actor_source=source,
        git_commit=git_commit(),
        snapshots=snapshot_records(snapshots),
        audits=audit_records(audits),
    )
    ensure(warehouse, [AUDIT_DDL])
    event.seal(_last_hash(warehouse))
    _insert(warehouse, event)
    bucket = os.environ.get("BRIGHTCART_AUDIT_BUCKET")
    if bucket:
        export_s3(event, bucket, int(os.environ.get("BRIGHTCART_AUDIT_RETAIN_DAYS", "2557")))
    else:
        export_local(event, settings.home)
    return event


def verify_chain(warehouse: Warehouse) -> list[str]:
    """Event ids whose hash does not follow from the previous one (empty: the trail is intact)."""
    ensure(warehouse, [AUDIT_DDL])
    rows = warehouse.query(
        f"SELECT event_id, recorded_at, kind, plan_id, environment, actor, actor_source, "
        f"git_commit, snapshots, audits, prev_hash, event_hash FROM {SCHEMA}.audit_trail "
        "ORDER BY recorded_at, event_id"
    )
    broken = []
    prev = GENESIS
    for row in rows:
        event = AuditEvent(
            kind=str(row[2]),
            plan_id=None if row[3] is None else str(row[3]),
            environment=str(row[4]),
            actor=str(row[5]),
            actor_source=str(row[6]),
            git_commit=str(row[7]),
            snapshots=json.loads(str(row[8])),
            audits=json.loads(str(row[9])),
            event_id=str(row[0]),
            recorded_at=row[1].astimezone(UTC),
        )
        event.seal(prev)
        if event.event_hash != row[11] or row[10] != prev:
            broken.append(str(row[0]))
        prev = str(row[11])
    return broken
