"""Alerts: an encrypted SNS topic, CloudWatch alarms on pipeline metrics, an AWS Budget.

Every alarm is built from the code's metric catalogue (brightcart_ops.metrics.CATALOGUE): the
metric name, the namespace the tasks publish under, the dimensions the code sends, the statistic,
a period equal to the metric's cadence and the treat-missing-data its kind calls for (a failure
count: not breaching; a gauge the pipeline must keep reporting: breaching). LaneFailed{Lane} is
emitted by `brightcart run` for every task, SourceUnreachable{Lane} and FreshnessLagMinutes by the
hourly transform's SLA check, BlockingAuditFailures by the SQLMesh notification target,
ReconciliationMismatches by the daily reconciliation.
"""

from __future__ import annotations

from aws_cdk import Duration
from aws_cdk import aws_budgets as budgets
from aws_cdk import aws_cloudwatch as cw
from aws_cdk import aws_cloudwatch_actions as cw_actions
from aws_cdk import aws_events as events
from aws_cdk import aws_events_targets as targets
from aws_cdk import aws_iam as iam
from aws_cdk import aws_kms as kms
from aws_cdk import aws_sns as sns
from constructs import Construct

from brightcart_ops.metrics import (
    BLOCKING_AUDIT_FAILURES,
    FRESHNESS_LAG,
    LANE_FAILED,
    RECONCILIATION_MISMATCHES,
    SOURCE_UNREACHABLE,
    Metric,
)

from .params import Observability

PROJECT_TAG = "brightcart"
# The catalogue speaks CloudFormation's words (TreatMissingData in the template).
MISSING = {
    "breaching": cw.TreatMissingData.BREACHING,
    "notBreaching": cw.TreatMissingData.NOT_BREACHING,
}


class BrightCartAlerts(Construct):
    """The topic and its key; created before the tasks so they can publish."""

    def __init__(self, scope: Construct, cid: str) -> None:
        super().__init__(scope, cid)
        self.key = kms.Key(
            self, "AlertsKey", enable_key_rotation=True, description="BrightCart alert topic"
        )
        for service in (
            "cloudwatch.amazonaws.com",
            "events.amazonaws.com",
            "budgets.amazonaws.com",
        ):
            self.key.grant(iam.ServicePrincipal(service), "kms:GenerateDataKey*", "kms:Decrypt")
        self.topic = sns.Topic(
            self, "Topic", topic_name="brightcart-alerts", master_key=self.key, enforce_ssl=True
        )
        self.topic.add_to_resource_policy(
            iam.PolicyStatement(
                actions=["sns:Publish"],
                principals=[iam.ServicePrincipal("budgets.amazonaws.com")],
                resources=[self.topic.topic_arn],
            )
        )


def catalogue_metric(namespace: str, spec: Metric, **dimensions: str) -> cw.Metric:
    """A CloudWatch metric exactly as the code emits `spec` (dimension names checked)."""
    if tuple(sorted(dimensions)) != tuple(sorted(spec.dimensions)):
        raise ValueError(f"{spec.name} is emitted with {spec.dimensions}, not {sorted(dimensions)}")
    return cw.Metric(
        namespace=namespace,
        metric_name=spec.name,
        dimensions_map=dimensions or None,
        statistic=spec.statistic,
        period=Duration.seconds(spec.cadence_seconds),
    )


class BrightCartAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        topic: sns.ITopic,
        tasks: list[str],
        lanes: list[str],
        obs: Observability,
        cluster_arn: str,
    ) -> None:
        super().__init__(scope, cid)
        action = cw_actions.SnsAction(topic)
        ns = obs.namespace
        self.alarms: list[cw.Alarm] = []

        def alarm(
            name: str, spec: Metric, threshold: float, text: str, runbook: str, **dims: str
        ) -> None:
            a = cw.Alarm(
                self,
                name,
                alarm_name=f"brightcart-{name}",
                alarm_description=f"{text} Emitted by {spec.emitted_by}. "
                f"Runbook: docs/runbooks/{runbook}",
                metric=catalogue_metric(ns, spec, **dims),
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=MISSING[spec.treat_missing_data],
            )
            a.add_alarm_action(action)
            self.alarms.append(a)

        for task in tasks:
            alarm(
                f"{task}-lane-failed",
                LANE_FAILED,
                1,
                f"A job of the {task} task failed after its retries.",
                "lane-failure.md",
                Lane=task,
            )
        for lane in lanes:
            alarm(
                f"{lane}-upstream-outage",
                SOURCE_UNREACHABLE,
                1,
                f"The {lane} source has not landed within its allowed lag.",
                "upstream-outage.md",
                Lane=lane,
            )
        sla = obs.freshness_sla_minutes
        # No freshness figure for a whole period means the hourly transform is not reporting:
        # the gauge's missing data breaches.
        alarm(
            "sla-at-risk",
            FRESHNESS_LAG,
            round(sla * 0.75),
            "Freshness lag passed 75% of the SLA.",
            "sla.md",
        )
        alarm("sla-breached", FRESHNESS_LAG, sla, "Freshness lag passed the SLA.", "sla.md")
        alarm(
            "blocking-audit-failed",
            BLOCKING_AUDIT_FAILURES,
            1,
            "A blocking audit failed in prod.",
            "blocking-audit-failure.md",
        )
        alarm(
            "reconciliation-mismatch",
            RECONCILIATION_MISMATCHES,
            1,
            "Finance reconciliation found differing days.",
            "reconciliation-mismatch.md",
        )
        # A task that dies before the CLI can report (out of memory, image pull) still alerts.
        events.Rule(
            self,
            "TaskStoppedWithError",
            description="A BrightCart task stopped with a non-zero exit code",
            event_pattern=events.EventPattern(
                source=["aws.ecs"],
                detail_type=["ECS Task State Change"],
                detail={
                    "clusterArn": [cluster_arn],
                    "lastStatus": ["STOPPED"],
                    "containers": {"exitCode": [{"anything-but": 0}]},
                },
            ),
            targets=[targets.SnsTopic(topic)],
        )


class BrightCartBudget(Construct):
    def __init__(
        self, scope: Construct, cid: str, *, topic: sns.ITopic, obs: Observability
    ) -> None:
        super().__init__(scope, cid)
        sub = budgets.CfnBudget.SubscriberProperty(subscription_type="SNS", address=topic.topic_arn)

        def note(
            kind: str, percent: float
        ) -> budgets.CfnBudget.NotificationWithSubscribersProperty:
            return budgets.CfnBudget.NotificationWithSubscribersProperty(
                notification=budgets.CfnBudget.NotificationProperty(
                    notification_type=kind,
                    comparison_operator="GREATER_THAN",
                    threshold=percent,
                    threshold_type="PERCENTAGE",
                ),
                subscribers=[sub],
            )

        self.budget = budgets.CfnBudget(
            self,
            "Monthly",
            budget=budgets.CfnBudget.BudgetDataProperty(
                budget_name="brightcart-monthly",
                budget_type="COST",
                time_unit="MONTHLY",
                budget_limit=budgets.CfnBudget.SpendProperty(amount=obs.budget_usd, unit="USD"),
                cost_filters={"TagKeyValue": [f"user:project${PROJECT_TAG}"]},
            ),
            notifications_with_subscribers=[
                note("FORECASTED", obs.budget_alert_percent),
                note("ACTUAL", 80),
            ],
        )
