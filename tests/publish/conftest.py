"""Fixtures for the publish tests: a tiny SQLMesh project, moto's server, a private home.

The tiny project has the same shape as the real one (raw table -> marts -> bi views) and the same
config path (brightcart_sqlmesh.gateways + brightcart_sqlmesh.notify.targets), so the real
notification target runs inside real `Context.plan`/`Context.run` calls.
"""

from __future__ import annotations

import json
import shutil
import socket
import tempfile
import urllib.request
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from textwrap import dedent

import boto3
import duckdb
import pytest
from moto.server import ThreadedMotoServer

ROOT = Path("/tmp/pub")

CONFIG = dedent(
    """
    from sqlmesh.core.config import Config, ModelDefaultsConfig

    from brightcart_sqlmesh.gateways import gateways
    from brightcart_sqlmesh.notify import targets

    config = Config(
        gateways=gateways(),
        default_gateway="local",
        model_defaults=ModelDefaultsConfig(dialect="duckdb", start="2026-11-01"),
        disable_anonymized_analytics=True,
        notification_targets=targets(raise_errors=True),
    )
    """
)

MODELS = {
    "revenue_hourly.sql": """
        MODEL (
          name marts_finance.revenue_hourly,
          kind INCREMENTAL_BY_TIME_RANGE (time_column revenue_hour),
          cron '@hourly',
          grain (revenue_hour, channel),
          audits (not_null(columns := (gmv)))
        );
        SELECT
          CAST(DATE_TRUNC('hour', paid_at) AS TIMESTAMPTZ) AS revenue_hour,
          channel,
          CAST(SUM(amount) AS DECIMAL(18, 2)) AS gmv,
          CAST(SUM(refund) AS DECIMAL(18, 2)) AS refunds,
          COUNT(*) AS orders
        FROM raw_shop.orders
        WHERE paid_at BETWEEN @start_ts AND @end_ts
        GROUP BY 1, 2
    """,
    "revenue_daily.sql": """
        MODEL (
          name marts_finance.revenue_daily,
          kind INCREMENTAL_BY_TIME_RANGE (time_column revenue_date),
          cron '@daily',
          grain revenue_date
        );
        SELECT
          CAST(paid_at AS DATE) AS revenue_date,
          CAST(SUM(amount) AS DECIMAL(18, 2)) AS gmv,
          CAST(SUM(amount) - SUM(refund) AS DECIMAL(18, 2)) AS net_revenue,
          COUNT(*) AS orders,
          SUM(amount) / COUNT(*) AS aov,
          SUM(refund) / SUM(amount) AS refund_rate,
          COUNT(DISTINCT customer_id) AS new_customers
        FROM raw_shop.orders
        WHERE CAST(paid_at AS DATE) BETWEEN @start_ds AND @end_ds
        GROUP BY 1
    """,
    "sellers.sql": """
        MODEL (name marts_sellers.sellers, kind FULL, cron '@daily', grain seller_id);
        SELECT seller_id, name FROM raw_shop.sellers
    """,
    "bi_operations_hourly.sql": """
        MODEL (name bi.operations_hourly, kind VIEW);
        SELECT revenue_hour, channel, orders, gmv, refunds FROM marts_finance.revenue_hourly
    """,
    "bi_executive_daily.sql": """
        MODEL (name bi.executive_daily, kind VIEW);
        SELECT * FROM marts_finance.revenue_daily
    """,
    "bi_sellers.sql": """
        MODEL (name bi.sellers, kind VIEW);
        SELECT * FROM marts_sellers.sellers
    """,
}


def dataset_map(token: str, coalesce_minutes: float = 0) -> str:
    return dedent(
        f"""
        version: 1
        limits: {{max_refreshes_per_hour: 40, daily_quota_per_dataset: 32,
                  coalesce_minutes: {coalesce_minutes}}}
        slas:
          ops-hourly: {{max_age_minutes: 90, at_risk_ratio: 0.75}}
          exec-daily: {{due_utc: "06:00", at_risk_minutes: 60}}
        dashboards:
          executive:
            title: Executive KPIs
            charts:
              - {{dataset: executive_daily, x: revenue_date, y: gmv, title: Daily GMV, kind: bar}}
              - {{dataset: executive_daily, x: revenue_date, y: net_revenue, title: Net revenue}}
              - {{dataset: executive_daily, x: revenue_date, y: orders, title: Orders}}
              - {{dataset: executive_daily, x: revenue_date, y: aov, title: AOV}}
              - {{dataset: executive_daily, x: revenue_date, y: refund_rate, title: Refund rate}}
              - {{dataset: executive_daily, x: revenue_date, y: new_customers,
                  title: New customers, kind: bar}}
          operations:
            title: Operations
            charts:
              - {{dataset: operations_hourly, x: revenue_hour, y: orders, title: Orders/h,
                  kind: bar}}
              - {{dataset: operations_hourly, x: revenue_hour, y: gmv, title: GMV/h}}
              - {{dataset: operations_hourly, x: revenue_hour, y: refunds, title: Refunds/h}}
          sellers:
            title: Sellers
            charts: []
        datasets:
          operations_hourly:
            view: bi.operations_hourly
            quicksight_id: ops-{token}
            dashboards: [operations]
            refresh: ops-hourly
          executive_daily:
            view: bi.executive_daily
            quicksight_id: exec-{token}
            dashboards: [executive]
            refresh: exec-daily
          sellers:
            view: bi.sellers
            quicksight_id: sellers-{token}
            dashboards: [sellers]
            refresh: exec-daily
        """
    )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class Moto:
    endpoint: str

    def ingestions(self) -> list[tuple[str, str]]:
        """(data set id, ingestion id) of every ingestion the server has seen."""
        with urllib.request.urlopen(f"{self.endpoint}/moto-api/data.json") as response:
            data = json.load(response)
        found = []
        for item in data.get("quicksight", {}).get("QuicksightIngestion", []):
            data_set = item["arn"].split(":data-set/")[1].split("/ingestions/")[0]
            found.append((data_set, item["ingestion_id"]))
        return found


