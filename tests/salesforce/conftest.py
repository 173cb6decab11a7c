"""Fixtures: a private source database with sfdc.* rows, the emulator, and the real tap binary."""

from __future__ import annotations

import json
import os
import subprocess
import uuid
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import psycopg
import pytest

from brightcart_world.salesforce.client import tap_config
from brightcart_world.salesforce.server import Emulator

REPO = Path(__file__).resolve().parents[2]
SFDC_SQL = REPO / "extract" / "brightcart-world" / "brightcart_world" / "sql" / "sfdc.sql"
TAP = REPO / ".meltano" / "extractors" / "tap-salesforce" / "venv" / "bin" / "tap-salesforce"
PG = "host=127.0.0.1 port=5432 user=postgres"
START_DATE = "2026-01-01T00:00:00Z"
OBJECT_NAMES = ["Account", "Contact", "Lead", "Campaign", "CampaignMember", "Opportunity"]


def _ts(day: int, second: int = 0) -> datetime:
    return datetime.fromisoformat(f"2026-02-{day:02d}T10:00:{second:02d}.250+00:00")


def seed_rows() -> dict[str, list[dict[str, Any]]]:
    """Seven accounts (more than two pages of three) and a few rows of every other object."""
    rows: dict[str, list[dict[str, Any]]] = {name: [] for name in OBJECT_NAMES}
    for i in range(1, 8):
        rows["Account"].append(
            {
                "Id": f"001{i:012d}AAA",
                "IsDeleted": False,
                "Name": f"Seller {i}",
                "Type": "Seller",
                "BillingCountry": ["DE", "FR", "US"][i % 3],
                "Seller_Id__c": float(100 + i),
            }
        )
    rows["Contact"] = [
        {"Id": f"003{i:012d}AAA", "IsDeleted": False, "AccountId": f"001{i:012d}AAA",
         "FirstName": f"Ann{i}", "LastName": "Lee", "Email": f"ann{i}@example.org"}
        for i in (1, 2)
    ]  # fmt: skip
    rows["Lead"] = [
        {"Id": f"00Q{i:012d}AAA", "IsDeleted": False, "FirstName": None, "LastName": f"Lead{i}",
         "Email": None, "Company": f"Co {i}", "Status": "Open", "LeadSource": "Web"}
        for i in (1, 2)
    ]  # fmt: skip
    rows["Campaign"] = [
        {"Id": f"701{i:012d}AAA", "IsDeleted": False, "Name": f"Spring {i}", "Type": "Paid",
         "Status": "Active", "IsActive": i == 1, "StartDate": date(2026, 3, i),
         "EndDate": date(2026, 4, i), "BudgetedCost": Decimal("1000.50"),
         "ActualCost": Decimal(f"{i}23.45"), "utm_campaign__c": f"spring_{i}",
         "utm_source__c": "google", "utm_medium__c": "cpc"}
        for i in (1, 2)
    ]  # fmt: skip
    rows["CampaignMember"] = [
        {"Id": f"00v{i:012d}AAA", "IsDeleted": False, "CampaignId": "701000000000001AAA",
         "LeadId": f"00Q{i:012d}AAA", "ContactId": None, "Status": "Sent"}
        for i in (1, 2)
    ]  # fmt: skip
    rows["Opportunity"] = [
        {"Id": f"006{i:012d}AAA", "IsDeleted": i == 3, "AccountId": "001000000000001AAA",
         "CampaignId": "701000000000002AAA", "Name": f"Deal {i}", "StageName": "Closed Won",
         "Amount": Decimal(f"{i}99.99"), "CloseDate": date(2026, 5, i)}
        for i in (1, 2, 3)
    ]  # fmt: skip
    for n, name in enumerate(OBJECT_NAMES):
        for k, row in enumerate(rows[name]):
            stamp = _ts(n + 1, k)
            row.update({"CreatedDate": stamp, "LastModifiedDate": stamp, "SystemModstamp": stamp})
    return rows


