"""VPC: private subnets for tasks and data, an S3 gateway endpoint, interface endpoints, one NAT.

The S3 gateway endpoint is free and carries the heavy bytes (raw reads, loader staging, Redshift
COPY, ECR image layers). Salesforce lives on the internet, so one NAT gateway is needed anyway;
interface endpoints keep secrets, logs, STS and image manifests off it (docs/deployment.md).
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
            description="BrightCart Fargate tasks",
            allow_all_outbound=True,
        )
        endpoint_sg = ec2.SecurityGroup(
            self,
            "EndpointSg",
            vpc=self.vpc,
            description="Interface endpoints",
            allow_all_outbound=False,
        )
        endpoint_sg.add_ingress_rule(self.task_sg, ec2.Port.tcp(443), "HTTPS from tasks")
        for name in net.interface_endpoints:
            self.vpc.add_interface_endpoint(
                "Endpoint-" + name.replace(".", "-"),
                service=ec2.InterfaceVpcEndpointAwsService(name),
                subnets=self.task_subnets,
                security_groups=[endpoint_sg],
                open=False,
                private_dns_enabled=True,
            )
