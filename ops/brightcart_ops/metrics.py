"""Pipeline metrics: the one catalogue of what the code emits, and the one way to emit it.

Every metric the pipeline publishes is declared here, with its dimensions and its cadence (how
often a healthy deployment emits it). The CDK stack builds its CloudWatch alarms from this
catalogue (name, namespace, dimensions, period, treat-missing-data), and `emit` refuses a metric
or a dimension that is not declared, so an alarm always watches something the code really sends.

Where data points go is a setting (brightcart_ops.settings): BRIGHTCART_METRICS=cloudwatch (set
by every Fargate task definition) sends them to CloudWatch under BRIGHTCART_METRICS_NAMESPACE;
otherwise they are appended to $BRIGHTCART_HOME/metrics.jsonl so local runs and tests read them.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from brightcart_ops.settings import DEFAULT_NAMESPACE, Settings

NAMESPACE = DEFAULT_NAMESPACE
HOUR = 3600
DAY = 86_400

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Metric:
    """A metric the code emits.

    kind "event": a data point per run that counts failures (0 on success). Missing data means
    nothing ran to report, which other alarms (freshness, the task-stopped rule) cover: alarms
    treat it as not breaching. kind "gauge": a reading the pipeline must keep reporting; missing
    data is itself a failure (breaching).
    """

    name: str
    dimensions: tuple[str, ...]
    cadence_seconds: int  # how often a healthy deployment emits it (the alarm's period)
    statistic: Literal["Sum", "Maximum"]
    kind: Literal["event", "gauge"]
    emitted_by: str  # the step that emits it (docs and the alarm's description)

    @property
    def treat_missing_data(self) -> str:
        return "breaching" if self.kind == "gauge" else "notBreaching"


LANE_FAILED = Metric("LaneFailed", ("Lane",), HOUR, "Sum", "event", "brightcart run <job>")
ROWS_LOADED = Metric("RowsLoaded", ("Lane",), HOUR, "Sum", "event", "brightcart run <lane job>")
SOURCE_UNREACHABLE = Metric(
    "SourceUnreachable", ("Lane",), HOUR, "Sum", "event", "brightcart transform (SLA check)"
)
FRESHNESS_LAG = Metric(
    "FreshnessLagMinutes", (), HOUR, "Maximum", "gauge", "brightcart transform (SLA check)"
)
BLOCKING_AUDIT_FAILURES = Metric(
    "BlockingAuditFailures", (), HOUR, "Sum", "event", "sqlmesh run prod (notification target)"
)
RECONCILIATION_MISMATCHES = Metric(
    "ReconciliationMismatches", (), DAY, "Sum", "event", "brightcart reconcile"
)

CATALOGUE: dict[str, Metric] = {
    m.name: m
    for m in (
        LANE_FAILED,
        ROWS_LOADED,
        SOURCE_UNREACHABLE,
        FRESHNESS_LAG,
        BLOCKING_AUDIT_FAILURES,
        RECONCILIATION_MISMATCHES,
    )
}


class UnknownMetric(ValueError):
    """A metric or dimension that the catalogue does not declare."""


def emit(
    metric: Metric | str,
    value: float,
    dimensions: Mapping[str, str] | None = None,
    settings: Settings | None = None,
) -> None:
    """Record one data point. An undeclared metric or dimension raises UnknownMetric; a failure
    to deliver is logged, never raised into the pipeline step that reports it."""
    dimensions = dict(dimensions or {})
    spec = CATALOGUE.get(metric) if isinstance(metric, str) else metric
    if spec is None or CATALOGUE.get(spec.name) != spec:
        raise UnknownMetric(f"metric {metric!r} is not in brightcart_ops.metrics.CATALOGUE")
    if tuple(sorted(dimensions)) != tuple(sorted(spec.dimensions)):
        raise UnknownMetric(
            f"{spec.name} takes dimensions {spec.dimensions}, got {tuple(sorted(dimensions))}"
        )
    settings = settings or _settings()
    when = datetime.now(UTC)
    if settings.metrics == "cloudwatch":
        try:
            import boto3

            boto3.client("cloudwatch").put_metric_data(
                Namespace=settings.metrics_namespace,
                MetricData=[
                    {
                        "MetricName": spec.name,
                        "Dimensions": [
                            {"Name": k, "Value": v} for k, v in sorted(dimensions.items())
                        ],
                        "Timestamp": when,
                        "Value": float(value),
                    }
                ],
            )
        except Exception as exc:  # noqa: BLE001 - a metric must never fail the step
            log.warning("could not put %s to CloudWatch: %s", spec.name, exc)
        return
    home = settings.home
    home.mkdir(parents=True, exist_ok=True)
    with (home / "metrics.jsonl").open("a", encoding="utf-8") as handle:
        point = {
            "name": spec.name,
            "value": value,
            "dimensions": dimensions,
            "at": when.isoformat(),
        }
        handle.write(json.dumps(point) + "\n")


def _settings() -> Settings:
    from brightcart_ops.settings import load

    return load()
