"""The recipe of docs/operations.md ("Adding a source lane"), done in a copy of the project.

A fifth lane, `reviews` (product reviews dropped as CSV files in S3), is added by editing
meltano.yml alone: an inherited extractor and loader, a job whose annotations declare the lane,
and a schedule (its staging model would be the recipe's third step). Without a line of code
changed: the runner runs the job and the lane lands, and its run record, signals' heartbeat,
status's freshness, publish's lineage, the CDK's schedules, task and secrets, and the cost model
all know the lane.
"""

from __future__ import annotations

import subprocess
import sys
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import boto3
import duckdb
import pytest
import yaml

from brightcart_ops.lineage import Edge, raw_columns
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.state import lanes_of
from brightcart_ops.registry import registry
from brightcart_ops.runner import run_job
from brightcart_ops.status import collect
from brightcart_ops.warehouse import Warehouse
from brightcart_world.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
REVIEWS = [
    ("r-1", "101", "5", "2026-11-01T08:10:00+00:00"),
    ("r-2", "102", "3", "2026-11-01T09:20:00+00:00"),
    ("r-3", "101", "4", "2026-11-01T10:30:00+00:00"),
]
LANE_JOB: dict[str, Any] = {
    "name": "reviews-lane",
    "tasks": ["tap-s3-csv--reviews target-redshift--reviews"],
    "annotations": {
        "brightcart": {
            "task": "reviews",
            "timeout_seconds": 600,
            "attempts": 2,
            "minutes": 4,
            "size": {"vcpu": 0.5, "memory_gb": 1},
            "lane": {
                "source": "S3 product reviews",
                "raw_schema": "raw_reviews",
                "heartbeat_seconds": 3600,
                "max_lag_minutes": 180,
                "secrets": [],
                "backfill": {"bound": "loader_filter", "precision": "second"},
                "streams": {
                    "reviews": {
                        "table": "reviews",
                        "key": ["review_id"],
                        "window": "reviewed_at",
                        "model": "staging.stg_reviews__reviews",
                    }
                },
            },
        }
    },
}


def _with_reviews_lane(doc: dict[str, Any]) -> dict[str, Any]:
    tables = (
        '[{"table_name": "reviews", "search_prefix": "reviews/", "search_pattern": '
        '"reviews_.*\\\\.csv$", "key_properties": ["review_id"], "delimiter": ","}]'
    )
    doc["plugins"]["extractors"].append(
        {"name": "tap-s3-csv--reviews", "inherit_from": "tap-s3-csv", "config": {"tables": tables}}
    )
    doc["plugins"]["loaders"].append(
        {
            "name": "target-redshift--reviews",
            "inherit_from": "target-redshift",
            "config": {
                "lane": "reviews",
                "default_target_schema": "raw_reviews",
                "version_key_properties": {"reviews": ["review_id", "_sdc_source_file"]},
                "replication_keys": {"reviews": "reviewed_at"},
            },
        }
    )
    doc["jobs"].append(LANE_JOB)
    doc["schedules"].append(
        {"name": "reviews-hourly", "interval": "15 * * * *", "job": "reviews-lane"}
    )
    return doc


@pytest.fixture
def project(tmp_path: Path, sources: Settings, monkeypatch: pytest.MonkeyPatch) -> Iterator[Path]:
    """A copy of the project with the reviews lane, its own warehouse and Meltano state."""
    copy = tmp_path / "project"
    copy.mkdir()
    doc = yaml.safe_load((ROOT / "meltano.yml").read_text(encoding="utf-8"))
    text = yaml.safe_dump(_with_reviews_lane(doc), sort_keys=False)
    # The copy runs the project's installed plugin environments (the world's Meltano system
    # folder links them): its pip_urls must expand exactly as the project's do, or Meltano would
    # take the plugins for changed and reinstall them from the copy.
    (copy / "meltano.yml").write_text(text.replace("${MELTANO_PROJECT_ROOT}", str(ROOT)))
    monkeypatch.setenv("BRIGHTCART_PROJECT_ROOT", str(copy))
    monkeypatch.setenv("BRIGHTCART_WAREHOUSE", str(tmp_path / "warehouse.duckdb"))
    monkeypatch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{tmp_path / 'meltano.db'}")
    s3 = boto3.client("s3", endpoint_url=sources.s3_endpoint, region_name="us-east-1")
    body = "review_id,product_id,rating,reviewed_at\n" + "".join(
        ",".join(r) + "\n" for r in REVIEWS
    )
    s3.put_object(Bucket=sources.s3_bucket, Key="reviews/reviews_2026-11-01.csv", Body=body)
    try:
        yield copy
    finally:
        s3.delete_object(Bucket=sources.s3_bucket, Key="reviews/reviews_2026-11-01.csv")


