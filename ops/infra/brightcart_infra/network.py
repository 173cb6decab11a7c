"""VPC: private subnets for tasks and data, an S3 gateway endpoint, interface endpoints, one NAT.

The S3 gateway endpoint is free and carries the heavy bytes (raw reads, loader staging, Redshift
COPY, ECR image layers). Salesforce lives on the internet, so one NAT gateway is needed anyway;
interface endpoints keep secrets, logs, STS, SNS, CloudWatch and image manifests off it
(docs/deployment.md).

Task egress is closed by default. Every task has `task_sg`: HTTPS to the interface endpoints and
to S3 (the gateway endpoint's prefix list), the warehouse and the state database (added by the
stack). A task reaches further only through the extra groups its sources need (`egress_groups`):
the OLTP replica's port for the tasks reading it (shop, and transform for reconciliation); HTTPS
to the internet through the NAT for the Salesforce lane, and for the transform task, whose
publish step calls QuickSight's API (it has no VPC endpoint).
"""

from __future__ import annotations

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_s3 as s3
from constructs import Construct

from .params import Network


class BrightCartNetwork(Construct):
    def __init__(self, scope: Construct, cid: str, *, net: Network, log_bucket: s3.IBucket) -> None:
        super().__init__(scope, cid)
        self.vpc = ec2.Vpc(
            self,
            "Vpc",
            ip_addresses=ec2.IpAddresses.cidr("10.40.0.0/16"),
            max_azs=net.azs,
            nat_gateways=net.nat_gateways,
            restrict_default_security_group=False,
            subnet_configuration=[
                ec2.SubnetConfiguration(
                    name="public", subnet_type=ec2.SubnetType.PUBLIC, cidr_mask=26
                ),
                ec2.SubnetConfiguration(
                    name="tasks", subnet_type=ec2.SubnetType.PRIVATE_WITH_EGRESS, cidr_mask=22
                ),
                ec2.SubnetConfiguration(
                    name="data", subnet_type=ec2.SubnetType.PRIVATE_ISOLATED, cidr_mask=24
                ),
            ],
            gateway_endpoints={
                "S3": ec2.GatewayVpcEndpointOptions(service=ec2.GatewayVpcEndpointAwsService.S3)
            },
        )
        self.vpc.add_flow_log(
            "FlowLogs",
            destination=ec2.FlowLogDestination.to_s3(log_bucket, "vpc-flow-logs/"),
            traffic_type=ec2.FlowLogTrafficType.REJECT,
        )
        task_azs = list(self.vpc.availability_zones[: net.endpoint_azs])
        self.task_subnets = ec2.SubnetSelection(
            subnet_group_name="tasks", availability_zones=task_azs
        )
        self.data_subnets = ec2.SubnetSelection(subnet_group_name="data")
        self.task_sg = ec2.SecurityGroup(
            self,
            "TaskSg",
            vpc=self.vpc,
            description="BrightCart Fargate tasks: endpoints, S3, warehouse, state database",
            allow_all_outbound=False,
        )
        endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointSg",
            vpc=self.vpc,
            description="Interface endpoints",
            allow_all_outbound=False,
        )
        endpoint_sg.add_ingress_rule(self.task_sg, ec2.Port.tcp(443), "HTTPS from tasks")
        self.task_sg.add_egress_rule(endpoint_sg, ec2.Port.tcp(443), "HTTPS to the endpoints")
        self.task_sg.add_egress_rule(
            ec2.Peer.prefix_list(net.s3_prefix_list_id),
            ec2.Port.tcp(443),
            "HTTPS to S3 through the gateway endpoint",
        )
        self.source_db_sg = ec2.SecurityGroup(
            self,
            "SourceDbSg",
            vpc=self.vpc,
            description="BrightCart tasks that read the OLTP replica",
            allow_all_outbound=False,
        )
        self.source_db_sg.add_egress_rule(
            ec2.Peer.ipv4(net.source_db_cidr),
            ec2.Port.tcp(net.source_db_port),
            "PostgreSQL to the OLTP read replica",
        )
        self.https_sg = ec2.SecurityGroup(
            self,
            "InternetHttpsSg",
            vpc=self.vpc,
            description="BrightCart tasks calling internet APIs (Salesforce, QuickSight)",
            allow_all_outbound=False,
        )
        self.https_sg.add_egress_rule(
            ec2.Peer.any_ipv4(), ec2.Port.tcp(443), "HTTPS through the NAT gateway"
        )
        self.groups = {"source_db": self.source_db_sg, "https": self.https_sg}
        for name in net.interface_endpoints:
            self.vpc.add_interface_endpoint(
                "Endpoint-" + name.replace(".", "-"),
                service=ec2.InterfaceVpcEndpointAwsService(name),
                subnets=self.task_subnets,
                security_groups=[endpoint_sg],
                open=False,
                private_dns_enabled=True,
            )


# Which extra egress a source's secret implies (a task that reads it talks to that source).
EGRESS_BY_SECRET = {"source/postgres": "source_db", "source/salesforce": "https"}
TRANSFORM_EGRESS = ("source_db", "https")  # reconciliation reads the replica; publish: QuickSight


def egress_groups(secrets: tuple[str, ...], task: str) -> tuple[str, ...]:
    """Names of the extra egress groups of a task: `source_db`, `https`."""
    if task == "transform":
        return TRANSFORM_EGRESS
    return tuple(dict.fromkeys(EGRESS_BY_SECRET[s] for s in secrets if s in EGRESS_BY_SECRET))
