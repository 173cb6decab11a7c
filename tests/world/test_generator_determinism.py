"""Same seed and window give byte-identical sources; another seed gives other data."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest

from brightcart_world.generator import advance, generate
from brightcart_world.generator.checksums import s3_objects, table_checksums
from brightcart_world.settings import Settings

START = datetime(2026, 11, 1, tzinfo=UTC)
END = START + timedelta(hours=30)
SCALE = 0.002


def fingerprint(settings: Settings) -> tuple[dict[str, str], dict[str, str]]:
    objects = {k: hashlib.sha256(v).hexdigest() for k, v in s3_objects(settings, "").items()}
    return table_checksums(settings), objects


@pytest.fixture(scope="module")
def first(make_settings: Callable[[], Settings]) -> tuple[dict[str, str], dict[str, str]]:
    s = make_settings()
    generate(s, seed=42, start=START, end=END, scale=SCALE)
    return fingerprint(s)


def test_same_seed_and_window_give_identical_tables_and_objects(
    make_settings: Callable[[], Settings], first: tuple[dict[str, str], dict[str, str]]
) -> None:
    s = make_settings()
    generate(s, seed=42, start=START, end=END, scale=SCALE)
    tables, objects = fingerprint(s)
    assert tables == first[0]
    assert objects == first[1]
    assert int(tables["shop.orders"].split(":")[0]) > 100
    assert len(objects) > 100


def test_generate_then_advance_equals_generating_the_longer_window(
    make_settings: Callable[[], Settings], first: tuple[dict[str, str], dict[str, str]]
) -> None:
    s = make_settings()
    generate(s, seed=42, start=START, end=END - timedelta(hours=2), scale=SCALE)
    advance(s, hours=1)
    advance(s, hours=1)
    tables, objects = fingerprint(s)
    assert objects == first[1]
    for name in (
        "shop.orders",
        "shop.order_items",
        "shop.payments",
        "shop.customers",
        "sfdc.Campaign",
        "sfdc.Lead",
        "generator.s3_event",
        "generator.pending_event",
    ):
        assert tables[name] == first[0][name], name


def test_a_different_seed_gives_different_data(
    make_settings: Callable[[], Settings], first: tuple[dict[str, str], dict[str, str]]
) -> None:
    s = make_settings()
    generate(s, seed=43, start=START, end=END, scale=SCALE)
    tables, objects = fingerprint(s)
    for name in ("shop.customers", "shop.orders", "shop.order_items", "sfdc.Lead"):
        assert tables[name] != first[0][name], name
    event_keys = {k for k in objects if k.startswith("events/")}
    assert event_keys and not event_keys & set(first[1])
    spend = "marketing/spend/dt=2026-11-01/ad_spend_2026-11-01.csv"
    assert objects[spend] != first[1][spend]