@pytest.fixture(scope="module")
def moto_server() -> Iterator[Moto]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    try:
        yield Moto(f"http://127.0.0.1:{port}")
    finally:
        server.stop()


@dataclass
class World:
    home: Path
    project: Path
    warehouse: Path
    token: str
    moto: Moto

    def sql(self, statement: str) -> list[tuple[object, ...]]:
        con = duckdb.connect(str(self.warehouse))
        try:
            return con.execute(statement).fetchall()
        finally:
            con.close()

    def ingested(self, before: list[tuple[str, str]]) -> set[str]:
        """Data set ids (token removed) of ingestions created since `before`."""
        new = [i for i in self.moto.ingestions() if i not in before]
        return {ds.rsplit("-", 1)[0] for ds, _ in new if ds.endswith(self.token)}


@pytest.fixture
def world(moto_server: Moto, monkeypatch: pytest.MonkeyPatch) -> Iterator[World]:
    ROOT.mkdir(parents=True, exist_ok=True)
    home = Path(tempfile.mkdtemp(prefix="publish-", dir=ROOT))
    project = home / "project"
    (project / "models").mkdir(parents=True)
    (project / "config.py").write_text(CONFIG, encoding="utf-8")
    for name, body in MODELS.items():
        (project / "models" / name).write_text(dedent(body), encoding="utf-8")
    token = uuid.uuid4().hex[:10]
    (home / "bi_datasets.yaml").write_text(dataset_map(token), encoding="utf-8")
    warehouse = home / "warehouse.duckdb"
    env = {
        "BRIGHTCART_HOME": str(home),
        "BRIGHTCART_WAREHOUSE": str(warehouse),
        "BRIGHTCART_GATEWAY": "local",
        "BRIGHTCART_BI": "quicksight",
        "BRIGHTCART_BI_DATASETS": str(home / "bi_datasets.yaml"),
        "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
        "AWS_ENDPOINT_URL": moto_server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    for name in (
        "BRIGHTCART_ALERT_TOPIC_ARN",
        "BRIGHTCART_QUICKSIGHT_ACCOUNT_ID",
        "AWS_ACCOUNT_ID",
    ):
        monkeypatch.delenv(name, raising=False)
    con = duckdb.connect(str(warehouse))
    con.execute(
        "CREATE SCHEMA raw_shop; "
        "CREATE TABLE raw_shop.orders (order_id BIGINT, customer_id BIGINT, channel VARCHAR, "
        "amount DECIMAL(12, 2), refund DECIMAL(12, 2), paid_at TIMESTAMPTZ); "
        "CREATE TABLE raw_shop.sellers (seller_id BIGINT, name VARCHAR); "
        "INSERT INTO raw_shop.sellers VALUES (1, 'Acme'), (2, 'Globex'); "
        "INSERT INTO raw_shop.orders VALUES "
        "(1, 10, 'web', 100.00, 0, '2026-11-01 01:10:00+00'), "
        "(2, 11, 'ios', 50.00, 5.00, '2026-11-01 01:40:00+00'), "
        "(3, 10, 'web', 20.00, 0, '2026-11-01 05:05:00+00'), "
        "(4, 12, 'android', 30.00, 0, '2026-11-01 13:00:00+00')"
    )
    con.close()
    quicksight = boto3.client("quicksight")
    for prefix in ("ops", "exec", "sellers"):
        quicksight.create_data_set(
            AwsAccountId="123456789012",
            DataSetId=f"{prefix}-{token}",
            Name=f"{prefix} {token}",
            ImportMode="SPICE",
            PhysicalTableMap={
                "t": {
                    "CustomSql": {
                        "DataSourceArn": "arn:aws:quicksight:us-east-1:123456789012:datasource/x",
                        "Name": prefix,
                        "SqlQuery": f"SELECT * FROM bi.{prefix}",
                    }
                }
            },
        )
    try:
        yield World(home, project, warehouse, token, moto_server)
    finally:
        shutil.rmtree(home, ignore_errors=True)