def insert_rows(dsn: str, rows: dict[str, list[dict[str, Any]]]) -> None:
    with psycopg.connect(dsn, autocommit=True) as conn:
        for name in OBJECT_NAMES:
            for row in rows[name]:
                cols = ", ".join(f'"{c}"' for c in row)
                marks = ", ".join(["%s"] * len(row))
                conn.execute(
                    f'INSERT INTO sfdc."{name}" ({cols}) VALUES ({marks})', list(row.values())
                )


def as_tap_value(value: Any) -> Any:
    """What tap-salesforce writes for a database value (its date-time format, floats)."""
    if isinstance(value, datetime):
        return value.strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    if isinstance(value, date):
        return f"{value.isoformat()}T00:00:00.000000Z"
    if isinstance(value, Decimal):
        return float(value)
    return value


@pytest.fixture
def sf_db() -> Iterator[str]:
    """A fresh database sf_<random> with the sfdc schema; dropped afterwards."""
    name = f"sf_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(PG + " dbname=postgres", autocommit=True) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    dsn = f"{PG} dbname={name}"
    try:
        with psycopg.connect(dsn, autocommit=True) as conn:
            conn.execute(SFDC_SQL.read_text(encoding="utf-8"))
        yield dsn
    finally:
        with psycopg.connect(PG + " dbname=postgres", autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture
def seeded(sf_db: str) -> tuple[str, dict[str, list[dict[str, Any]]]]:
    rows = seed_rows()
    insert_rows(sf_db, rows)
    return sf_db, rows


@pytest.fixture
def emulator(sf_db: str, tmp_path: Path) -> Iterator[Emulator]:
    with Emulator(sf_db, tmp_path / "home", page_size=3) as sf:
        yield sf


@dataclass
class TapRun:
    returncode: int
    messages: list[dict[str, Any]]
    stderr: str

    def records(self, stream: str | None = None) -> list[dict[str, Any]]:
        return [
            m["record"]
            for m in self.messages
            if m["type"] == "RECORD" and (stream is None or m["stream"] == stream)
        ]

    @property
    def final_state(self) -> dict[str, Any]:
        return [m["value"] for m in self.messages if m["type"] == "STATE"][-1]


class Tap:
    """Runs the pinned tap-salesforce binary against one emulator."""

    def __init__(self, sf: Emulator, workdir: Path) -> None:
        self.sf = sf
        self.workdir = workdir
        self.config = workdir / "tap-config.json"
        self.config.write_text(json.dumps(tap_config(sf.home, START_DATE)), encoding="utf-8")

    def run(self, *args: str) -> TapRun:
        env = {**os.environ, **self.sf.tap_env()}
        done = subprocess.run(
            [str(TAP), "--config", str(self.config), *args],
            capture_output=True,
            text=True,
            env=env,
            timeout=120,
            check=False,
        )
        if "--discover" in args:
            messages = [json.loads(done.stdout)] if done.returncode == 0 else []
        else:
            messages = [json.loads(line) for line in done.stdout.splitlines() if line.strip()]
        return TapRun(done.returncode, messages, done.stderr)

    def discover(self) -> dict[str, Any]:
        run = self.run("--discover")
        assert run.returncode == 0, run.stderr[-3000:]
        return run.messages[0]

    def selected_catalog(self) -> Path:
        catalog = self.discover()
        for stream in catalog["streams"]:
            for entry in stream["metadata"]:
                if entry["breadcrumb"] == []:
                    entry["metadata"]["selected"] = True
                    entry["metadata"]["replication-method"] = "INCREMENTAL"
                    entry["metadata"]["replication-key"] = "SystemModstamp"
        path = self.workdir / "catalog.json"
        path.write_text(json.dumps(catalog), encoding="utf-8")
        return path

    def sync(self, catalog: Path, state: dict[str, Any] | None = None) -> TapRun:
        args = ["--properties", str(catalog)]
        if state is not None:
            state_path = self.workdir / "state.json"
            state_path.write_text(json.dumps(state), encoding="utf-8")
            args += ["--state", str(state_path)]
        return self.run(*args)


@pytest.fixture
def tap(emulator: Emulator, tmp_path: Path) -> Tap:
    assert TAP.exists(), f"{TAP} is missing: run `meltano install` first"
    return Tap(emulator, tmp_path)
