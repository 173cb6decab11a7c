"""Each failure switch drives the real tap into its real error (or retry) path."""

from __future__ import annotations

import json
from typing import Any

import pytest
import requests

from brightcart_world.salesforce.auth import credentials
from brightcart_world.salesforce.server import Emulator

from .conftest import Tap, as_tap_value

Seeded = tuple[str, dict[str, list[dict[str, Any]]]]


def _set(sf: Emulator, **switches: Any) -> None:
    resp = requests.post(f"{sf.instance_url}/__emulator/faults", json=switches, timeout=10)
    assert resp.status_code == 200, resp.text


def test_503_is_not_retried_by_the_tap_and_fails_the_run(seeded: Seeded, tap: Tap) -> None:
    catalog = tap.selected_catalog()
    _set(tap.sf, unavailable=-1)
    run = tap.sync(catalog)
    assert run.returncode == 1
    assert "503 Server Error" in run.stderr
    assert run.records() == []


def test_unavailable_counts_down_then_serves(emulator: Emulator) -> None:
    _set(emulator, unavailable=2)
    url = f"{emulator.instance_url}/services/data/v61.0/sobjects"
    assert [requests.get(url, timeout=10).status_code for _ in range(3)] == [503, 503, 401]
    body = requests.get(f"{emulator.instance_url}/__emulator/faults", timeout=10).json()
    assert body["faults"]["unavailable"] == 0


def test_dropped_connection_is_retried_by_the_tap_then_succeeds(seeded: Seeded, tap: Tap) -> None:
    _, rows = seeded
    catalog = tap.selected_catalog()
    _set(tap.sf, drop_connection=1)
    run = tap.sync(catalog)
    assert run.returncode == 0, run.stderr[-3000:]
    assert "triggering backoff: 1 try" in run.stderr
    assert sorted(r["Id"] for r in run.records("Account")) == sorted(
        r["Id"] for r in rows["Account"]
    )


def test_invalid_session_on_data_call_fails_with_invalid_session_id(
    seeded: Seeded, tap: Tap
) -> None:
    catalog = tap.selected_catalog()
    _set(tap.sf, invalid_session=1)
    run = tap.sync(catalog)
    assert run.returncode == 1
    assert "401 Client Error" in run.stderr
    assert "INVALID_SESSION_ID" in run.stderr


def test_invalid_grant_on_login_fails_with_invalid_grant(emulator: Emulator, tap: Tap) -> None:
    _set(emulator, invalid_grant=1)
    run = tap.run("--discover")
    assert run.returncode == 1
    assert "invalid_grant" in run.stderr
    assert "/services/data/" not in run.stderr  # it never got past the login


def test_daily_quota_exhausted_answers_request_limit_exceeded(seeded: Seeded, tap: Tap) -> None:
    catalog = tap.selected_catalog()
    _set(tap.sf, api_limit=50, api_used=50)
    run = tap.sync(catalog)
    assert run.returncode == 1
    assert "403 Client Error" in run.stderr
    assert "REQUEST_LIMIT_EXCEEDED" in run.stderr
    usage = requests.get(f"{tap.sf.instance_url}/__emulator/faults", timeout=10).json()
    assert list(usage["api_usage"].values()) == [50]  # refused calls do not count


def test_quota_near_limit_stops_the_tap_by_its_own_quota_rule(seeded: Seeded, tap: Tap) -> None:
    catalog = tap.selected_catalog()
    _set(tap.sf, api_limit=50, api_used=45)
    run = tap.sync(catalog)
    # sync_stream wraps TapSalesforceQuotaExceededException in a plain Exception: exit 1, not 2
    assert run.returncode == 1
    assert "46/50" in run.stderr
    assert "total REST quota used" in run.stderr


def test_rotated_refresh_token_is_written_back_and_the_old_one_dies(
    emulator: Emulator, tap: Tap
) -> None:
    old = json.loads(tap.config.read_text())["refresh_token"]
    _set(emulator, rotate_refresh_token=True)
    assert tap.run("--discover").returncode == 0
    new = json.loads(tap.config.read_text())["refresh_token"]
    assert new != old
    assert credentials(emulator.home).refresh_token == new
    stale = tap.config.read_text().replace(new, old)
    tap.config.write_text(stale)
    run = tap.run("--discover")
    assert run.returncode == 1
    assert "invalid_grant" in run.stderr


