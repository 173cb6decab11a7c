"""ECS cluster, one image, a Fargate task definition per task, and least-privilege task roles.

Tasks and their sizes come from the lane registry (meltano.yml). Each container gets the
environment meltano.yml's `prod` environment, the SQLMesh gateways and the `brightcart` CLI read
(brightcart_ops.settings: BRIGHTCART_*, REDSHIFT_*, SQLMESH_STATE_*), credentials only through
Secrets Manager references resolved by ECS when the task starts:

* each task its own warehouse login (`warehouse/<task>`): a lane's login writes its raw schema
  and the load log only (ops/infra/sql/, brightcart_infra/grants.py);
* a lane its source's secrets (the registry's `secrets`), the transform task the source replica's
  (reconciliation reads it);
* only the transform task the SQLMesh state credentials; every task a lock-only login on the
  state database for its lane lock (`state/locks`).

Metrics go to CloudWatch (BRIGHTCART_METRICS=cloudwatch) under the namespace the alarms watch.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from aws_cdk import IgnoreMode, RemovalPolicy, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecr_assets as ecr_assets
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_logs as logs
from aws_cdk import aws_s3 as s3
from aws_cdk import aws_secretsmanager as sm
from aws_cdk import aws_sns as sns
from constructs import Construct

from .nag import acknowledge, acknowledge_objects
from .params import Params
from .schedules import prod_loader_setting


def staging_prefix_of(params: Params) -> str:
    """Where target-redshift stages COPY files in prod (meltano.yml), e.g. `loader-staging/`."""
    return prod_loader_setting("s3_prefix", params.meltano_yml, "loader-staging/")


REPO_ROOT = Path(__file__).resolve().parents[3]
DOCKERFILE = "ops/infra/Dockerfile"
DOCKERIGNORE = REPO_ROOT / "ops/infra/Dockerfile.dockerignore"
CONTAINER = "app"
MELTANO_STATE_PREFIX = "meltano-state/"

RAW_PREFIX = {"events": "events/", "marketing": "marketing/"}  # what a lane reads from raw
TRANSFORM_SOURCES = ("source/postgres",)  # the daily reconciliation reads the source replica

# How each secret reaches a container: env var -> JSON field of the secret.
SECRET_VARIABLES: dict[str, dict[str, str]] = {
    "source/postgres": {
        "BRIGHTCART_PG_HOST": "host",
        "BRIGHTCART_PG_PORT": "port",
        "BRIGHTCART_PG_USER": "username",
        "BRIGHTCART_PG_DB": "dbname",
        "BRIGHTCART_PG_PASSWORD": "password",
        "TAP_POSTGRES_PASSWORD": "password",
    },
    "source/salesforce": {
        "TAP_SALESFORCE_CLIENT_ID": "client_id",
        "TAP_SALESFORCE_CLIENT_SECRET": "client_secret",
    },
    "source/salesforce-token": {"TAP_SALESFORCE_REFRESH_TOKEN": "refresh_token"},
}
WAREHOUSE_VARIABLES = {
    "REDSHIFT_USER": "username",
    "REDSHIFT_PASSWORD": "password",
    "TARGET_REDSHIFT_PASSWORD": "password",
}
LOCK_VARIABLES = {"PGUSER": "username", "PGPASSWORD": "password"}  # lane locks (libpq)
SQLMESH_STATE_FIELDS = {"SQLMESH_STATE_USER": "username", "SQLMESH_STATE_PASSWORD": "password"}


def task_secrets(params: Params, task: str) -> dict[str, tuple[str, str]]:
    """env var -> (secret name, JSON field) a task receives (state credentials aside)."""
    known = params.registry()
    lane = known.lanes.get(task)
    sources = lane.secrets if lane else TRANSFORM_SOURCES
    out = {var: (f"warehouse/{task}", f) for var, f in WAREHOUSE_VARIABLES.items()}
    out |= {var: ("state/locks", f) for var, f in LOCK_VARIABLES.items()}
    for name in sources:
        if name not in SECRET_VARIABLES:
            raise KeyError(f"secret {name!r} of {task!r} has no variables in SECRET_VARIABLES")
        out |= {var: (name, f) for var, f in SECRET_VARIABLES[name].items()}
    return out


def docker_excludes() -> list[str]:
    """The Dockerfile's ignore list, shared with the CDK asset so both copy the same files."""
    lines = DOCKERIGNORE.read_text().splitlines()
    return [x.strip() for x in lines if x.strip() and not x.startswith("#")]


