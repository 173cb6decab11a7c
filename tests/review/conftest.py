"""One generated world per module: two days at scale 0.002 landed by the real shop lane, the
finance part of the project in a temp copy, prod built once (with the gate off, as a local world
does), then the gate enforced and November closed."""

from __future__ import annotations

import shutil
import tempfile
import uuid
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import boto3
import pytest
from typer.testing import CliRunner

from brightcart_ops.lanes import run_lane
from brightcart_ops.month_close import close_month
from brightcart_ops.warehouse import Warehouse
from brightcart_world.generator import generate
from brightcart_world.settings import Settings
from brightcart_world.sources.isolation import unique_db_name
from brightcart_world.sources.pgdb import drop_database, ensure_database

from .world import AUTHOR, CONTROLLER, POLICY, ReviewWorld, copy_finance_project, dataset_map

WORLD = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 3, tzinfo=UTC))
MONTH = "2026-11"


def latest_review(world: ReviewWorld) -> str:
    rows = world.rows("SELECT review_id FROM ops.reviews ORDER BY created_at DESC LIMIT 1")
    assert rows, "no review was recorded"
    return str(rows[0][0])


def _first_build(world: ReviewWorld) -> None:
    """prod's first build, with the gate off: the after-the-fact check must catch it."""
    prod = world.sqlmesh(
        "plan", "prod", "--auto-apply", "--no-prompts", env={"BRIGHTCART_PROMOTION_GATE": "off"}
    )
    assert prod.returncode == 0, prod.stdout[-3000:] + prod.stderr[-3000:]


@pytest.fixture(scope="module")
def review_world(sources: Settings) -> Iterator[ReviewWorld]:
    home = Path(tempfile.mkdtemp(prefix="review-", dir=sources.home))
    settings = sources.model_copy(
        update={
            "home": home,
            "pg_db": unique_db_name("review"),
            "s3_bucket": f"review-{uuid.uuid4().hex[:8]}",
        }
    )
    boto3.client("s3").create_bucket(Bucket=settings.s3_bucket)
    project = home / "project"
    with pytest.MonkeyPatch.context() as patch:
        views = copy_finance_project(project)
        (home / "policy.yaml").write_text(POLICY)
        for name, value in {
            "BRIGHTCART_HOME": str(home),
            "BRIGHTCART_WAREHOUSE": str(home / "warehouse.duckdb"),
            "BRIGHTCART_PG_DB": settings.pg_db,
            "BRIGHTCART_S3_BUCKET": settings.s3_bucket,
            "MELTANO_DATABASE_URI": f"sqlite:///{home / 'meltano.db'}",
            "BRIGHTCART_WAREHOUSE_START": WORLD[0].date().isoformat(),
            "BRIGHTCART_GATEWAY": "local",
            "BRIGHTCART_PROMOTION_GATE": "enforce",
            "BRIGHTCART_REVIEW_POLICY": str(home / "policy.yaml"),
            "BRIGHTCART_BI": "local",
            "BRIGHTCART_BI_DATASETS": str(dataset_map(home / "datasets.yaml", views)),
            "BRIGHTCART_ACTOR": AUTHOR,
            "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
        }.items():
            patch.setenv(name, value)
        for name in (
            "BRIGHTCART_ALERT_TOPIC_ARN",
            "BRIGHTCART_NOTIFY",
            "BRIGHTCART_AUDIT_BUCKET",
            "BRIGHTCART_EMERGENCY_PROMOTION",
            "BRIGHTCART_REVIEW_DIR",
        ):
            patch.delenv(name, raising=False)
        ensure_database(settings)
        try:
            generate(settings, seed=13, start=WORLD[0], end=WORLD[1], scale=0.002)
            landed = run_lane(settings, "shop-lane", "dev", attempts=2, backoff_seconds=2)
            assert landed.status == "succeeded", landed.error
            world = ReviewWorld(settings, project, CliRunner())
            _first_build(world)
            patch.setenv("BRIGHTCART_ACTOR", CONTROLLER)
            close_month(MONTH, Warehouse(settings, "local"), project, "local")
            patch.setenv("BRIGHTCART_ACTOR", AUTHOR)
            yield world
        finally:
            drop_database(settings)
            shutil.rmtree(home, ignore_errors=True)
