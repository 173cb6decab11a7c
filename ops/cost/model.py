"""Monthly AWS cost of the production shape, from the SAME parameters the CDK app deploys.

    .venv/bin/python ops/cost/model.py          # prints the table and the total

`render_table()` and `monthly_total()` are what the `brightcart cost` command calls (put the
`ops/` folder on sys.path, e.g. `Path(brightcart_ops.__file__).parents[1]`, then
`from cost.model import render_table`). Every unit
price comes from prices.yaml (with its source page and date); every quantity comes from
`infra.brightcart_infra.params` and meltano.yml's schedules.
"""

from __future__ import annotations

import io
import sys
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

_OPS = Path(__file__).resolve().parents[1]
if str(_OPS) not in sys.path:
    sys.path.insert(0, str(_OPS))

from infra.brightcart_infra.params import PRODUCTION, Params  # noqa: E402
from infra.brightcart_infra.schedules import runs_per_month  # noqa: E402

from brightcart_ops.yamlfile import read_yaml  # noqa: E402

PRICES_YAML = Path(__file__).with_name("prices.yaml")
HOURS = 730.0  # hours in an average month
DAYS = HOURS / 24
CAP_USD = 18_000.0


@dataclass(frozen=True)
class Line:
    group: str
    item: str
    quantity: str
    usd: float


@lru_cache(maxsize=4)
def _load_prices(path: Path) -> dict[str, float]:
    doc = read_yaml(path)
    prices: dict[str, float] = {}
    for name, entry in doc["prices"].items():
        missing = {"usd", "unit", "source", "as_of"} - set(entry)
        if missing:
            raise ValueError(f"{path}: price {name!r} lacks {sorted(missing)}")
        prices[name] = float(entry["usd"])
    return prices


def prices(path: Path = PRICES_YAML) -> dict[str, float]:
    return dict(_load_prices(path))


def _fargate(p: Params, price: dict[str, float]) -> list[Line]:
    runs: dict[str, float] = {}
    hours: dict[str, float] = {}
    scale = HOURS / (30 * 24)  # runs_per_month counts a 30-day month
    for s in p.schedules():
        n = runs_per_month(s.cron) * scale
        runs[s.lane] = runs.get(s.lane, 0) + n
        hours[s.lane] = hours.get(s.lane, 0) + n * p.minutes_per_run(s) / 60
    lines = []
    for lane in p.lanes:
        h = hours.get(lane.name, 0.0)
        rate = lane.vcpu * price["fargate_vcpu_hour"] + lane.memory_gb * price["fargate_gb_hour"]
        lines.append(
            Line(
                "Compute (Fargate)",
                f"{lane.name} task",
                f"{runs.get(lane.name, 0):.0f} runs, {h:.0f} h"
                f" x {lane.vcpu:g} vCPU/{lane.memory_gb} GB",
                h * rate,
            )
        )
    return lines


def _warehouse(p: Params, price: dict[str, float]) -> list[Line]:
    w, s = p.warehouse, p.storage
    rpu = price["redshift_serverless_rpu_hour"]
    stored_gb = s.warehouse_raw_gb_per_day * s.warehouse_raw_days + (
        s.curated_gb_per_day * s.curated_history_days
    )
    return [
        Line(
            "Warehouse (Redshift Serverless)",
            "base capacity",
            f"{w.base_rpu} RPU x {w.active_hours_per_day:g} h/day",
            w.base_rpu * w.active_hours_per_day * DAYS * rpu,
        ),
        Line(
            "Warehouse (Redshift Serverless)",
            "daily burst (reconciliation, 06:00 marts)",
            f"+{w.burst_extra_rpu} RPU x {w.burst_hours_per_day:g} h/day",
            w.burst_extra_rpu * w.burst_hours_per_day * DAYS * rpu,
        ),
        Line(
            "Warehouse (Redshift Serverless)",
            "managed storage at year 3",
            f"{stored_gb / 1000:.1f} TB (90 d raw + 3 y curated)",
            stored_gb * price["redshift_managed_storage_gb_month"],
        ),
    ]


