"""Each lane through the real taps, Meltano and our loader: raw equals source, exactly once."""

from __future__ import annotations

from datetime import UTC, datetime

import psycopg
from conftest import CRM_OBJECTS, SHOP_KEYS, LoadedWorld

from brightcart_world.generator import Manifest, advance
from brightcart_world.salesforce.client import meltano_credentials_env


def _latest_keys(world: LoadedWorld, table: str, key: str) -> set[object]:
    with world.warehouse() as wh:
        return {row[0] for row in wh.execute(f"SELECT DISTINCT {key} FROM {table}").fetchall()}


def _duplicated_versions(world: LoadedWorld, table: str, version_key: str) -> int:
    with world.warehouse() as wh:
        row = wh.execute(
            f"SELECT count(*) - count(DISTINCT ({version_key})) FROM {table}"
        ).fetchone()
    assert row is not None
    return int(row[0])


def _assert_raw_equals_source(world: LoadedWorld) -> None:
    with world.source() as pg:
        for table, key in SHOP_KEYS.items():
            source_keys = {r[0] for r in pg.execute(f"SELECT {key} FROM shop.{table}").fetchall()}
            if not source_keys:
                continue
            assert _latest_keys(world, f"raw_shop.{table}", key) == source_keys, table
            assert _duplicated_versions(world, f"raw_shop.{table}", f"{key}, updated_at") == 0
        for obj in CRM_OBJECTS:
            source_ids = {r[0] for r in pg.execute(f'SELECT "Id" FROM sfdc."{obj}"').fetchall()}
            assert _latest_keys(world, f"raw_crm.{obj.lower()}", "id") == source_ids, obj
            assert _duplicated_versions(world, f"raw_crm.{obj.lower()}", "id, systemmodstamp") == 0
    manifest = Manifest.load(world.settings)
    good_lines = {(e.s3_key, e.line_number) for e in manifest.event_lines()}
    with world.warehouse() as wh:
        landed = set(wh.execute("SELECT s3_key, line_number FROM raw_events.events").fetchall())
        ids = {
            r[0] for r in wh.execute("SELECT DISTINCT event_id FROM raw_events.events").fetchall()
        }
    assert landed == good_lines
    assert ids == manifest.unique_event_ids()
    assert _duplicated_versions(world, "raw_events.events", "s3_key, line_number") == 0


def test_first_run_lands_every_source_exactly_once(loaded_world: LoadedWorld) -> None:
    for name, result in loaded_world.runs[0].items():
        assert result.status == "succeeded", (name, result.error)
    _assert_raw_equals_source(loaded_world)
    with loaded_world.warehouse() as wh, loaded_world.source() as pg:
        spend_rows = wh.execute("SELECT count(*) FROM raw_marketing.ad_spend").fetchone()
        assert spend_rows is not None and spend_rows[0] > 0
        types = dict(
            wh.execute(
                "SELECT column_name, data_type FROM information_schema.columns "
                "WHERE table_schema = 'raw_shop' AND table_name = 'orders'"
            ).fetchall()
        )
        assert types["order_id"] == "BIGINT"
        assert types["tax_amount"].startswith("DECIMAL")
        assert types["placed_at"] == "TIMESTAMP WITH TIME ZONE"
        src = pg.execute("SELECT sum(amount) FROM shop.payments").fetchone()
        got = wh.execute(
            "SELECT sum(amount) FROM (SELECT DISTINCT payment_id, amount, updated_at "
            "FROM raw_shop.payments QUALIFY row_number() OVER (PARTITION BY payment_id "
            "ORDER BY updated_at DESC) = 1)"
        ).fetchone()
        assert src is not None and got is not None and src[0] == got[0]


def test_clock_advance_moves_only_changed_rows_then_rerun_moves_nothing(
    loaded_world: LoadedWorld,
) -> None:
    before = loaded_world.runs[0]["shop"].high_water_mark
    assert before is not None
    advance(loaded_world.settings, hours=1)
    with psycopg.connect(loaded_world.settings.pg_dsn) as pg:
        changed = {
            table: int(
                pg.execute(
                    f"SELECT count(*) FROM shop.{table} WHERE updated_at > %s", (before,)
                ).fetchone()[0]  # type: ignore[index]
            )
            for table in SHOP_KEYS
        }
    loaded_world.run_all()
    inserted = loaded_world.inserted(1, "shop")
    for table, count in changed.items():
        assert inserted.get(table, 0) == count, (table, inserted, changed)
    assert sum(changed.values()) > 0
    _assert_raw_equals_source(loaded_world)

    loaded_world.run_all()
    for lane in ("shop", "events", "crm", "marketing"):
        assert sum(loaded_world.inserted(2, lane).values()) == 0, lane
    # Salesforce is read incrementally: the rerun asks for SystemModstamp >= the bookmark, so it
    # receives again only each object's records at its latest SystemModstamp, not the object.
    with psycopg.connect(loaded_world.settings.pg_dsn) as pg:
        at_bookmark = {
            name.lower(): int(
                pg.execute(
                    f'SELECT count(*) FROM sfdc."{name}" WHERE "SystemModstamp" = '
                    f'(SELECT max("SystemModstamp") FROM sfdc."{name}")'
                ).fetchone()[0]  # type: ignore[index]
            )
            for name in CRM_OBJECTS
        }
    received = {k.lower(): v for k, v in loaded_world.received(2, "crm").items() if v}
    assert received == {k: v for k, v in at_bookmark.items() if v}, (received, at_bookmark)
    _assert_raw_equals_source(loaded_world)
    assert (
        loaded_world.runs[2]["shop"].high_water_mark == loaded_world.runs[1]["shop"].high_water_mark
    )
    assert loaded_world.runs[1]["shop"].high_water_mark > before
    assert before < datetime(2026, 11, 2, tzinfo=UTC)


def test_no_dev_secret_in_any_log(loaded_world: LoadedWorld) -> None:
    secrets = [
        value
        for key, value in meltano_credentials_env(loaded_world.settings).items()
        if key.endswith(("SECRET", "TOKEN")) and value
    ]
    assert secrets
    logs = list((loaded_world.settings.home / "logs").rglob("*.log"))
    assert logs
    for log in logs:
        text = log.read_text(encoding="utf-8", errors="replace")
        for secret in secrets:
            assert secret not in text, f"a Salesforce secret appears in {log}"