def _fingerprints() -> dict[str, str]:
    return {
        str(path.relative_to(ROOT)): path.read_text()
        for path in (ROOT / ".meltano").glob("*/*/venv/.meltano_plugin_fingerprint")
    }


def test_a_fifth_lane_from_meltano_yml_alone(project: Path, sources: Settings) -> None:
    installed = _fingerprints()
    known = registry()
    assert known.path == project / "meltano.yml"
    lane = known.lane("reviews")
    assert (lane.job, lane.extractor, lane.loader) == (
        "reviews-lane",
        "tap-s3-csv--reviews",
        "target-redshift--reviews",
    )

    # The runner: lock, attempt, record, metrics of a lane no code names.
    settings = sources.model_copy(update={"project_root": project})
    result = run_job(settings, "reviews-lane", "dev")
    assert result.status == "succeeded", result.error
    with duckdb.connect(str(settings.warehouse), read_only=True) as con:
        landed = con.execute(
            "SELECT review_id, rating FROM raw_reviews.reviews ORDER BY 1"
        ).fetchall()
        runs = con.execute(
            "SELECT job, lane, status FROM ops.pipeline_runs WHERE job = 'reviews-lane'"
        ).fetchall()
        mark = con.execute(
            "SELECT max(high_water_mark) FROM raw_meta.load_log WHERE lane = 'reviews'"
        ).fetchone()
    assert [(str(a), str(b)) for a, b in landed] == [(r[0], r[2]) for r in REVIEWS]
    assert runs == [("reviews-lane", "reviews", "succeeded")]
    assert _fingerprints() == installed, "the copy reinstalled a plugin of the project"
    assert mark is not None and mark[0] == datetime(2026, 11, 1, 10, 30, tzinfo=UTC)

    # Signals: the lane's heartbeat reaches the signal module when it loads. Loaded in a child
    # process: its @signal() would otherwise replace the project's signal in SQLMesh's registry
    # for every later test of this process.
    probe = "import runpy, sys; print(runpy.run_path(sys.argv[1])['HEARTBEAT_SECONDS']['reviews'])"
    heartbeat = subprocess.run(
        [sys.executable, "-c", probe, str(ROOT / "signals" / "sources_landed.py")],
        capture_output=True,
        text=True,
        check=True,
    )
    assert heartbeat.stdout.strip() == "3600"

    # Status: the lane's freshness against its allowed lag.
    report = collect(
        warehouse=Warehouse(settings, "local"),
        maps=load_map(),
        now=datetime(2026, 11, 1, 12, 0, tzinfo=UTC),
        read_state=False,
    )
    (reviews,) = [s for s in report.sources if s.lane == "reviews"]
    assert (reviews.source, reviews.max_lag_minutes, reviews.lag_minutes) == (
        "S3 product reviews",
        180,
        90,
    )
    assert reviews.state == "ok"

    # Lineage: a column traced to raw_reviews names the lane's source and extractor.
    edge = Edge("staging.stg_reviews__reviews", "rating", "raw_reviews.reviews", "rating")
    assert raw_columns([edge]) == [
        (
            "raw_reviews.reviews",
            "rating",
            "S3 product reviews: reviews.rating (tap-s3-csv--reviews, reviews lane)",
        )
    ]

    # Publish: a dataset reading raw_reviews depends on the reviews lane.
    assert lanes_of(["raw_reviews.reviews", "raw_shop.orders"]) == {"reviews", "shop"}


def test_the_cdk_app_and_the_cost_model_pick_the_lane_up(project: Path) -> None:
    sys.path.insert(0, str(ROOT / "ops"))
    from dataclasses import replace

    from cost.model import cost_lines
    from infra.brightcart_infra.params import PRODUCTION

    params = replace(PRODUCTION, meltano_yml=project / "meltano.yml")
    (schedule,) = [s for s in params.schedules() if s.job == "reviews-lane"]
    assert (schedule.task, schedule.command) == ("reviews", ["brightcart", "run", "reviews-lane"])
    assert params.lane("reviews").cpu_units == 512
    assert "warehouse/reviews" in params.secrets
    assert params.alarm_count() == PRODUCTION.alarm_count() + 2
    (line,) = [x for x in cost_lines(params) if x.item == "reviews task"]
    assert line.usd > 0
    assert timedelta(minutes=params.minutes_per_run(schedule)) == timedelta(minutes=4)
