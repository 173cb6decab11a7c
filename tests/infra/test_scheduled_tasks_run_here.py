"""Every scheduled task of the synthesized template, run on this machine as ECS would run it.

From the template (the session's one synth): each EventBridge schedule's container command, and
its task definition's environment and secrets. Secrets are served by moto's Secrets Manager over
its HTTP server (the "AWS account" here, which also serves SNS, SQS and CloudWatch): put there
under the template's names and resolved as ECS resolves `ValueFrom` (secret ARN, JSON key). The
command runs as a subprocess against a small local world and its DuckDB warehouse.

What differs from production, and only this: Redshift cannot run here, so the warehouse is the
world's DuckDB file (MELTANO_ENVIRONMENT=dev, BRIGHTCART_GATEWAY=local instead of prod/redshift);
CloudFormation references resolve to the local world (the raw bucket, the world's database for
the lock DSN, the local Meltano system database instead of the state bucket); S3 of the sources
is the world's S3 server (AWS_ENDPOINT_URL_S3), every other AWS API the account's moto; AWS SDK
retries are cut to two (AWS_MAX_ATTEMPTS) so that a stopped server fails an attempt in seconds.

Then each lane's source is stopped (the S3 server and the Salesforce emulator of this world; the
OLTP replica's secret points at a port where nothing answers, since the PostgreSQL server is
shared with other tests here) and the lane's scheduled command runs again: it exits non-zero,
raises exactly one alert (ops.alerts and one SNS message) and puts a LaneFailed data point into
moto's CloudWatch under the namespace, name, dimensions, period and statistic of the stack's alarm.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING, Any

import boto3
import duckdb
import psycopg
import pytest
from moto.server import ThreadedMotoServer

from brightcart_ops.registry import registry
from brightcart_ops.transform import run_sqlmesh
from brightcart_world.generator import Manifest, generate
from brightcart_world.settings import Settings, write_world_env
from brightcart_world.sources import LocalSources
from brightcart_world.sources.isolation import dispose, isolated_settings, make_home
from brightcart_world.sources.ports import free_port

if TYPE_CHECKING:
    from .conftest import Synth

START = datetime(2026, 11, 1, tzinfo=UTC)
HOURS = 26  # a whole day, so the daily ad-spend file exists
BIN = Path(sys.executable).parent
# What Redshift would be: the world's DuckDB warehouse (see the module doc).
LOCAL_VALUES = {"MELTANO_ENVIRONMENT": "dev", "BRIGHTCART_GATEWAY": "local"}
STOPPED = {"shop-lane", "events-lane", "marketing-lane", "crm-lane"}
# What each lane's last attempt says when its source is down (its own fault, nothing else).
SOURCE_ERROR = {
    "shop": "connection refused",
    "events": "could not connect to the endpoint",
    "marketing": "could not connect to the endpoint",
    "crm": "connection refused",
}


class Unresolvable(ValueError):
    """A CloudFormation value with no local counterpart."""


@dataclass
class Account:
    """moto's server as the AWS account: Secrets Manager, SNS, SQS, CloudWatch."""

    endpoint: str
    refs: dict[str, str] = field(default_factory=dict)  # logical id -> ARN / name
    queue_url: str = ""

    def client(self, service: str) -> Any:
        return boto3.client(
            service,
            endpoint_url=self.endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",  # moto's documented dummy value
        )


@dataclass
class Deployment:
    synth: Synth
    account: Account
    sources: LocalSources
    env_for_task: dict[str, dict[str, str]]  # task family -> resolved container environment

    @property
    def settings(self) -> Settings:
        return self.sources.settings

    def run(self, command: list[str], family: str) -> subprocess.CompletedProcess[str]:
        argv = [str(BIN / command[0]), *command[1:]]
        return subprocess.run(
            argv,
            env=self.env_for_task[family],
            cwd=self.settings.project_root,
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )

    def warehouse(self, sql: str, params: list[Any] | None = None) -> list[tuple[Any, ...]]:
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as con:
            return con.execute(sql, params or []).fetchall()

    def source(self, sql: str) -> list[tuple[Any, ...]]:
        with psycopg.connect(self.settings.pg_dsn, autocommit=True) as con:
            return list(con.execute(sql).fetchall())


def _schedules(synth: Synth) -> list[tuple[str, list[str], str]]:
    """(schedule name, container command, task family) in template order."""
    families = {
        key: res["Properties"]["Family"]
        for key, res in synth.resources("AWS::ECS::TaskDefinition").items()
    }
    out = []
    for res in synth.resources("AWS::Scheduler::Schedule").values():
        props = res["Properties"]
        (override,) = json.loads(props["Target"]["Input"])["containerOverrides"]
        task = props["Target"]["EcsParameters"]["TaskDefinitionArn"]["Ref"]
        out.append((props["Name"], list(override["command"]), families[task]))
    return out