def _s3(p: Params, price: dict[str, float]) -> list[Line]:
    s = p.storage
    gb_day = s.raw_json_tb_per_day * 1000 / s.raw_compression_ratio
    raw_gb = gb_day * s.raw_retention_days
    staging_gb = gb_day * s.staging_expiry_days
    puts = s.staging_files_per_hour * HOURS * 2  # PUT + LIST/DELETE bookkeeping
    gets = (s.staging_files_per_hour + s.raw_objects_per_hour) * HOURS * 2  # lane + COPY reads
    gb = price["s3_standard_gb_month"]
    return [
        Line(
            "Storage (S3)",
            "raw landing",
            f"{raw_gb / 1000:.1f} TB (90 days at {s.raw_compression_ratio:g}:1)",
            raw_gb * gb,
        ),
        Line(
            "Storage (S3)",
            "loader staging",
            f"{staging_gb:.0f} GB ({s.staging_expiry_days}-day expiry)",
            staging_gb * gb,
        ),
        Line("Storage (S3)", "audit export (Object Lock)", f"{s.audit_gb:g} GB", s.audit_gb * gb),
        Line(
            "Storage (S3)",
            "requests",
            f"{puts / 1000:.0f}k PUT/LIST, {gets / 1000:.0f}k GET",
            puts / 1000 * price["s3_put_per_1000"] + gets / 1000 * price["s3_get_per_1000"],
        ),
    ]


def _bi(p: Params, price: dict[str, float]) -> list[Line]:
    b = p.bi
    included = b.authors * price["quicksight_spice_included_gb_per_author"]
    extra = max(0.0, b.spice_gb - included)
    return [
        Line(
            "BI (QuickSight)",
            "authors",
            f"{b.authors} authors",
            b.authors * price["quicksight_author_month"],
        ),
        Line(
            "BI (QuickSight)",
            "readers",
            f"{b.readers} readers",
            b.readers * price["quicksight_reader_month"],
        ),
        Line(
            "BI (QuickSight)",
            "SPICE above included",
            f"{extra:g} GB of {b.spice_gb:g} GB",
            extra * price["quicksight_spice_gb_month"],
        ),
    ]


def _state_db(p: Params, price: dict[str, float]) -> list[Line]:
    d = p.state_db
    if (d.instance_class, d.instance_size) != ("t4g", "small"):
        raise ValueError("prices.yaml prices db.t4g.small only; add the new class there first")
    az = 2 if d.multi_az else 1
    return [
        Line(
            "State DB (RDS PostgreSQL)",
            "instance + storage",
            f"db.t4g.small x{az} AZ, {d.storage_gb} GB gp3",
            az
            * (
                HOURS * price["rds_postgres_t4g_small_hour"]
                + d.storage_gb * price["rds_gp3_gb_month"]
            ),
        )
    ]


def _network(p: Params, price: dict[str, float]) -> list[Line]:
    n = p.network
    endpoints = len(n.interface_endpoints) * n.endpoint_azs
    return [
        Line(
            "Network",
            "NAT gateway (Salesforce egress)",
            f"{n.nat_gateways} x {HOURS:g} h, {n.nat_gb_per_month:g} GB",
            n.nat_gateways * HOURS * (price["nat_gateway_hour"] + price["public_ipv4_hour"])
            + n.nat_gb_per_month * price["nat_gateway_gb"],
        ),
        Line(
            "Network",
            "interface endpoints",
            f"{len(n.interface_endpoints)} services x {n.endpoint_azs} AZ,"
            f" {n.endpoint_gb_per_month:g} GB",
            endpoints * HOURS * price["interface_endpoint_hour"]
            + n.endpoint_gb_per_month * price["interface_endpoint_gb"],
        ),
    ]


