"""Production parameters: ONE place read by the CDK stack and by the cost model.

Change a number here and both the deployed resources and the monthly cost move together.
Figures from the brief: 150M events/day, 1.2 TB/day of JSON, 12M transactional updates/day,
8M Salesforce records, 3 years of curated history, 90 days of raw retention, 300 BI users,
40 scheduled refreshes per hour.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from pathlib import Path

from brightcart_ops.registry import Registry, registry

from .schedules import MELTANO_YML, Schedule

# Task sizes, typical run times and schedules are lane registry facts (meltano.yml's job
# annotations and schedules); this module adds what only AWS needs.


@dataclass(frozen=True)
class Lane:
    """One Fargate task definition: a source lane's, or the transform task's (registry sizes)."""

    name: str
    vcpu: float  # Fargate vCPU (0.25, 0.5, 1, 2, 4, 8, 16)
    memory_gb: int
    lane: str | None  # the source lane it loads; None for the transform task

    @property
    def cpu_units(self) -> int:
        return int(self.vcpu * 1024)

    @property
    def memory_mib(self) -> int:
        return self.memory_gb * 1024


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
    authors_group: str = "brightcart-authors"  # QuickSight group that owns the data sets
    project_root: Path = MELTANO_YML.parent  # SQLMesh project: the bi views' columns


@dataclass(frozen=True)
class Network:
    azs: int = 3  # Redshift Serverless needs subnets in three AZs
    endpoint_azs: int = 2  # interface endpoints only where tasks run
    nat_gateways: int = 1  # Salesforce is on the internet; one NAT for that egress
    # Every AWS API a task calls: image pulls, logs, secrets, STS, alerts (SNS), metrics.
    interface_endpoints: tuple[str, ...] = (
        "ecr.api",
        "ecr.dkr",
        "logs",
        "secretsmanager",
        "sts",
        "sns",
        "monitoring",
    )
    # The S3 gateway endpoint's managed prefix list (`aws ec2 describe-managed-prefix-lists
    # --filters Name=prefix-list-name,Values=com.amazonaws.<region>.s3`): task egress to S3.
    s3_prefix_list_id: str = "pl-63a5400a"  # us-east-1
    # Where the OLTP read replica answers (its subnet); only tasks reading the source reach it.
    source_db_cidr: str = "10.50.0.0/16"
    source_db_port: int = 5432
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
    # Size overrides (task -> (vcpu, memory_gb)) on top of the registry's, for what-if pricing.
    task_sizes: tuple[tuple[str, float, int], ...] = ()
    warehouse: Warehouse = field(default_factory=Warehouse)
    storage: Storage = field(default_factory=Storage)
    state_db: StateDb = field(default_factory=StateDb)
    bi: Bi = field(default_factory=Bi)
    network: Network = field(default_factory=Network)
    observability: Observability = field(default_factory=Observability)
    meltano_yml: Path = MELTANO_YML

    def registry(self) -> Registry:
        return registry(self.meltano_yml)

    @property
    def lanes(self) -> tuple[Lane, ...]:
        """Every task definition, sized by the registry (and `task_sizes` overrides)."""
        sizes = {name: (vcpu, memory) for name, vcpu, memory in self.task_sizes}
        out = []
        for task in self.registry().tasks.values():
            vcpu, memory = sizes.get(task.name, (task.size.vcpu, task.size.memory_gb))
            out.append(Lane(task.name, vcpu, memory, task.lane))
        return tuple(out)

    @property
    def secrets(self) -> tuple[str, ...]:
        """Secrets Manager entries: each lane's source secrets (registry), one warehouse login
        per task (least privilege), the BI reader, and the lane-lock login."""
        known = self.registry()
        sources = [s for lane in known.lanes.values() for s in lane.secrets]
        logins = [f"warehouse/{task}" for task in known.tasks]
        return tuple(dict.fromkeys([*sources, *logins, "warehouse/bi_reader", "state/locks"]))

    def lane(self, name: str) -> Lane:
        for lane in self.lanes:
            if lane.name == name:
                return lane
        raise KeyError(f"no lane named {name!r}; lanes are {[x.name for x in self.lanes]}")

    def schedules(self) -> list[Schedule]:
        return list(self.registry().schedules)

    def minutes_per_run(self, schedule: Schedule) -> float:
        return self.registry().job(schedule.job).minutes

    def alarm_count(self) -> int:
        """Alarms in the stack: failure per task, outage per source lane, four pipeline-wide."""
        return len(self.lanes) + sum(1 for x in self.lanes if x.lane) + 4

    def with_lane(self, name: str, **changes: float) -> Params:
        """A copy with one task resized, e.g. `with_lane("events", vcpu=8)`."""
        current = self.lane(name)
        vcpu = float(changes.pop("vcpu", current.vcpu))
        memory = int(changes.pop("memory_gb", current.memory_gb))
        if changes:
            raise TypeError(f"only vcpu and memory_gb can change, not {sorted(changes)}")
        kept = tuple(t for t in self.task_sizes if t[0] != name)
        return replace(self, task_sizes=(*kept, (name, vcpu, memory)))


PRODUCTION = Params()
