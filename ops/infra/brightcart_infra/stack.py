"""The BrightCart production stack: network, storage, warehouse, tasks, schedules, alerts."""

from __future__ import annotations

from aws_cdk import CfnOutput, Stack, Tags
from aws_cdk import aws_ec2 as ec2
from constructs import Construct

from .bi import BrightCartBi
from .compute import BrightCartCompute, Buckets, Endpoints, staging_prefix_of
from .monitoring import PROJECT_TAG, BrightCartAlarms, BrightCartAlerts, BrightCartBudget
from .network import BrightCartNetwork, egress_groups
from .params import Params
from .scheduling import BrightCartSchedules
from .secrets import BrightCartSecrets
from .storage import BrightCartStorage
from .warehouse import REDSHIFT_PORT, STATE_DATABASE, BrightCartWarehouse


class BrightCartStack(Stack):
    def __init__(self, scope: Construct, cid: str, *, params: Params, **kwargs: object) -> None:
        super().__init__(scope, cid, **kwargs)  # type: ignore[arg-type]
        Tags.of(self).add("project", PROJECT_TAG)
        storage = BrightCartStorage(self, "Buckets", storage=params.storage)
        net = BrightCartNetwork(self, "Network", net=params.network, log_bucket=storage.access_logs)
        secrets = BrightCartSecrets(self, "Secrets", names=params.secrets)
        wh = BrightCartWarehouse(
            self,
            "Warehouse",
            vpc=net.vpc,
            subnets=net.data_subnets,
            clients=net.task_sg,
            staging=storage.staging,
            staging_prefix=staging_prefix_of(params),
            wh=params.warehouse,
            state=params.state_db,
        )
        net.task_sg.add_egress_rule(
            wh.security_group, ec2.Port.tcp(REDSHIFT_PORT), "Redshift Serverless"
        )
        net.task_sg.add_egress_rule(
            wh.state_security_group, ec2.Port.tcp(params.state_db.port), "state database"
        )
        self.bi = BrightCartBi(
            self,
            "Bi",
            bi=params.bi,
            vpc=net.vpc,
            subnets=net.data_subnets,
            warehouse_sg=wh.security_group,
            redshift_host=wh.workgroup.attr_workgroup_endpoint_address,
            redshift_port=REDSHIFT_PORT,
            database=params.warehouse.database,
            reader_secret=secrets.by_name["warehouse/bi_reader"],
        )
        alerts = BrightCartAlerts(self, "Alerts")
        assert wh.state_db.secret is not None  # generated credentials always create one
        compute = BrightCartCompute(
            self,
            "Compute",
            params=params,
            vpc=net.vpc,
            buckets=Buckets(
                raw=storage.raw, staging=storage.staging, audit=storage.audit, state=storage.state
            ),
            secrets=secrets.by_name,
            state_secret=wh.state_db.secret,
            topic=alerts.topic,
            topic_key=alerts.key,
            endpoints=Endpoints(
                redshift_host=wh.workgroup.attr_workgroup_endpoint_address,
                redshift_port=REDSHIFT_PORT,
                redshift_database=params.warehouse.database,
                copy_role_arn=wh.copy_role.role_arn,
                state_host=wh.state_db.db_instance_endpoint_address,
                state_port=params.state_db.port,
                state_database=STATE_DATABASE,
            ),
        )
        self.schedules = BrightCartSchedules(
            self,
            "Schedules",
            schedules=params.schedules(),
            cluster=compute.cluster,
            task_definitions=compute.task_definitions,
            subnets=net.vpc.select_subnets(
                subnet_group_name="tasks",
                availability_zones=list(net.vpc.availability_zones[: params.network.endpoint_azs]),
            ).subnet_ids,
            security_groups={
                task.name: [
                    net.task_sg,
                    *(
                        net.groups[g]
                        for g in egress_groups(
                            params.registry().lanes[task.name].secrets if task.lane else (),
                            task.name,
                        )
                    ),
                ]
                for task in params.lanes
            },
        )
        BrightCartAlarms(
            self,
            "Alarms",
            topic=alerts.topic,
            tasks=[x.name for x in params.lanes],
            lanes=[x.name for x in params.lanes if x.lane],
            obs=params.observability,
            cluster_arn=compute.cluster.cluster_arn,
        )
        BrightCartBudget(self, "Budget", topic=alerts.topic, obs=params.observability)
        CfnOutput(self, "AlertTopicArn", value=alerts.topic.topic_arn)
        CfnOutput(self, "RawBucket", value=storage.raw.bucket_name)
        CfnOutput(self, "AuditBucket", value=storage.audit.bucket_name)
        CfnOutput(self, "ClusterName", value=compute.cluster.cluster_name)
