"""Alerts: an encrypted SNS topic, CloudWatch alarms on pipeline metrics, an AWS Budget.

Metric contract (namespace `BrightCart/Pipeline`, emitted by the `brightcart` CLI):
  LaneFailed{Lane}            1 when a lane run fails (after its own retries)
  SourceUnreachable{Lane}     1 when a lane cannot reach its source (upstream outage)
  FreshnessLagMinutes         minutes between now and the oldest lane high-water mark
  BlockingAuditFailures       count of blocking SQLMesh audits that failed in a prod run
  ReconciliationMismatches    count of finance days that differ between source and warehouse
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

from .params import Observability

PROJECT_TAG = "brightcart"


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


class BrightCartAlarms(Construct):
    def __init__(
        self,
        scope: Construct,
        cid: str,
        *,
        topic: sns.ITopic,
        lanes: list[str],
        obs: Observability,
        cluster_arn: str,
    ) -> None:
        super().__init__(scope, cid)
        action = cw_actions.SnsAction(topic)
        ns = obs.namespace
        self.alarms: list[cw.Alarm] = []

        def alarm(
            name: str,
            metric: cw.Metric,
            threshold: float,
            missing: cw.TreatMissingData,
            text: str,
            runbook: str,
        ) -> None:
            a = cw.Alarm(
                self,
                name,
                alarm_name=f"brightcart-{name}",
                alarm_description=f"{text} Runbook: docs/runbooks/{runbook}",
                metric=metric,
                threshold=threshold,
                evaluation_periods=1,
                comparison_operator=cw.ComparisonOperator.GREATER_THAN_OR_EQUAL_TO_THRESHOLD,
                treat_missing_data=missing,
            )
            a.add_alarm_action(action)
            self.alarms.append(a)

        quiet = cw.TreatMissingData.NOT_BREACHING
        hour = Duration.hours(1)
        for lane in lanes:
            dims = {"Lane": lane}
            alarm(
                f"{lane}-lane-failed",
                cw.Metric(
                    namespace=ns,
                    metric_name="LaneFailed",
                    dimensions_map=dims,
                    statistic="Sum",
                    period=hour,
                ),
                1,
                quiet,
                f"The {lane} lane failed.",
                "lane-failure.md",
            )
            if lane != "transform":
                alarm(
                    f"{lane}-upstream-outage",
                    cw.Metric(
                        namespace=ns,
                        metric_name="SourceUnreachable",
                        dimensions_map=dims,
                        statistic="Sum",
                        period=hour,
                    ),
                    1,
                    quiet,
                    f"The {lane} source is unreachable.",
                    "upstream-outage.md",
                )
        sla = obs.freshness_sla_minutes
        lag = cw.Metric(
            namespace=ns,
            metric_name="FreshnessLagMinutes",
            statistic="Maximum",
            period=Duration.minutes(15),
        )
        # No freshness figure at all means nothing is reporting: treat it as at risk.
        alarm(
            "sla-at-risk",
            lag,
            round(sla * 0.75),
            cw.TreatMissingData.BREACHING,
            "Freshness lag passed 75% of the SLA.",
            "sla.md",
        )
        alarm(
            "sla-breached",
            lag,
            sla,
            cw.TreatMissingData.BREACHING,
            "Freshness lag passed the SLA.",
            "sla.md",
        )
        alarm(
            "blocking-audit-failed",
            cw.Metric(
                namespace=ns, metric_name="BlockingAuditFailures", statistic="Sum", period=hour
            ),
            1,
            quiet,
            "A blocking audit failed in prod.",
            "blocking-audit-failure.md",
        )
        alarm(
            "reconciliation-mismatch",
            cw.Metric(
                namespace=ns,
                metric_name="ReconciliationMismatches",
                statistic="Sum",
                period=Duration.days(1),
            ),
            1,
            quiet,
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