def _resolve(value: Any, account: Account) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, dict) and "Ref" in value:
        if value["Ref"] not in account.refs:
            raise Unresolvable(value["Ref"])
        return account.refs[value["Ref"]]
    if isinstance(value, dict) and "Fn::Join" in value:
        sep, parts = value["Fn::Join"]
        return str(sep).join(_resolve(p, account) for p in parts)
    raise Unresolvable(json.dumps(value))


def _secret(account: Account, value_from: Any) -> str:
    """ECS's resolution of `<secret arn>:<json key>::`."""
    arn, json_key, _stage, _version = _resolve(value_from, account).rsplit(":", 3)
    body = account.client("secretsmanager").get_secret_value(SecretId=arn)["SecretString"]
    return str(json.loads(body)[json_key])


def _container_env(
    synth: Synth, account: Account, family: str, local: dict[str, str]
) -> dict[str, str]:
    (td,) = [
        r["Properties"]
        for r in synth.resources("AWS::ECS::TaskDefinition").values()
        if r["Properties"]["Family"] == family
    ]
    (container,) = td["ContainerDefinitions"]
    env: dict[str, str] = {}
    for item in container["Environment"]:
        name = item["Name"]
        try:
            env[name] = _resolve(item["Value"], account)
        except Unresolvable:
            assert name in local, f"{family}: no local counterpart for {name} = {item['Value']}"
            if local[name]:
                env[name] = local[name]
    env.update(LOCAL_VALUES)
    for item in container["Secrets"]:
        env[item["Name"]] = _secret(account, item["ValueFrom"])
    return env


def _put_secrets(synth: Synth, account: Account, world: Settings) -> None:
    from brightcart_world.salesforce.auth import credentials

    creds = credentials(world.home)
    values = {
        "brightcart/source/postgres": {
            "host": world.pg_host,
            "port": str(world.pg_port),
            "username": world.pg_user,
            "dbname": world.pg_db,
            "password": "unused",  # trust authentication here
        },
        "brightcart/source/salesforce": {
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
        },
        "brightcart/source/salesforce-token": {"refresh_token": creds.refresh_token},
        "brightcart/state/locks": {"username": world.pg_user, "password": "unused"},
        "brightcart/state/postgres": {"username": "unused", "password": "unused"},
    }
    client = account.client("secretsmanager")
    for key, res in synth.resources("AWS::SecretsManager::Secret").items():
        name = res["Properties"]["Name"]
        body = values.get(name) or {"username": name.rsplit("/", 1)[1], "password": "local"}
        arn = client.create_secret(Name=name, SecretString=json.dumps(body))["ARN"]
        account.refs[key] = arn
    # Ref of an RDS secret attachment is the attached secret's ARN.
    for key, res in synth.resources("AWS::SecretsManager::SecretTargetAttachment").items():
        account.refs[key] = account.refs[res["Properties"]["SecretId"]["Ref"]]


def _topic_and_queue(synth: Synth, account: Account) -> None:
    (topic_id,) = synth.resources("AWS::SNS::Topic")
    sns, sqs = account.client("sns"), account.client("sqs")
    topic = sns.create_topic(Name="brightcart-alerts")["TopicArn"]
    account.refs[topic_id] = topic
    account.queue_url = sqs.create_queue(QueueName="pager")["QueueUrl"]
    queue_arn = sqs.get_queue_attributes(QueueUrl=account.queue_url, AttributeNames=["QueueArn"])
    sns.subscribe(
        TopicArn=topic,
        Protocol="sqs",
        Endpoint=queue_arn["Attributes"]["QueueArn"],
        Attributes={"RawMessageDelivery": "true"},
    )


