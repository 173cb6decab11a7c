"""The pinned tap-salesforce discovers and syncs the six objects from the emulator, unchanged."""

from __future__ import annotations

import re
from typing import Any

import psycopg

from brightcart_world.salesforce.server import Emulator

from .conftest import OBJECT_NAMES, Tap, as_tap_value


def test_discover_lists_six_objects_with_systemmodstamp_key(tap: Tap) -> None:
    catalog = tap.discover()
    streams = {s["stream"]: s for s in catalog["streams"]}
    assert sorted(streams) == sorted(OBJECT_NAMES)
    for name, stream in streams.items():
        top = next(m["metadata"] for m in stream["metadata"] if m["breadcrumb"] == [])
        assert top["valid-replication-keys"] == ["SystemModstamp"], name
        assert top["table-key-properties"] == ["Id"], name
    campaign = streams["Campaign"]["schema"]["properties"]
    assert campaign["ActualCost"]["type"] == ["null", "number"]
    assert campaign["IsActive"]["type"] == ["null", "boolean"]
    assert {"type": "string", "format": "date-time"} in campaign["StartDate"]["anyOf"]
    assert streams["Account"]["schema"]["properties"]["Seller_Id__c"]["type"] == ["null", "number"]


def test_sync_outputs_exactly_the_rows_including_deleted_and_pages(
    seeded: tuple[str, dict[str, list[dict[str, Any]]]], tap: Tap, emulator: Emulator
) -> None:
    _, rows = seeded
    run = tap.sync(tap.selected_catalog())
    assert run.returncode == 0, run.stderr[-3000:]
    for name in OBJECT_NAMES:
        got = {r["Id"]: r for r in run.records(name)}
        want = {row["Id"]: {k: as_tap_value(v) for k, v in row.items()} for row in rows[name]}
        assert got == want, name
    # queryAll returns soft-deleted rows
    assert run.records("Opportunity")[-1]["IsDeleted"] is True
    # seven accounts at three per page: the tap followed nextRecordsUrl twice
    pages = re.findall(r"/services/data/v61\.0/query/01g[0-9A-F]+-(\d+)", run.stderr)
    assert sorted(set(pages)) == ["3", "6"]
    bookmarks = run.final_state["bookmarks"]
    for name in OBJECT_NAMES:
        last = max(row["SystemModstamp"] for row in rows[name])
        assert bookmarks[name]["SystemModstamp"] == as_tap_value(last), name
    # the SOQL the tap sends is the subset the emulator documents
    soql = emulator.state.soql_log
    assert len(soql) == 6
    assert all(
        re.fullmatch(r"SELECT [\w,]+ FROM \w+ WHERE SystemModstamp >= \S+\s+ORDER BY "
                     r"SystemModstamp ASC", q)
        for q in soql
    ), soql  # fmt: skip


def test_second_run_with_state_returns_only_changed_rows(
    seeded: tuple[str, dict[str, list[dict[str, Any]]]], tap: Tap
) -> None:
    dsn, rows = seeded
    catalog = tap.selected_catalog()
    first = tap.sync(catalog)
    assert first.returncode == 0, first.stderr[-3000:]
    changed = {"001000000000002AAA": "Renamed 2", "001000000000005AAA": "Renamed 5"}
    with psycopg.connect(dsn, autocommit=True) as conn:
        for record_id, name in changed.items():
            conn.execute(
                'UPDATE sfdc."Account" SET "Name" = %s, "SystemModstamp" = %s WHERE "Id" = %s',
                (name, "2026-03-01T08:00:00.125Z", record_id),
            )
    second = tap.sync(catalog, first.final_state)
    assert second.returncode == 0, second.stderr[-3000:]
    accounts = {r["Id"]: r for r in second.records("Account")}
    boundary = max(rows["Account"], key=lambda r: r["SystemModstamp"])["Id"]
    assert set(changed) <= set(accounts) <= set(changed) | {boundary}
    assert {i: accounts[i]["Name"] for i in changed} == changed
    others = [r["Id"] for name in OBJECT_NAMES if name != "Account" for r in second.records(name)]
    boundaries = {max(rows[n], key=lambda r: r["SystemModstamp"])["Id"] for n in OBJECT_NAMES}
    assert set(others) <= boundaries
    assert second.final_state["bookmarks"]["Account"]["SystemModstamp"] == (
        "2026-03-01T08:00:00.125000Z"
    )
