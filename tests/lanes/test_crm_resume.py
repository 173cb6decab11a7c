"""The crm lane after a Salesforce failure mid-sync: the next run resumes every unfinished stream.

tap-salesforce records the stream it is syncing (`current_stream`) in its state, and Meltano keeps
the state of a failed run as partial state; given that state, the tap skips every stream before
`current_stream` as "already synced", so their changes since the failed run would wait one more
run. Here the emulator serves three queries and fails every later one (three streams complete,
the other three do not), rows change in every object, and one successful run follows: every
stream in the warehouse equals what the emulator serves over HTTP (keys and a checksum of every
field) and the lane's high-water mark is the source's newest SystemModstamp, as an uninterrupted
run would leave it.

tap-salesforce discovers its streams through a Python set, so their order follows the process's
string hashing; the module fixes PYTHONHASHSEED so that every run of the tap syncs the streams in
the same order, the one the failed run's state refers to (with a random seed the old behaviour
showed only when the resumed stream did not come first).
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from typing import Any

import duckdb
import psycopg
import pytest
import requests
from conftest import CRM_OBJECTS

from brightcart_ops.landed import high_water_mark
from brightcart_ops.lanes import LaneResult, run_lane
from brightcart_ops.warehouse import Warehouse
from brightcart_world.generator import generate
from brightcart_world.salesforce.auth import credentials
from brightcart_world.salesforce.objects import API_VERSION, OBJECTS
from brightcart_world.settings import Settings

QUERIES_BEFORE_FAILURE = 3  # one query per stream: three streams complete, three do not


class CrmWorld:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings

    def run(self) -> LaneResult:
        return run_lane(self.settings, "crm-lane", "dev", attempts=1, backoff_seconds=0.1)

    def faults(self, method: str, body: dict[str, Any] | None = None) -> None:
        answer = requests.request(
            method, f"{self.settings.sf_instance_url}/__emulator/faults", json=body, timeout=10
        )
        assert answer.status_code == 200, answer.text

    def touch_every_object(self, latest_in: str = "Account") -> dict[str, tuple[str, datetime]]:
        """Change one row of every object, each with a new SystemModstamp after every stamp in
        the source (`latest_in`'s the latest); returns object -> (Id, new stamp)."""
        touched: dict[str, tuple[str, datetime]] = {}
        with psycopg.connect(self.settings.pg_dsn, autocommit=True) as pg:
            newest = max(
                pg.execute(f'SELECT max("SystemModstamp") FROM sfdc."{name}"').fetchone()[0]  # type: ignore[index]
                for name in CRM_OBJECTS
            )
            order = [latest_in, *(name for name in CRM_OBJECTS if name != latest_in)]
            for rank, name in enumerate(order):
                stamp = newest + timedelta(seconds=len(CRM_OBJECTS) - rank)
                row = pg.execute(
                    f'UPDATE sfdc."{name}" SET "SystemModstamp" = %s, "LastModifiedDate" = %s '
                    f'WHERE "Id" = (SELECT min("Id") FROM sfdc."{name}") RETURNING "Id"',
                    (stamp, stamp),
                ).fetchone()
                assert row is not None, f"sfdc.{name} has no row to change"
                touched[name] = (str(row[0]), stamp)
        return touched

    def source_newest_stamp(self) -> datetime:
        with psycopg.connect(self.settings.pg_dsn, autocommit=True) as pg:
            return max(
                pg.execute(f'SELECT max("SystemModstamp") FROM sfdc."{name}"').fetchone()[0]  # type: ignore[index]
                for name in CRM_OBJECTS
            ).astimezone(UTC)

    def emulator_records(self, name: str) -> list[dict[str, Any]]:
        """Every record of an object as the emulator serves it (queryAll, every page)."""
        base = self.settings.sf_instance_url
        creds = credentials(self.settings.home)
        token = requests.post(
            f"{base}/services/oauth2/token",
            data={
                "grant_type": "refresh_token",
                "client_id": creds.client_id,
                "client_secret": creds.client_secret,
                "refresh_token": creds.refresh_token,
            },
            timeout=10,
        )
        assert token.status_code == 200, token.text
        headers = {"Authorization": f"Bearer {token.json()['access_token']}"}
        fields = ", ".join(OBJECTS[name].fields)
        answer = requests.get(
            f"{base}/services/data/v{API_VERSION}/queryAll",
            params={"q": f"SELECT {fields} FROM {name}"},
            headers=headers,
            timeout=30,
        ).json()
        records = list(answer["records"])
        while not answer["done"]:
            answer = requests.get(base + answer["nextRecordsUrl"], headers=headers, timeout=30)
            answer = answer.json()
            records += answer["records"]
        return records

    def warehouse_records(self, name: str) -> list[dict[str, Any]]:
        """The newest version of every record of an object in raw_crm."""
        with duckdb.connect(str(self.settings.warehouse), read_only=True) as wh:
            cursor = wh.execute(
                f"SELECT * FROM raw_crm.{name.lower()} QUALIFY row_number() OVER "
                "(PARTITION BY id ORDER BY systemmodstamp DESC, _sdc_sequence DESC) = 1"
            )
            columns = [d[0] for d in cursor.description]
            return [dict(zip(columns, row, strict=True)) for row in cursor.fetchall()]


def _value(value: Any, sf_type: str) -> str:
    """One field value in a form both sides agree on."""
    if value is None:
        return "null"
    if sf_type == "datetime":
        moment = (
            value
            if isinstance(value, datetime)
            else datetime.strptime(str(value), "%Y-%m-%dT%H:%M:%S.%f%z")
        )
        return moment.astimezone(UTC).isoformat(timespec="milliseconds")
    if sf_type == "date":
        if isinstance(value, datetime):
            return value.astimezone(UTC).date().isoformat()
        return value.isoformat() if isinstance(value, date) else str(value)[:10]
    if sf_type in ("currency", "double"):
        return f"{Decimal(str(value)):.4f}"
    if sf_type == "boolean":
        return "true" if value else "false"
    return str(value)


def _digest(records: list[dict[str, Any]], name: str, lower: bool) -> dict[str, str]:
    """Id -> a checksum of every field of the record."""
    fields = OBJECTS[name].fields
    out = {}
    for record in records:
        get = (lambda f: record.get(f.lower())) if lower else record.get  # noqa: B023
        text = "|".join(f"{f}={_value(get(f), t)}" for f, t in fields.items())
        out[str(get("Id"))] = hashlib.sha256(text.encode()).hexdigest()
    return out


@pytest.fixture(scope="module")
def crm_world(sources: Settings, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CrmWorld]:
    """A generated world whose crm lane has landed once, in a warehouse and Meltano state of
    its own."""
    own = tmp_path_factory.mktemp("crm_resume")
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("BRIGHTCART_WAREHOUSE", str(own / "warehouse.duckdb"))
        patch.setenv("MELTANO_DATABASE_URI", f"sqlite:///{own / 'meltano.db'}")
        patch.setenv("PYTHONHASHSEED", "11")
        generate(
            sources,
            seed=11,
            start=datetime(2026, 11, 1, tzinfo=UTC),
            end=datetime(2026, 11, 2, tzinfo=UTC),
            scale=0.002,
        )
        world = CrmWorld(sources)
        first = world.run()
        assert first.status == "succeeded", first.error
        yield world


def test_a_run_after_a_mid_sync_failure_resumes_every_unfinished_stream(
    crm_world: CrmWorld,
) -> None:
    world = crm_world
    before_failure = world.touch_every_object()
    world.faults("POST", {"unavailable_after_queries": QUERIES_BEFORE_FAILURE})
    try:
        failed = world.run()
    finally:
        world.faults("DELETE")
    assert failed.status == "failed", failed
    landed = {
        name: any(
            (r["id"], r["systemmodstamp"]) == (ident, stamp) for r in world.warehouse_records(name)
        )
        for name, (ident, stamp) in before_failure.items()
    }
    # Mid-sync: three streams landed their change, the other three not.
    assert sorted(landed.values()) == [False] * 3 + [True] * 3, landed

    # Changes the one successful run must bring, in every stream; the source's newest stamp in a
    # stream the failed run finished, so that the lane's mark depends on that stream resuming.
    world.touch_every_object(latest_in=min(name for name, done in landed.items() if done))
    recovered = world.run()
    assert recovered.status == "succeeded", recovered.error

    for name in CRM_OBJECTS:
        served = _digest(world.emulator_records(name), name, lower=False)
        stored = _digest(world.warehouse_records(name), name, lower=True)
        assert stored.keys() == served.keys(), name
        differ = sorted(k for k in served if stored[k] != served[k])
        assert differ == [], f"{name}: {len(differ)} records differ from the emulator's"
    expected = world.source_newest_stamp()
    assert high_water_mark(Warehouse(world.settings), "crm") == expected
    assert recovered.high_water_mark == expected
