"""QuickSight: a VPC connection to Redshift Serverless, one data source, and a SPICE data set per
BI dataset of ops/bi_datasets.yaml (columns from the SQLMesh bi views).

The data set definitions come from brightcart_ops.publish.quicksight_datasets, the same code the
QuickSight publish adapter uses, so the stack, the adapter and the local dashboards read one list.
QuickSight reads the warehouse as the `warehouse/bi_reader` user; its service role must be allowed
to read that secret (docs/deployment.md, QuickSight account settings).
"""

from __future__ import annotations

from aws_cdk import CfnResource, Stack
from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_iam as iam
from aws_cdk import aws_secretsmanager as sm
from constructs import Construct

from brightcart_ops.publish.datasets import DatasetMap
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.quicksight_datasets import (
    DATA_SOURCE_ID,
    data_set_definitions,
    view_columns,
)

from .nag import acknowledge
from .params import Bi


class BrightCartBi(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        bi: Bi,
        vpc: ec2.IVpc,
        subnets: ec2.SubnetSelection,
        warehouse_sg: ec2.SecurityGroup,
        redshift_host: str,
        redshift_port: int,
        database: str,
        reader_secret: sm.ISecret,
        maps: DatasetMap | None = None,
    ) -> None:
        super().__init__(scope, cid)
        stack = Stack.of(self)
        maps = maps or load_map()
        for dataset in maps.datasets.values():
            if not dataset.quicksight_id.startswith(bi.dataset_prefix):
                raise ValueError(
                    f"data set id {dataset.quicksight_id!r} must start with {bi.dataset_prefix!r}: "
                    "the transform task may start ingestions only on those"
                )

        sg = ec2.SecurityGroup(
            self,
            "QuickSightSg",
            vpc=vpc,
            description="QuickSight to Redshift",
            allow_all_outbound=False,
        )
        sg.add_egress_rule(warehouse_sg, ec2.Port.tcp(redshift_port), "Redshift from QuickSight")
        warehouse_sg.add_ingress_rule(sg, ec2.Port.tcp(redshift_port), "Redshift from QuickSight")

        role = iam.Role(
            self,
            "VpcConnectionRole",
            assumed_by=iam.ServicePrincipal("quicksight.amazonaws.com"),
            description="QuickSight manages the network interfaces of its VPC connection",
        )
        role.add_to_policy(
            iam.PolicyStatement(
                actions=[
                    "ec2:CreateNetworkInterface",
                    "ec2:ModifyNetworkInterfaceAttribute",
                    "ec2:DeleteNetworkInterface",
                    "ec2:DescribeSubnets",
                    "ec2:DescribeSecurityGroups",
                ],
                resources=["*"],
            )
        )
        acknowledge(
            role,
            "AwsSolutions-IAM5[Resource::*]",
            "EC2 network-interface actions have no resource scope before the interface exists; "
            "QuickSight's documented VPC-connection policy.",
        )
        connection = CfnResource(
            self,
            "VpcConnection",
            type="AWS::QuickSight::VPCConnection",
            properties={
                "AwsAccountId": stack.account,
                "VPCConnectionId": "brightcart-warehouse",
                "Name": "BrightCart warehouse",
                "RoleArn": role.role_arn,
                "SecurityGroupIds": [sg.security_group_id],
                "SubnetIds": vpc.select_subnets(
                    subnet_group_name=subnets.subnet_group_name
                ).subnet_ids,
            },
        )
        # the role's policy must exist before QuickSight creates interfaces (the role itself is
        # already a dependency through RoleArn)
        connection.node.add_dependency(role.node.find_child("DefaultPolicy"))
        source = CfnResource(
            self,
            "DataSource",
            type="AWS::QuickSight::DataSource",
            properties={
                "AwsAccountId": stack.account,
                "DataSourceId": DATA_SOURCE_ID,
                "Name": "BrightCart warehouse (Redshift)",
                "Type": "REDSHIFT",
                "DataSourceParameters": {
                    "RedshiftParameters": {
                        "Host": redshift_host,
                        "Port": redshift_port,
                        "Database": database,
                    }
                },
                "Credentials": {"SecretArn": reader_secret.secret_arn},
                "SslProperties": {"DisableSsl": False},
                "VpcConnectionProperties": {
                    "VpcConnectionArn": connection.get_att("Arn").to_string()
                },
            },
        )
        self.data_source = source
        owner = (
            f"arn:aws:quicksight:{stack.region}:{stack.account}:group/default/{bi.authors_group}"
        )
        definitions = data_set_definitions(
            maps,
            view_columns(maps, bi.project_root),
            source.get_att("Arn").to_string(),
            owner_arn=owner,
        )
        self.data_sets: dict[str, CfnResource] = {}
        for definition in definitions:
            data_set = CfnResource(
                self,
                definition["DataSetId"],
                type="AWS::QuickSight::DataSet",
                properties={"AwsAccountId": stack.account, **definition},
            )
            self.data_sets[definition["DataSetId"]] = data_set