@pytest.fixture(scope="module")
def deployment(synth: Synth) -> Iterator[Deployment]:
    logging.getLogger("werkzeug").setLevel(logging.WARNING)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    account = Account(f"http://127.0.0.1:{port}")
    world = LocalSources(isolated_settings(make_home("bc_tasks_"), db_prefix="bc_tasks"))
    # This world's warehouse, in the tasks and in this process (the plan, the checks), whatever
    # another test's world left in the environment.
    patch = pytest.MonkeyPatch()
    patch.setenv("BRIGHTCART_WAREHOUSE", str(world.settings.home / "warehouse.duckdb"))
    try:
        world.up()
        settings = world.settings
        generate(settings, seed=11, start=START, end=START + timedelta(hours=HOURS), scale=0.002)
        write_world_env(settings, {"BRIGHTCART_WAREHOUSE_START": START.date().isoformat()})
        _put_secrets(synth, account, settings)
        _topic_and_queue(synth, account)
        audit = "brightcart-audit-local"
        account.client("s3").create_bucket(Bucket=audit)
        local = {
            "BRIGHTCART_S3_BUCKET": settings.s3_bucket,
            "BRIGHTCART_STAGING_BUCKET": "unused-locally",
            "BRIGHTCART_AUDIT_BUCKET": audit,
            "BRIGHTCART_LOCK_DSN": (
                f"host={settings.pg_host} port={settings.pg_port} dbname={settings.pg_db}"
            ),
            "MELTANO_STATE_BACKEND_URI": "",  # Meltano state: the world's system database
            "REDSHIFT_HOST": "",
            "REDSHIFT_COPY_ROLE_ARN": "",
            "SQLMESH_STATE_HOST": "",
        }
        base = {
            "PATH": f"{BIN}:{os.environ.get('PATH', '/usr/bin:/bin')}",
            "HOME": os.environ.get("HOME", "/root"),
            "LANG": "C.UTF-8",
            "BRIGHTCART_HOME": str(settings.home),
            "AWS_ENDPOINT_URL": account.endpoint,
            "AWS_ENDPOINT_URL_S3": settings.s3_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto's documented dummy value
            "AWS_DEFAULT_REGION": "us-east-1",
            "AWS_MAX_ATTEMPTS": "2",
            "BRIGHTCART_WAREHOUSE": str(settings.warehouse),
        }
        families = {family for _, _, family in _schedules(synth)}
        env_for_task = {
            family: {**base, **_container_env(synth, account, family, local)} for family in families
        }
        yield Deployment(synth, account, world, env_for_task)
    finally:
        patch.undo()
        dispose(world)
        server.stop()


def _runs(d: Deployment, job: str) -> list[tuple[str, int]]:
    return [
        (str(status), int(attempt))
        for status, attempt in d.warehouse(
            "SELECT status, attempt FROM ops.pipeline_runs WHERE job = ? ORDER BY started_at",
            [job],
        )
    ]


def _assert_raw_equals_source(d: Deployment, lane: str) -> None:
    spec = registry().lane(lane)
    if lane == "shop":
        landed = 0
        for stream in spec.streams:
            (key,) = stream.key
            source = {r[0] for r in d.source(f"SELECT {key} FROM shop.{stream.table}")}
            raw = {r[0] for r in d.warehouse(f"SELECT DISTINCT {key} FROM raw_shop.{stream.table}")}
            assert raw == source, stream.table
            landed += len(raw)
        assert landed
    elif lane == "crm":
        landed = 0
        for stream in spec.streams:
            source = {r[0] for r in d.source(f'SELECT "Id" FROM sfdc."{stream.name}"')}
            raw = {r[0] for r in d.warehouse(f"SELECT DISTINCT id FROM raw_crm.{stream.table}")}
            assert raw == source, stream.name
            landed += len(raw)
        assert landed
    elif lane == "events":
        manifest = Manifest.load(d.settings)
        lines = {(e.s3_key, e.line_number) for e in manifest.event_lines()}
        events = set(d.warehouse("SELECT s3_key, line_number FROM raw_events.events"))
        assert events == lines and lines
    else:
        s3 = boto3.client(
            "s3",
            endpoint_url=d.settings.s3_endpoint,
            region_name="us-east-1",
            aws_access_key_id="testing",
            aws_secret_access_key="testing",
        )
        rows = set()
        listed = s3.list_objects_v2(Bucket=d.settings.s3_bucket, Prefix="marketing/spend/")
        for obj in listed.get("Contents", []):
            body = s3.get_object(Bucket=d.settings.s3_bucket, Key=obj["Key"])["Body"].read()
            for line in body.decode().splitlines()[1:]:
                day, platform, campaign = line.split(",")[:3]
                rows.add((day, platform, campaign))
        spend = {
            (str(r[0]), str(r[1]), str(r[2]))
            for r in d.warehouse(
                "SELECT DISTINCT date, platform, campaign FROM raw_marketing.ad_spend"
            )
        }
        assert spend == rows and rows


def test_every_scheduled_task_runs_its_command_here(deployment: Deployment) -> None:
    d = deployment
    schedules = _schedules(d.synth)
    assert {tuple(command[:2]) for _, command, _ in schedules} == {("brightcart", "run")}
    planned = False
    for name, command, family in schedules:
        job = command[2]
        if family == "brightcart-transform" and not planned:
            # The deployment's first `sqlmesh plan prod` (docs/runbooks/deploy.md), virtual here:
            # the scheduled transform then runs `sqlmesh run prod` on it.
            plan = ["plan", "prod", "--auto-apply", "--no-prompts", "--empty-backfill"]
            plan += ["--skip-tests", "--skip-linter"]  # make test runs both on their own
            assert run_sqlmesh(d.settings, plan, "dev", "plan-prod").exit_code == 0
            planned = True
        done = d.run(command, family)
        assert done.returncode == 0, f"{name}: {done.stdout}\n{done.stderr}"
        assert _runs(d, job)[-1] == ("succeeded", 1), name
        lane = registry().job(job).lane
        if lane and job == registry().lane(lane).job:
            _assert_raw_equals_source(d, lane)
        if job == "finance-full-extract":  # a full re-read of unchanged rows adds no version
            added = d.warehouse(
                "SELECT coalesce(sum(rows_inserted), 0) FROM raw_meta.load_log "
                "WHERE lane = 'shop' AND started_at >= (SELECT max(started_at) FROM "
                "ops.pipeline_runs WHERE job = 'finance-full-extract')"
            )
            assert added == [(0,)]
    assert planned


