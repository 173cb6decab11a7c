"""The loader-side end of the crm and marketing backfills, through singer-sdk's own mapper.

The overrides are the ones `backfill` passes to Meltano for the window 2026-11-01 (one day); the
mapper is the one target-redshift applies to every record before its sink.
"""

from __future__ import annotations

import json
import logging
from datetime import UTC, datetime
from typing import Any

import pytest
from singer_sdk.mapper import PluginMapper

from brightcart_ops.backfill import sources

WINDOW = (datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC))


def kept(source: str, variable: str, stream: str, schema: dict[str, Any], record: dict) -> bool:
    maps = json.loads(sources()[source].overrides(*WINDOW)[variable])
    mapper = PluginMapper(plugin_config={"stream_maps": maps}, logger=logging.getLogger(__name__))
    mapper.register_raw_stream_schema(stream, schema, [])
    (stream_map,) = mapper.stream_maps[stream]
    return stream_map.transform(dict(record)) == record


@pytest.mark.parametrize(
    ("stamp", "expected"),
    [
        ("2026-10-31T23:59:59.999999Z", False),
        ("2026-11-01T00:00:00.000000Z", True),
        ("2026-11-01T23:59:59.999999Z", True),
        ("2026-11-02T00:00:00.000000Z", False),  # the end is exclusive
        ("2026-11-05T08:00:00.000000Z", False),
        (None, True),  # cannot be placed in a window: kept, landing it again adds no version
    ],
)
def test_crm_records_outside_the_window_never_reach_the_loader(
    stamp: str | None, expected: bool
) -> None:
    schema = {
        "type": "object",
        "properties": {
            "Id": {"type": "string"},
            "SystemModstamp": {"type": ["null", "string"], "format": "date-time"},
        },
    }
    for stream in ("Account", "Contact", "Lead", "Campaign", "CampaignMember", "Opportunity"):
        record = {"Id": "00Q000000000001", "SystemModstamp": stamp}
        assert kept("crm", "TARGET_REDSHIFT__CRM_STREAM_MAPS", stream, schema, record) is expected


@pytest.mark.parametrize(
    ("day", "expected"), [("2026-10-31", False), ("2026-11-01", True), ("2026-11-02", False)]
)
def test_spend_rows_outside_the_window_never_reach_the_loader(day: str, expected: bool) -> None:
    schema = {"type": "object", "properties": {"date": {"type": "string"}}}
    record = {"date": day, "platform": "google", "campaign": "black_friday_2026"}
    variable = "TARGET_REDSHIFT__MARKETING_STREAM_MAPS"
    assert kept("marketing", variable, "ad_spend", schema, record) is expected