@dataclass(frozen=True)
class Buckets:
    raw: s3.IBucket
    staging: s3.IBucket
    audit: s3.IBucket
    state: s3.IBucket


@dataclass(frozen=True)
class Endpoints:
    """Where the warehouse and the state database answer (plain, non-secret settings)."""

    redshift_host: str
    redshift_port: int
    redshift_database: str
    copy_role_arn: str
    state_host: str
    state_port: int
    state_database: str


class BrightCartCompute(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        params: Params,
        vpc: ec2.IVpc,
        buckets: Buckets,
        secrets: dict[str, sm.Secret],
        state_secret: sm.ISecret,
        topic: sns.ITopic,
        topic_key: kms.IKey,
        endpoints: Endpoints,
    ) -> None:
        super().__init__(scope, cid)
        stack = Stack.of(self)
        self.cluster = ecs.Cluster(
            self,
            "Cluster",
            vpc=vpc,
            cluster_name="brightcart",
            container_insights_v2=ecs.ContainerInsights.ENABLED,
        )
        image = ecs.ContainerImage.from_asset(
            str(REPO_ROOT),
            file=DOCKERFILE,
            exclude=docker_excludes(),
            ignore_mode=IgnoreMode.DOCKER,
            platform=ecr_assets.Platform.LINUX_AMD64,
        )
        staging_prefix = staging_prefix_of(params)
        self.task_definitions: dict[str, ecs.FargateTaskDefinition] = {}
        obs = params.observability
        for lane in params.lanes:  # one task definition per task of the registry
            role = iam.Role(
                self,
                f"{lane.name}-TaskRole",
                assumed_by=iam.ServicePrincipal("ecs-tasks.amazonaws.com"),
                description=f"BrightCart {lane.name} task",
            )
            td = ecs.FargateTaskDefinition(
                self,
                f"{lane.name}-Task",
                family=f"brightcart-{lane.name}",
                cpu=lane.cpu_units,
                memory_limit_mib=lane.memory_mib,
                task_role=role,
                runtime_platform=ecs.RuntimePlatform(
                    cpu_architecture=ecs.CpuArchitecture.X86_64,
                    operating_system_family=ecs.OperatingSystemFamily.LINUX,
                ),
            )
            log_group = logs.LogGroup(
                self,
                f"{lane.name}-Logs",
                log_group_name=f"/brightcart/{lane.name}",
                retention=logs.RetentionDays.THREE_MONTHS,
                removal_policy=RemovalPolicy.DESTROY,
            )
            env = {
                "MELTANO_ENVIRONMENT": "prod",
                "MELTANO_STATE_BACKEND_URI": f"s3://{buckets.state.bucket_name}/meltano-state",
                "BRIGHTCART_LANE": lane.name,
                "BRIGHTCART_GATEWAY": "redshift",
                "BRIGHTCART_S3_BUCKET": buckets.raw.bucket_name,
                "BRIGHTCART_STAGING_BUCKET": buckets.staging.bucket_name,
                "BRIGHTCART_ALERT_TOPIC_ARN": topic.topic_arn,
                "BRIGHTCART_METRICS": "cloudwatch",
                "BRIGHTCART_METRICS_NAMESPACE": obs.namespace,
                "BRIGHTCART_LOCK_DSN": (
                    f"host={endpoints.state_host} port={endpoints.state_port} "
                    f"dbname={endpoints.state_database} sslmode=require"
                ),
                "REDSHIFT_HOST": endpoints.redshift_host,
                "REDSHIFT_PORT": str(endpoints.redshift_port),
                "REDSHIFT_DATABASE": endpoints.redshift_database,
                "REDSHIFT_COPY_ROLE_ARN": endpoints.copy_role_arn,
                "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
                "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false",
            }
            container_secrets = {
                var: ecs.Secret.from_secrets_manager(secrets[name], field)
                for var, (name, field) in task_secrets(params, lane.name).items()
            }
            if lane.name == "transform":
                env["BRIGHTCART_AUDIT_BUCKET"] = buckets.audit.bucket_name
                env["SQLMESH_STATE_HOST"] = endpoints.state_host
                env["SQLMESH_STATE_PORT"] = str(endpoints.state_port)
                env["SQLMESH_STATE_DATABASE"] = endpoints.state_database
                for var, field in SQLMESH_STATE_FIELDS.items():
                    container_secrets[var] = ecs.Secret.from_secrets_manager(state_secret, field)
            if lane.name == "crm":
                token = secrets["source/salesforce-token"].secret_arn
                env["BRIGHTCART_SF_TOKEN_STORE"] = f"secretsmanager:{token}"
            td.add_container(
                CONTAINER,
                image=image,
                essential=True,
                environment=env,
                secrets=container_secrets,
                logging=ecs.LogDrivers.aws_logs(stream_prefix=lane.name, log_group=log_group),
            )
            acknowledge(
                td,
                "AwsSolutions-IAM5[Resource::*]",
                "The execution role's ecr:GetAuthorizationToken has no resource scope.",
            )
            acknowledge(
                td,
                "AwsSolutions-ECS2",
                "Only non-secret settings (bucket names, hosts, lane) are plain environment "
                "variables; every credential is injected from Secrets Manager.",
            )
            self._grant_lane(
                role, lane.name, buckets, staging_prefix, topic, topic_key, obs.namespace
            )
            if lane.name == "crm":
                role.add_to_policy(
                    iam.PolicyStatement(
                        actions=["secretsmanager:GetSecretValue", "secretsmanager:PutSecretValue"],
                        resources=[secrets["source/salesforce-token"].secret_arn],
                    )
                )
            if lane.name == "transform":
                self._grant_publish(role, stack, params.bi.dataset_prefix)
            self.task_definitions[lane.name] = td

    @staticmethod
    def _grant_objects(role: iam.Role, bucket: s3.IBucket, prefix: str, actions: list[str]) -> None:
        role.add_to_policy(
            iam.PolicyStatement(actions=actions, resources=[bucket.arn_for_objects(prefix + "*")])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket"],
                resources=[bucket.bucket_arn],
                conditions={"StringLike": {"s3:prefix": [prefix + "*"]}},
            )
        )
        acknowledge_objects(role, bucket, prefix + "*")

    @classmethod
    def _grant_lane(
        cls,
        role: iam.Role,
        lane: str,
        buckets: Buckets,
        staging_prefix: str,
        topic: sns.ITopic,
        key: kms.IKey,
        namespace: str,
    ) -> None:
        """Explicit actions only: no `s3:*`, no `*` actions, one prefix per purpose."""
        rw = ["s3:PutObject", "s3:GetObject", "s3:DeleteObject"]
        cls._grant_objects(role, buckets.state, MELTANO_STATE_PREFIX, rw)
        if lane != "transform":  # every lane's loader stages its COPY files
            cls._grant_objects(role, buckets.staging, staging_prefix, rw)
        raw = RAW_PREFIX.get(lane)
        if raw:
            cls._grant_objects(role, buckets.raw, raw, ["s3:GetObject"])
        if lane == "transform":
            # Month-end freezes and apply records; Object Lock keeps them, no delete granted.
            cls._grant_objects(
                role,
                buckets.audit,
                "audit/",
                ["s3:PutObject", "s3:GetObject", "s3:GetObjectVersion"],
            )
        role.add_to_policy(
            iam.PolicyStatement(actions=["sns:Publish"], resources=[topic.topic_arn])
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["kms:GenerateDataKey", "kms:Decrypt"], resources=[key.key_arn]
            )
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["cloudwatch:PutMetricData"],
                resources=["*"],
                conditions={"StringEquals": {"cloudwatch:namespace": namespace}},
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "cloudwatch:PutMetricData has no resource type; a namespace condition limits it.",
        )

    @staticmethod
    def _grant_publish(role: iam.Role, stack: Stack, dataset_prefix: str) -> None:
        """Start and watch SPICE ingestions on BrightCart datasets only."""
        dataset = f"arn:aws:quicksight:{stack.region}:{stack.account}:dataset/{dataset_prefix}*"
        role.add_to_policy(
            iam.PolicyStatement(
                actions=["quicksight:CreateIngestion", "quicksight:DescribeIngestion"],
                resources=[dataset, dataset + "/ingestion/*"],
            )
        )
        for finding in (dataset, dataset + "/ingestion/*"):
            acknowledge(
                role,
                f"AwsSolutions-IAM5[Resource::{finding}]",
                "Ingestion ids are created per run; dataset ids share the brightcart- prefix.",
            )
