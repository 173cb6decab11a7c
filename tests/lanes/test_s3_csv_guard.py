"""The marketing lane over a spend prefix that holds no object (tap-s3-csv-guard).

Through the real `meltano run marketing-lane` and the job runner, moto's S3 server and a DuckDB
warehouse of the module's own: an empty prefix lands nothing and the run succeeds, recorded as a
run with nothing new is; the next file that arrives lands exactly its rows; the prefix emptied
again (moto restarted) lands nothing and keeps them; a bucket that does not exist still fails.
"""

from __future__ import annotations

import csv
import io
import json
import subprocess
import uuid
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import duckdb
import pytest
from conftest import meltano

from brightcart_ops.lanes import LaneResult, run_lane
from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_world.generator.events_out import s3_client
from brightcart_world.settings import Settings

JOB = "marketing-lane"
PREFIX = "marketing/spend/"
SPEND_KEY = f"{PREFIX}dt=2026-11-03/ad_spend_2026-11-03.csv"
SPEND_ROWS = [
    ("2026-11-03", "google", "brand-search", "412.37", "913", "20417"),
    ("2026-11-03", "meta", "retargeting", "198.05", "377", "15203"),
    ("2026-11-03", "tiktok", "launch-video", "0.00", "0", "0"),
]
PLUGIN_PYTHON = PROJECT_ROOT / ".meltano/extractors/tap-s3-csv/venv/bin/python"


@dataclass
class SpendLane:
    """The marketing lane reading a bucket of its own (TAP_S3_CSV_BUCKET), with its own
    warehouse and Meltano state."""

    settings: Settings
    bucket: str
    s3: Any

    def meltano_run(self, bucket: str | None = None) -> subprocess.CompletedProcess[str]:
        env = {"TAP_S3_CSV_BUCKET": bucket or self.bucket}
        return meltano(self.settings, "run", JOB, env=env, timeout=600)

    def runner(self) -> LaneResult:
        """One attempt through the job runner, as `brightcart run marketing-lane` makes it."""
        return run_lane(self.settings, JOB, "dev", attempts=1)

    def warehouse(self) -> duckdb.DuckDBPyConnection:
        return duckdb.connect(str(self.settings.warehouse), read_only=True)

    def load_log(self, since: datetime) -> list[tuple[str, int, int, str]]:
        """(stream, rows_received, rows_inserted, status) the loader logged since `since`."""
        with self.warehouse() as wh:
            rows = wh.execute(
                "SELECT stream, rows_received, rows_inserted, status FROM raw_meta.load_log "
                "WHERE lane = 'marketing' AND started_at >= ? ORDER BY started_at",
                [since],
            ).fetchall()
        return [(str(s), int(r), int(i), str(status)) for s, r, i, status in rows]

    def last_run(self) -> tuple[str, int]:
        """(status, rows_loaded) of the runner's latest record of the job."""
        with self.warehouse() as wh:
            row = wh.execute(
                "SELECT status, rows_loaded FROM ops.pipeline_runs WHERE job = ? "
                "ORDER BY started_at DESC LIMIT 1",
                [JOB],
            ).fetchone()
        assert row is not None, "the runner recorded no run"
        return str(row[0]), int(row[1])

    def landed(self) -> list[tuple[Any, ...]]:
        with self.warehouse() as wh:
            return wh.execute(
                "SELECT date, platform, campaign, spend, clicks, impressions, _sdc_source_file "
                "FROM raw_marketing.ad_spend ORDER BY platform"
            ).fetchall()


@pytest.fixture(scope="module")
def spend_lane(sources: Settings, request: pytest.FixtureRequest) -> Iterator[SpendLane]:
    own = sources.home / request.module.__name__.rpartition(".")[2]
    own.mkdir(parents=True, exist_ok=True)
    s3 = s3_client(sources)
    bucket = f"spend-{uuid.uuid4().hex[:12]}"
    s3.create_bucket(Bucket=bucket)
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTCART_WAREHOUSE", str(own / "warehouse.duckdb"))
        patch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{own / 'meltano.db'}")
        patch.setenv("TAP_S3_CSV_BUCKET", bucket)
        yield SpendLane(sources, bucket, s3)


def _csv(rows: Sequence[Sequence[str]]) -> bytes:
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["date", "platform", "campaign", "spend", "clicks", "impressions"])
    writer.writerows(rows)
    return out.getvalue().encode()


def _typed(rows: Sequence[Sequence[Any]]) -> list[tuple[Any, ...]]:
    return [(str(r[0]), r[1], r[2], Decimal(r[3]), int(r[4]), int(r[5])) for r in rows]


