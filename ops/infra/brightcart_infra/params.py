"""Production parameters: ONE place read by the CDK stack and by the cost model.

Change a number here and both the deployed resources and the monthly cost move together.
Figures from the brief: 150M events/day, 1.2 TB/day of JSON, 12M transactional updates/day,
8M Salesforce records, 3 years of curated history, 90 days of raw retention, 300 BI users,
40 scheduled refreshes per hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from .schedules import MELTANO_YML, Schedule, load_schedules


@dataclass(frozen=True)
class Lane:
    """One Fargate task definition: a source lane or the transformation + publishing task."""

    name: str
    vcpu: float  # Fargate vCPU (0.25, 0.5, 1, 2, 4, 8, 16)
    memory_gb: int
    typical_minutes: float  # wall time of one scheduled run at production scale
    description: str

    @property
    def cpu_units(self) -> int:
        return int(self.vcpu * 1024)

    @property
    def memory_mib(self) -> int:
        return self.memory_gb * 1024


LANES: tuple[Lane, ...] = (
    Lane("shop", 1, 4, 12, "PostgreSQL replica -> raw_shop (12M updates/day, ~500k per hour)"),
    Lane("events", 4, 16, 25, "S3 events -> raw_events (6.25M rows/hour average, 3x at peak)"),
    Lane("marketing", 0.5, 1, 5, "S3 ad-spend CSV -> raw_marketing (a few files per day)"),
    Lane("crm", 1, 2, 10, "Salesforce REST -> raw_crm (8M records, incremental by SystemModstamp)"),
    Lane("transform", 2, 8, 20, "sqlmesh run, audits, reconciliation, publish to QuickSight"),
)


# Jobs whose run time differs from their lane's typical run (meltano.yml job name -> minutes).
JOB_MINUTES: dict[str, float] = {
    "finance-full-extract": 40,  # bounded full-table read of finance tables, off business hours
    "reconcile": 25,  # per-day counts, sums and key hashes, source vs warehouse
    "retention": 5,  # drops warehouse raw partitions older than the raw retention
    "audit-check": 1,  # reads the audit trail and the review tables
}


@dataclass(frozen=True)
class Warehouse:
    """Redshift Serverless (see docs/adr/0001-redshift-serverless-or-ra3.md)."""

    base_rpu: int = 8  # capacity the workgroup starts every query with
    max_rpu: int = 64  # ceiling on automatic scaling: the hard cost guard
    active_hours_per_day: float = 24.0  # hourly loads + 40 refreshes/hour keep it warm all day
    burst_extra_rpu: int = 24  # extra RPU while the daily reconciliation and 06:00 marts run
    burst_hours_per_day: float = 2.0
    database: str = "brightcart"
    # RA3 alternative priced by the cost model for the ADR (not deployed).
    ra3_node_type: str = "ra3.xlplus"
    ra3_nodes: int = 2


@dataclass(frozen=True)
class Storage:
    raw_json_tb_per_day: float = 1.2
    raw_compression_ratio: float = 8.0  # gzip on JSON lines, measured ~8:1 on event samples
    raw_retention_days: int = 90
    staging_expiry_days: int = 2
    audit_retention_days: int = 2557  # seven years, SOX record keeping
    audit_object_lock_mode: str = "COMPLIANCE"
    audit_gb: float = 50.0
    # Warehouse (Redshift managed storage), priced at year 3 when history is full:
    warehouse_raw_gb_per_day: float = 150.0  # raw_* copies, columnar + SUPER payload, 90 days
    warehouse_raw_days: int = 90
    curated_gb_per_day: float = 10.0  # staging + marts (events fact narrowed), compressed
    curated_history_days: int = 3 * 365
    staging_files_per_hour: int = 400  # loader files PUT to staging then COPY'd
    raw_objects_per_hour: int = 120  # Firehose objects listed and read by the events lane


@dataclass(frozen=True)
class StateDb:
    """PostgreSQL for SQLMesh state and Meltano's system database (run state)."""

    instance_class: str = "t4g"
    instance_size: str = "small"
    multi_az: bool = True
    storage_gb: int = 20
    port: int = 5532  # not the default port (cdk-nag RDS11)
    backup_days: int = 7


@dataclass(frozen=True)
class Bi:
    authors: int = 10  # three engineers + analysts who build dashboards
    readers: int = 290  # 300 BI users in total
    spice_gb: float = 150.0
    refreshes_per_hour: int = 40
    dataset_prefix: str = "brightcart-"


@dataclass(frozen=True)
class Network:
    azs: int = 3  # Redshift Serverless needs subnets in three AZs
    endpoint_azs: int = 2  # interface endpoints only where tasks run
    nat_gateways: int = 1  # Salesforce is on the internet; one NAT for that egress
    interface_endpoints: tuple[str, ...] = ("ecr.api", "ecr.dkr", "logs", "secretsmanager", "sts")
    nat_gb_per_month: float = 30.0  # Salesforce API traffic and package-free egress
    endpoint_gb_per_month: float = 200.0  # logs, secrets, image manifests, STS


@dataclass(frozen=True)
class Observability:
    namespace: str = "BrightCart/Pipeline"
    freshness_sla_minutes: int = 90  # hourly freshness: data older than 90 min breaches
    log_gb_per_month: float = 60.0
    log_retention_days: int = 90
    custom_metrics: int = 20  # LaneFailed/SourceUnreachable per lane, freshness, audits, recon
    container_insights_metrics: int = 60  # cluster + five task families
    flow_log_gb_per_month: float = 20.0
    budget_usd: int = 18_000
    budget_alert_percent: int = 50  # alert when forecast passes half of the cap


@dataclass(frozen=True)
class Params:
    account: str = "111111111111"
    region: str = "us-east-1"
    lanes: tuple[Lane, ...] = LANES
    warehouse: Warehouse = field(default_factory=Warehouse)
    storage: Storage = field(default_factory=Storage)
    state_db: StateDb = field(default_factory=StateDb)
    bi: Bi = field(default_factory=Bi)
    network: Network = field(default_factory=Network)
    observability: Observability = field(default_factory=Observability)
    meltano_yml: Path = MELTANO_YML
    secrets: tuple[str, ...] = (
        "source/postgres",
        "source/salesforce",
        "source/salesforce-token",
        "warehouse/pipeline",
        "warehouse/bi_reader",
    )

    def lane(self, name: str) -> Lane:
        for lane in self.lanes:
            if lane.name == name:
                return lane
        raise KeyError(f"no lane named {name!r}; lanes are {[x.name for x in self.lanes]}")

    job_minutes: tuple[tuple[str, float], ...] = tuple(JOB_MINUTES.items())

    def schedules(self) -> list[Schedule]:
        return load_schedules(self.meltano_yml)

    def minutes_per_run(self, schedule: Schedule) -> float:
        return dict(self.job_minutes).get(schedule.job, self.lane(schedule.lane).typical_minutes)

    def alarm_count(self) -> int:
        """Alarms in the stack: failure per lane, outage per source lane, four pipeline-wide."""
        return len(self.lanes) + sum(1 for x in self.lanes if x.name != "transform") + 4

    def with_lane(self, name: str, **changes: float) -> Params:
        """A copy with one lane changed, e.g. `with_lane("events", vcpu=8)`."""
        lanes = tuple(replace(x, **changes) if x.name == name else x for x in self.lanes)  # type: ignore[arg-type]
        return replace(self, lanes=lanes)


PRODUCTION = Params()