def _alarm(d: Deployment, task: str) -> dict[str, Any]:
    (found,) = [
        a["Properties"]
        for a in d.synth.resources("AWS::CloudWatch::Alarm").values()
        if a["Properties"]["MetricName"] == "LaneFailed"
        and a["Properties"]["Dimensions"] == [{"Name": "Lane", "Value": task}]
    ]
    return found


@pytest.mark.full
def test_with_its_source_stopped_each_lane_task_fails_pages_once_and_fires_its_metric(
    deployment: Deployment,
) -> None:
    d = deployment
    since = datetime.now(UTC)
    for component in d.sources.components:
        if component.name in ("s3", "salesforce"):
            component.stop()
    arn = d.account.refs[
        next(
            k
            for k, r in d.synth.resources("AWS::SecretsManager::Secret").items()
            if r["Properties"]["Name"] == "brightcart/source/postgres"
        )
    ]
    secrets = d.account.client("secretsmanager")
    body = json.loads(secrets.get_secret_value(SecretId=arn)["SecretString"])
    dead = {**body, "port": str(free_port())}
    secrets.put_secret_value(SecretId=arn, SecretString=json.dumps(dead))
    for family in d.env_for_task:  # ECS resolves secrets when a task starts
        d.env_for_task[family]["BRIGHTCART_PG_PORT"] = dead["port"]
    lanes = [(n, c, f) for n, c, f in _schedules(d.synth) if c[2] in STOPPED]
    assert len(lanes) == len(STOPPED)
    # The four tasks start together, as their schedules would, each with its own Meltano system
    # database (a Fargate task's is its own too).
    running = []
    for name, command, family in lanes:
        env = {**d.env_for_task[family]}
        env["MELTANO_DATABASE_URI"] = f"sqlite:///{d.settings.home / (family + '.meltano.db')}"
        argv = [str(BIN / command[0]), *command[1:]]
        running.append(
            (
                name,
                subprocess.Popen(
                    argv,
                    env=env,
                    cwd=d.settings.project_root,
                    stdout=subprocess.PIPE,
                    stderr=subprocess.STDOUT,
                    text=True,
                ),
            )
        )
    for name, proc in running:
        out, _ = proc.communicate(timeout=900)
        assert proc.returncode == 1, f"{name} should fail with its source stopped: {out}"
    sqs = d.account.client("sqs")
    pages: list[dict[str, Any]] = []
    while True:
        got = sqs.receive_message(QueueUrl=d.account.queue_url, MaxNumberOfMessages=10)
        if not got.get("Messages"):
            break
        pages += [json.loads(m["Body"]) for m in got["Messages"]]
    cloudwatch = d.account.client("cloudwatch")
    for _, command, _ in lanes:
        task = registry().job(command[2]).task
        key = f"lane_failure:{task}"
        raised = d.warehouse(
            "SELECT count(*) FROM ops.alerts WHERE incident_key = ? AND resolved_at IS NULL",
            [key],
        )
        assert raised == [(1,)], key
        sent = [p for p in pages if p["incident_key"] == key and not p["resolved"]]
        assert len(sent) == 1, (key, pages)
        assert [s for s, _ in _runs(d, command[2])][-3:] == ["failed"] * 3
        (error,) = d.warehouse(
            "SELECT error FROM ops.pipeline_runs WHERE job = ? ORDER BY started_at DESC LIMIT 1",
            [command[2]],
        )[0:1]
        assert SOURCE_ERROR[task] in str(error[0]).lower(), (task, error)
        alarm = _alarm(d, task)
        stats = cloudwatch.get_metric_statistics(
            Namespace=alarm["Namespace"],
            MetricName=alarm["MetricName"],
            Dimensions=alarm["Dimensions"],
            StartTime=since - timedelta(hours=1),
            EndTime=datetime.now(UTC) + timedelta(hours=1),
            Period=alarm["Period"],
            Statistics=[alarm["Statistic"]],
        )
        peak = max(p[alarm["Statistic"]] for p in stats["Datapoints"])
        assert peak >= alarm["Threshold"], (task, stats["Datapoints"])
