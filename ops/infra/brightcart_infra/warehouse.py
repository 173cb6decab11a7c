"""Redshift Serverless (namespace + workgroup) and the small PostgreSQL for SQLMesh state."""

from __future__ import annotations

from aws_cdk import Duration, RemovalPolicy
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_rds as rds
from aws_cdk import aws_redshiftserverless as rs
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .nag import acknowledge, acknowledge_objects
from .params import StateDb, Warehouse

REDSHIFT_PORT = 5439
STATE_DATABASE = "brightcart_state"


class BrightCartWarehouse(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        clients: ec2.ISecurityGroup,
        staging: s3.IBucket,
        staging_prefix: str,
        wh: Warehouse,
        state: StateDb,
    ) -> None:
        super().__init__(scope, cid)
        sg = ec2.SecurityGroup(
            self,
            "WarehouseSg",
            vpc=vpc,
            description="Redshift Serverless",
            allow_all_outbound=False,
        )
        sg.add_ingress_rule(clients, ec2.Port.tcp(REDSHIFT_PORT), "Redshift from tasks")
        self.security_group = sg

        # Redshift reads loader files from staging for COPY; nothing else.
        self.copy_role = iam.Role(
            self,
            "CopyRole",
            assumed_by=iam.CompositePrincipal(
                iam.ServicePrincipal("redshift.amazonaws.com"),
                iam.ServicePrincipal("redshift-serverless.amazonaws.com"),
            ),
            description="Redshift COPY from the loader staging bucket",
        )
        self.copy_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:GetObject"],
                resources=[staging.arn_for_objects(staging_prefix + "*")],
            )
        )
        self.copy_role.add_to_policy(
            iam.PolicyStatement(
                actions=["s3:ListBucket", "s3:GetBucketLocation"], resources=[staging.bucket_arn]
            )
        )
        acknowledge_objects(self.copy_role, staging, staging_prefix + "*")

        subnet_ids = vpc.select_subnets(subnet_group_name="data").subnet_ids
        self.namespace = rs.CfnNamespace(
            self,
            "Namespace",
            namespace_name="brightcart",
            db_name=wh.database,
            admin_username="brightcart_admin",
            manage_admin_password=True,  # Redshift generates and keeps it in Secrets Manager
            iam_roles=[self.copy_role.role_arn],
            default_iam_role_arn=self.copy_role.role_arn,
            log_exports=["userlog", "connectionlog", "useractivitylog"],
        )
        self.workgroup = rs.CfnWorkgroup(
            self,
            "Workgroup",
            workgroup_name="brightcart",
            namespace_name=self.namespace.namespace_name,
            base_capacity=wh.base_rpu,
            max_capacity=wh.max_rpu,
            enhanced_vpc_routing=True,
            publicly_accessible=False,
            port=REDSHIFT_PORT,
            subnet_ids=subnet_ids,
            security_group_ids=[sg.security_group_id],
            config_parameters=[
                rs.CfnWorkgroup.ConfigParameterProperty(
                    parameter_key="require_ssl", parameter_value="true"
                ),
                rs.CfnWorkgroup.ConfigParameterProperty(
                    parameter_key="enable_user_activity_logging", parameter_value="true"
                ),
            ],
        )
        self.workgroup.node.add_dependency(self.namespace)
        self.namespace.apply_removal_policy(RemovalPolicy.RETAIN)

        db_sg = ec2.SecurityGroup(
            self, "StateDbSg", vpc=vpc, description="SQLMesh state", allow_all_outbound=False
        )
        db_sg.add_ingress_rule(clients, ec2.Port.tcp(state.port), "PostgreSQL from tasks")
        self.state_security_group = db_sg
        self.state_db = rds.DatabaseInstance(
            self,
            "StateDb",
            engine=rds.DatabaseInstanceEngine.postgres(version=rds.PostgresEngineVersion.VER_16_9),
            instance_type=ec2.InstanceType(f"{state.instance_class}.{state.instance_size}"),
            vpc=vpc,
            vpc_subnets=subnets,
            security_groups=[db_sg],
            port=state.port,
            database_name=STATE_DATABASE,
            credentials=rds.Credentials.from_generated_secret(
                "brightcart_state",
                secret_name="brightcart/state/postgres",  # noqa: S106 (a name, not a value)
            ),
            multi_az=state.multi_az,
            allocated_storage=state.storage_gb,
            storage_type=rds.StorageType.GP3,
            storage_encrypted=True,
            iam_authentication=True,
            deletion_protection=True,
            backup_retention=Duration.days(state.backup_days),
            publicly_accessible=False,
            auto_minor_version_upgrade=True,
            removal_policy=RemovalPolicy.SNAPSHOT,
        )
        acknowledge(
            self.state_db.node.find_child("Secret"),
            "AwsSolutions-SMG4",
            "Rotated by docs/runbooks/rotate-a-secret.md between scheduled runs; a hosted "
            "rotation Lambda would add a function and a NAT path for one login.",
        )