def _operations(p: Params, price: dict[str, float]) -> list[Line]:
    o = p.observability
    metrics = o.custom_metrics + o.container_insights_metrics
    stored_gb = o.log_gb_per_month * o.log_retention_days / 30
    secrets = len(p.secrets) + 2  # + state DB login + Redshift-managed admin
    runs = sum(runs_per_month(s.cron) for s in p.schedules()) * HOURS / 720
    calls = runs * 3  # each task start reads up to three secrets
    image_gb = 3.0 * 5  # ~3 GB image, five versions kept
    return [
        Line(
            "Operations",
            "CloudWatch metrics + alarms",
            f"{metrics} metrics, {p.alarm_count()} alarms",
            metrics * price["cloudwatch_metric_month"]
            + p.alarm_count() * price["cloudwatch_alarm_month"],
        ),
        Line(
            "Operations",
            "CloudWatch Logs",
            f"{o.log_gb_per_month:g} GB/month, {o.log_retention_days} days kept",
            o.log_gb_per_month * price["cloudwatch_logs_ingest_gb"]
            + stored_gb * price["cloudwatch_logs_store_gb_month"],
        ),
        Line(
            "Operations",
            "VPC flow logs to S3",
            f"{o.flow_log_gb_per_month:g} GB",
            o.flow_log_gb_per_month * price["vended_logs_s3_gb"],
        ),
        Line(
            "Operations",
            "Secrets Manager + KMS",
            f"{secrets} secrets, {calls / 1000:.0f}k calls, 1 key",
            secrets * price["secrets_manager_secret_month"]
            + calls / 10_000 * price["secrets_manager_per_10k_calls"]
            + price["kms_key_month"],
        ),
        Line(
            "Operations",
            "ECR image storage",
            f"{image_gb:g} GB",
            image_gb * price["ecr_storage_gb_month"],
        ),
        Line(
            "Operations",
            "EventBridge Scheduler",
            f"{runs:.0f} invocations (14M free)",
            max(0.0, runs - 14e6) / 1e6 * price["scheduler_per_million"],
        ),
    ]


def cost_lines(params: Params = PRODUCTION, prices_path: Path = PRICES_YAML) -> list[Line]:
    price = prices(prices_path)
    return [
        *_fargate(params, price),
        *_warehouse(params, price),
        *_s3(params, price),
        *_bi(params, price),
        *_state_db(params, price),
        *_network(params, price),
        *_operations(params, price),
    ]


def monthly_total(params: Params = PRODUCTION, prices_path: Path = PRICES_YAML) -> float:
    return sum(line.usd for line in cost_lines(params, prices_path))


def ra3_alternative(params: Params = PRODUCTION, prices_path: Path = PRICES_YAML) -> float:
    """Monthly compute of the provisioned RA3 option the ADR compares (storage is the same)."""
    w = params.warehouse
    key = "redshift_" + w.ra3_node_type.replace(".", "_") + "_hour"
    return w.ra3_nodes * HOURS * prices(prices_path)[key]


def render_table(params: Params = PRODUCTION) -> str:
    from rich.console import Console
    from rich.table import Table

    lines = cost_lines(params)
    total = sum(x.usd for x in lines)
    table = Table(title="BrightCart production, monthly (us-east-1, list prices)")
    table.add_column("group")
    table.add_column("item")
    table.add_column("quantity")
    table.add_column("USD/month", justify="right")
    for x in lines:
        table.add_row(x.group, x.item, x.quantity, f"{x.usd:,.2f}")
    table.add_section()
    table.add_row(
        "TOTAL", "", f"{100 * total / CAP_USD:.0f}% of the ${CAP_USD:,.0f} cap", f"{total:,.2f}"
    )
    out = io.StringIO()
    Console(file=out, width=130, color_system=None).print(table)
    return out.getvalue()


if __name__ == "__main__":
    print(render_table())
