"""The lane guards around the unchanged taps, exercised through Meltano and the real sources."""

from __future__ import annotations

import json
import subprocess
from datetime import UTC, datetime
from pathlib import Path

import duckdb
import pytest
from conftest import LoadedWorld, meltano

from brightcart_world.salesforce.client import meltano_credentials_env
from lane_guards.business_hours import BusinessHours, parse
from lane_guards.postgres import heavy_streams
from lane_guards.redact import Redactor


def test_business_hours_window() -> None:
    window = BusinessHours.parse("Mon-Fri 07:00-21:00 America/New_York")
    # Wednesday 2026-11-25 15:00 UTC is 10:00 in New York (EST, UTC-5).
    assert window.contains(datetime(2026, 11, 25, 15, 0, tzinfo=UTC))
    assert not window.contains(datetime(2026, 11, 25, 3, 0, tzinfo=UTC))  # 22:00 the day before
    assert not window.contains(datetime(2026, 11, 28, 15, 0, tzinfo=UTC))  # Saturday
    assert parse("off") is None
    with pytest.raises(ValueError, match="not of the form"):
        BusinessHours.parse("weekdays nine to five")


def test_heavy_streams_are_full_tables_and_first_incremental_reads() -> None:
    def stream(name: str, method: str) -> dict[str, object]:
        meta = {"selected": True, "replication-method": method}
        return {"tap_stream_id": name, "metadata": [{"breadcrumb": [], "metadata": meta}]}

    catalog = {
        "streams": [
            stream("shop-orders", "FULL_TABLE"),
            stream("shop-payments", "INCREMENTAL"),
            stream("shop-refunds", "INCREMENTAL"),
        ]
    }
    state = {"bookmarks": {"shop-refunds": {"replication_key_value": "2026-11-01T00:00:00+00:00"}}}
    assert heavy_streams(catalog, state) == [
        "shop-orders (FULL_TABLE)",
        "shop-payments (first INCREMENTAL read)",
    ]


def test_log_based_streams_are_heavy_until_their_initial_copy_is_bookmarked() -> None:
    def stream(name: str) -> dict[str, object]:
        meta = {"selected": True, "replication-method": "LOG_BASED", "replication-key": "_sdc_lsn"}
        return {"tap_stream_id": name, "metadata": [{"breadcrumb": [], "metadata": meta}]}

    catalog = {"streams": [stream("shop-orders"), stream("shop-customers")]}
    state = {"bookmarks": {"shop-customers": {"replication_key_value": 27624992}}}
    assert heavy_streams(catalog, state) == ["shop-orders (LOG_BASED initial copy)"]


def test_redactor_masks_the_tap_salesforce_login_line() -> None:
    line = (
        "INFO Making POST request to https://login.salesforce.com/services/oauth2/token with body "
        "{'grant_type': 'refresh_token', 'client_id': 'cid-123', 'client_secret': 's3cr3t-value', "
        "'refresh_token': 'rt-abcdef'} Authorization: Bearer 00Dxx!AQ4AQ.token"
    )
    masked = Redactor(["s3cr3t-value"])(line)
    for secret in ("cid-123", "s3cr3t-value", "rt-abcdef", "00Dxx!AQ4AQ.token"):
        assert secret not in masked
    assert "'grant_type': 'refresh_token'" in masked


def _meltano(
    world: LoadedWorld, job: str, extra_env: dict[str, str]
) -> subprocess.CompletedProcess[str]:
    return meltano(world.settings, "run", job, env=extra_env)


def test_full_table_extract_refused_inside_business_hours(loaded_world: LoadedWorld) -> None:
    inside = {
        "BRIGHTCART_BUSINESS_HOURS": "Mon-Fri 07:00-21:00 America/New_York",
        "BRIGHTCART_GUARD_NOW": "2026-11-25T15:00:00Z",
    }
    refused = _meltano(loaded_world, "finance-full-extract", inside)
    assert refused.returncode != 0
    assert "refusing to start" in refused.stderr
    assert "shop-orders (FULL_TABLE)" in refused.stderr

    started = datetime.now(UTC)
    outside = {**inside, "BRIGHTCART_GUARD_NOW": "2026-11-25T08:00:00Z"}  # 03:00 in New York
    allowed = _meltano(loaded_world, "finance-full-extract", outside)
    assert allowed.returncode == 0, allowed.stderr[-2000:]
    with duckdb.connect(str(loaded_world.settings.warehouse), read_only=True) as wh:
        landed = dict(
            wh.execute(
                "SELECT stream, sum(rows_received) FROM raw_meta.load_log "
                "WHERE started_at >= ? GROUP BY stream",
                [started],
            ).fetchall()
        )
    with loaded_world.source() as pg:
        orders = pg.execute("SELECT count(*) FROM shop.orders").fetchone()
    # The full extract read the finance tables whole (and nothing else).
    assert (
        {"orders", "order_items", "payments"}
        <= set(landed)
        <= {
            "orders",
            "order_items",
            "payments",
            "refunds",
        }
    )
    assert orders is not None and landed["orders"] == orders[0]


def test_rotated_refresh_token_is_kept_for_the_next_run(
    loaded_world: LoadedWorld, tmp_path: Path
) -> None:
    original = meltano_credentials_env(loaded_world.settings)
    store = tmp_path / "token.json"
    env = {**original, "BRIGHTCART_SF_TOKEN_STORE": f"file:{store}"}
    loaded_world.set_salesforce_faults({"rotate_refresh_token": True})
    try:
        rotated_run = _meltano(loaded_world, "crm-lane", env)
    finally:
        loaded_world.set_salesforce_faults({"rotate_refresh_token": False})
    assert rotated_run.returncode == 0, rotated_run.stderr[-2000:]
    kept = json.loads(store.read_text())["refresh_token"]
    assert kept and kept != original["TAP_SALESFORCE_REFRESH_TOKEN"]
    assert kept not in rotated_run.stderr and kept not in rotated_run.stdout

    # The configured (old) token is now revoked: only the kept one lets the next run in.
    next_run = _meltano(loaded_world, "crm-lane", env)
    assert next_run.returncode == 0, next_run.stderr[-2000:]
    without_store = _meltano(
        loaded_world,
        "crm-lane",
        {**original, "BRIGHTCART_SF_TOKEN_STORE": f"file:{tmp_path / 'none.json'}"},
    )
    assert without_store.returncode != 0
    assert "invalid_grant" in without_store.stderr or "expired" in without_store.stderr.lower()
