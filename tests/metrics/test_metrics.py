"""The metric contract reaches CloudWatch (moto's server over HTTP) or the local metrics file."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from brightcart_ops.metrics import NAMESPACE, emit


@pytest.fixture
def cloudwatch(monkeypatch: pytest.MonkeyPatch) -> Iterator[str]:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    endpoint = f"http://127.0.0.1:{port}"
    for key, value in {
        "AWS_ENDPOINT_URL": endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
        "BRIGHTCART_METRICS": "cloudwatch",
    }.items():
        monkeypatch.setenv(key, value)
    try:
        yield endpoint
    finally:
        server.stop()


def test_lane_failure_and_freshness_reach_cloudwatch(cloudwatch: str) -> None:
    emit("LaneFailed", 1, {"Lane": "crm"})
    emit("FreshnessLagMinutes", 95.5)
    client = boto3.client("cloudwatch")
    metrics = client.list_metrics(Namespace=NAMESPACE)["Metrics"]
    names = {
        (m["MetricName"], tuple((d["Name"], d["Value"]) for d in m["Dimensions"])) for m in metrics
    }
    assert ("LaneFailed", (("Lane", "crm"),)) in names
    assert ("FreshnessLagMinutes", ()) in names


def test_local_runs_write_the_metrics_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIGHTCART_METRICS", raising=False)
    monkeypatch.setenv("BRIGHTCART_HOME", str(tmp_path))
    emit("ReconciliationMismatches", 3)
    lines = [json.loads(line) for line in (tmp_path / "metrics.jsonl").read_text().splitlines()]
    assert [(p["name"], p["value"]) for p in lines] == [("ReconciliationMismatches", 3)]
