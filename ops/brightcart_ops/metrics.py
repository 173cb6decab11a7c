"""Pipeline metrics for the CloudWatch alarms of the deployment (namespace BrightCart/Pipeline).

The metric contract is in docs/deployment.md. With BRIGHTCART_METRICS=cloudwatch (set in the
Fargate task definitions) metrics go to CloudWatch through boto3; otherwise they are appended to
$BRIGHTCART_HOME/metrics.jsonl so local runs and tests can read them.
"""

from __future__ import annotations

import json
import os
from datetime import UTC, datetime
from pathlib import Path

NAMESPACE = "BrightCart/Pipeline"


def emit(name: str, value: float, dimensions: dict[str, str] | None = None) -> None:
    """Record one data point; never raises into the pipeline step that reports it."""
    dims = dimensions or {}
    when = datetime.now(UTC)
    if os.environ.get("BRIGHTCART_METRICS") == "cloudwatch":
        import boto3

        boto3.client("cloudwatch").put_metric_data(
            Namespace=NAMESPACE,
            MetricData=[
                {
                    "MetricName": name,
                    "Dimensions": [{"Name": k, "Value": v} for k, v in sorted(dims.items())],
                    "Timestamp": when,
                    "Value": float(value),
                }
            ],
        )
        return
    home = Path(os.environ.get("BRIGHTCART_HOME") or Path.cwd() / ".local")
    home.mkdir(parents=True, exist_ok=True)
    with (home / "metrics.jsonl").open("a", encoding="utf-8") as handle:
        point = {"name": name, "value": value, "dimensions": dims, "at": when.isoformat()}
        handle.write(json.dumps(point) + "\n")