def test_empty_prefix_lands_nothing_then_the_first_file_lands_its_rows(
    spend_lane: SpendLane,
) -> None:
    listing = spend_lane.s3.list_objects_v2(Bucket=spend_lane.bucket, Prefix=PREFIX)
    assert "Contents" not in listing  # what tap-s3-csv 2.3.1 indexes without checking

    # An empty prefix: the tap sends its schema and state, no record; the lane succeeds.
    started = datetime.now(UTC)
    empty = spend_lane.meltano_run()
    assert empty.returncode == 0, empty.stderr[-3000:]
    assert "KeyError" not in empty.stderr
    assert f"no object under s3://{spend_lane.bucket}/{PREFIX}" in empty.stderr
    with spend_lane.warehouse() as wh:  # the table is there, keyed, and empty
        assert wh.execute("SELECT count(*) FROM raw_marketing.ad_spend").fetchone() == (0,)

    # Through the runner: a succeeded run with no row loaded, and no stream logged by the loader
    # (the loader logs the streams that sent records).
    result = spend_lane.runner()
    assert (result.status, result.rows_loaded) == ("succeeded", 0), result.error
    assert result.exit_code == 0
    empty_record = spend_lane.last_run()
    assert empty_record == ("succeeded", 0)
    assert spend_lane.load_log(started) == []

    # The first file arrives: the next run lands exactly its rows.
    spend_lane.s3.put_object(Bucket=spend_lane.bucket, Key=SPEND_KEY, Body=_csv(SPEND_ROWS))
    started = datetime.now(UTC)
    result = spend_lane.runner()
    assert (result.status, result.rows_loaded) == ("succeeded", len(SPEND_ROWS)), result.error
    assert spend_lane.load_log(started) == [
        ("ad_spend", len(SPEND_ROWS), len(SPEND_ROWS), "succeeded")
    ]
    landed = spend_lane.landed()
    assert _typed(landed) == _typed(SPEND_ROWS)
    assert {str(row[6]).endswith(SPEND_KEY) for row in landed} == {True}

    # A run with nothing new is recorded as the empty prefix's run was.
    started = datetime.now(UTC)
    result = spend_lane.runner()
    assert (result.status, result.rows_loaded) == ("succeeded", 0), result.error
    assert spend_lane.last_run() == empty_record
    assert spend_lane.load_log(started) == []

    # The prefix empty again (moto's server restarted): nothing lands, nothing is lost.
    spend_lane.s3.delete_object(Bucket=spend_lane.bucket, Key=SPEND_KEY)
    result = spend_lane.runner()
    assert (result.status, result.rows_loaded) == ("succeeded", 0), result.error
    assert spend_lane.landed() == landed


@pytest.mark.full
def test_missing_bucket_still_fails_the_lane(spend_lane: SpendLane) -> None:
    """tap-s3-csv retries a NoSuchBucket five times with its own backoff, in its access probe
    and again in the sync, before it fails: minutes, hence `make test-full`."""
    missing = spend_lane.meltano_run(bucket=f"absent-{uuid.uuid4().hex[:12]}")
    assert missing.returncode != 0
    assert "NoSuchBucket" in missing.stderr


def test_tap_s3_csv_functions_the_guard_wraps_are_unchanged() -> None:
    """tap-s3-csv-guard (lane_guards/s3_csv.py) replaces three functions of tap_s3_csv.s3 by
    name, with their 2.3.1 parameters, and relies on the tap calling them through the module. A
    release that renames one, changes its parameters or imports it by name would bypass the
    guard: this fails first, naming the function. It runs in the plugin's own environment."""
    probe = (
        "import inspect, json\n"
        "from importlib.metadata import version\n"
        "from tap_s3_csv import discover, s3, sync\n"
        "from lane_guards.s3_csv import PATCHED\n"
        "print(json.dumps({\n"
        "  'version': version('tap-s3-csv'),\n"
        "  'parameters': {name: list(inspect.signature(getattr(s3, name)).parameters)\n"
        "                 for name in PATCHED if callable(getattr(s3, name, None))},\n"
        "  's3': inspect.getsource(s3),\n"
        "  'sync': inspect.getsource(sync),\n"
        "  'discover': inspect.getsource(discover),\n"
        "}))\n"
    )
    done = subprocess.run(
        [str(PLUGIN_PYTHON), "-c", probe], capture_output=True, text=True, check=True
    )
    found = json.loads(done.stdout)
    assert found["version"] == "2.3.1", "tap-s3-csv moved: re-check lane_guards/s3_csv.py"
    assert found["parameters"] == {
        "list_files_in_bucket": ["config", "search_prefix"],
        "get_input_files_for_table": ["config", "table_spec", "modified_since"],
        "get_sampled_schema_for_table": ["config", "table_spec"],
    }
    # Called through the module's globals or attributes, where the guard replaced them.
    assert "list_files_in_bucket(config, table_spec.get('search_prefix'))" in found["s3"]
    assert "get_input_files_for_table(config, table_spec)" in found["s3"]
    assert "s3.get_input_files_for_table(" in found["sync"]
    assert "s3.get_sampled_schema_for_table(" in found["discover"]
    # The tap's own error: when a release stops indexing Contents blindly, the guard is moot.
    assert "page['Contents']" in found["s3"], "the listing changed: is the guard still needed?"
