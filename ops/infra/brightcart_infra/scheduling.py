"""EventBridge Scheduler: one schedule per meltano.yml schedule, running `brightcart run <job>`.

The command is the job runner (lock, attempt timeout, retries, run record, alert, metrics), never
a bare `meltano run`; the task definition is the one of the task the registry assigns the job.
"""

from __future__ import annotations

import json

from aws_cdk import aws_ec2 as ec2
from aws_cdk import aws_ecs as ecs
from aws_cdk import aws_iam as iam
from aws_cdk import aws_scheduler as scheduler
from constructs import Construct

from .compute import CONTAINER
from .schedules import Schedule, to_eventbridge

GROUP = "brightcart"


class BrightCartSchedules(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        schedules: list[Schedule],
        cluster: ecs.ICluster,
        task_definitions: dict[str, ecs.FargateTaskDefinition],
        subnets: list[str],
        security_groups: dict[str, list[ec2.ISecurityGroup]],
    ) -> None:
        super().__init__(scope, cid)
        group = scheduler.CfnScheduleGroup(self, "Group", name=GROUP)
        role = iam.Role(
            self,
            "SchedulerRole",
            assumed_by=iam.ServicePrincipal("scheduler.amazonaws.com"),
            description="EventBridge Scheduler starts BrightCart Fargate tasks",
        )
        used = sorted({s.lane for s in schedules})
        if used:
            role.add_to_policy(
                iam.PolicyStatement(
                    actions=["ecs:RunTask"],
                    resources=[task_definitions[x].task_definition_arn for x in used],
                    conditions={"ArnEquals": {"ecs:cluster": cluster.cluster_arn}},
                )
            )
            passed = []
            for lane in used:
                td = task_definitions[lane]
                passed.append(td.task_role.role_arn)
                if td.execution_role is not None:
                    passed.append(td.execution_role.role_arn)
            role.add_to_policy(iam.PolicyStatement(actions=["iam:PassRole"], resources=passed))
        self.schedules: list[scheduler.CfnSchedule] = []
        for s in schedules:
            override = {"containerOverrides": [{"name": CONTAINER, "command": s.command}]}
            sched = scheduler.CfnSchedule(
                self,
                f"Schedule-{s.name}",
                name=f"brightcart-{s.name}"[:64],
                group_name=GROUP,
                description=f"meltano.yml schedule {s.name}: {' '.join(s.command)} ({s.interval})",
                schedule_expression=to_eventbridge(s.cron),
                schedule_expression_timezone="UTC",
                flexible_time_window=scheduler.CfnSchedule.FlexibleTimeWindowProperty(mode="OFF"),
                state="ENABLED",
                target=scheduler.CfnSchedule.TargetProperty(
                    arn=cluster.cluster_arn,
                    role_arn=role.role_arn,
                    input=json.dumps(override),
                    retry_policy=scheduler.CfnSchedule.RetryPolicyProperty(
                        maximum_retry_attempts=2, maximum_event_age_in_seconds=900
                    ),
                    ecs_parameters=scheduler.CfnSchedule.EcsParametersProperty(
                        task_definition_arn=task_definitions[s.lane].task_definition_arn,
                        launch_type="FARGATE",
                        platform_version="LATEST",
                        task_count=1,
                        propagate_tags="TASK_DEFINITION",
                        network_configuration=scheduler.CfnSchedule.NetworkConfigurationProperty(
                            awsvpc_configuration=scheduler.CfnSchedule.AwsVpcConfigurationProperty(
                                subnets=subnets,
                                security_groups=[
                                    g.security_group_id for g in security_groups[s.lane]
                                ],
                                assign_public_ip="DISABLED",
                            )
                        ),
                    ),
                ),
            )
            sched.node.add_dependency(group)
            self.schedules.append(sched)