def test_slow_switch_outlasts_a_client_timeout_requests_client_not_tap(
    emulator: Emulator,
) -> None:
    """The tap's own timeout is a hard-coded 300 s, too long for a test; a short client shows
    the switch holds the answer back, once."""
    _set(emulator, delay_calls=1, delay_seconds=3)
    url = f"{emulator.instance_url}/services/data/v61.0/sobjects"
    with pytest.raises(requests.exceptions.ReadTimeout):
        requests.get(url, timeout=0.5)
    assert requests.get(url, timeout=5).status_code == 401  # next call is answered at once


def test_unknown_fault_switch_is_refused_with_the_known_names(emulator: Emulator) -> None:
    resp = requests.post(
        f"{emulator.instance_url}/__emulator/faults", json={"explode": 1}, timeout=10
    )
    assert resp.status_code == 400
    assert "unavailable" in resp.json()["error"]


def test_sforce_limit_info_counts_calls(emulator: Emulator, seeded: Seeded) -> None:
    creds = credentials(emulator.home)
    token = requests.post(
        f"{emulator.instance_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        },
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{emulator.instance_url}/services/data/v61.0"
    infos = [
        requests.get(f"{base}/sobjects", headers=headers, timeout=10).headers["Sforce-Limit-Info"]
        for _ in range(2)
    ]
    assert infos == ["api-usage=1/100000", "api-usage=2/100000"]
    # query hides soft-deleted rows, queryAll returns them; values are bound, not spliced
    q = "SELECT Id, IsDeleted, Amount FROM Opportunity"
    live = requests.get(f"{base}/query", params={"q": q}, headers=headers, timeout=10).json()
    every = requests.get(f"{base}/queryAll", params={"q": q}, headers=headers, timeout=10).json()
    assert [r["Id"] for r in live["records"]] == ["006000000000001AAA", "006000000000002AAA"]
    assert every["totalSize"] == 3 and every["records"][2]["IsDeleted"] is True
    assert every["records"][0]["Amount"] == as_tap_value(seeded[1]["Opportunity"][0]["Amount"])
    sneaky = "SELECT Id FROM Account WHERE Name = 'x'' OR ''1''=''1'"
    resp = requests.get(f"{base}/query", params={"q": sneaky}, headers=headers, timeout=10)
    assert resp.status_code == 200 and resp.json()["records"] == []
    bad = requests.get(
        f"{base}/query", params={"q": "SELECT Nope FROM Account"}, headers=headers, timeout=10
    )
    assert bad.status_code == 400 and bad.json()[0]["errorCode"] == "INVALID_FIELD"
    malformed = requests.get(
        f"{base}/query", params={"q": "DELETE FROM Account"}, headers=headers, timeout=10
    )
    assert malformed.status_code == 400 and malformed.json()[0]["errorCode"] == "MALFORMED_QUERY"


def test_unavailable_after_queries_serves_n_queries_then_503_until_reset(
    emulator: Emulator, seeded: Seeded
) -> None:
    creds = credentials(emulator.home)
    token = requests.post(
        f"{emulator.instance_url}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        },
        timeout=10,
    ).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    base = f"{emulator.instance_url}/services/data/v61.0"

    def query(name: str) -> int:
        q = {"q": f"SELECT Id FROM {name}"}
        return requests.get(f"{base}/queryAll", params=q, headers=headers, timeout=10).status_code

    _set(emulator, unavailable_after_queries=2)
    assert [query(n) for n in ("Account", "Lead", "Contact", "Account")] == [200, 200, 503, 503]
    # other calls are served: the tap's discovery and limits still work
    assert requests.get(f"{base}/sobjects", headers=headers, timeout=10).status_code == 200
    assert requests.delete(f"{emulator.instance_url}/__emulator/faults", timeout=10).ok
    assert query("Contact") == 200
