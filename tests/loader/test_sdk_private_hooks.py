"""Pins the private singer-sdk methods our plugins override or call.

singer-sdk 0.54 has no public hook for these steps (per-batch instead of per-record checks,
BATCH messages with `time_extracted`, the state of a bulk window), so target-redshift and
tap-postgres-bulk override or call them by name. A release that renames one, or changes its
parameters, would silently bypass our code: this test fails first, naming the method.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable

import pytest
from singer_sdk.sinks import BatchSink
from singer_sdk.streams.core import Stream
from singer_sdk.target_base import Target

from target_redshift.sink import RedshiftSink
from target_redshift.target import TargetRedshift

# (SDK class, method, our class overriding it or None when we only call it)
PINNED: list[tuple[type, str, type | None]] = [
    (Target, "_process_schema_message", TargetRedshift),
    (Target, "_process_record_message", TargetRedshift),
    (Target, "_process_batch_message", TargetRedshift),
    (Target, "_process_state_message", TargetRedshift),
    (Target, "_assert_sink_exists", None),
    (Target, "_handle_max_record_age", None),
    (BatchSink, "_parse_timestamps_in_record", RedshiftSink),
    (BatchSink, "_singer_validate_message", RedshiftSink),
    (BatchSink, "_after_process_record", RedshiftSink),
    (BatchSink, "_add_sdc_metadata_to_record", RedshiftSink),
    (BatchSink, "_remove_sdc_metadata_from_record", None),
    (BatchSink, "_get_context", None),
    # tap-postgres-bulk (extract/tap-postgres-bulk/tap_postgres_bulk/stream.py)
    (Stream, "_write_starting_replication_value", None),
    (Stream, "_generate_batch_messages", None),
]


def _parameters(method: Callable[..., object]) -> list[str]:
    return list(inspect.signature(method).parameters)


@pytest.mark.parametrize(("base", "name", "ours"), PINNED, ids=[p[1] for p in PINNED])
def test_private_sdk_method_still_exists_with_our_signature(
    base: type, name: str, ours: type | None
) -> None:
    sdk_method = getattr(base, name, None)
    assert callable(sdk_method), f"singer-sdk {base.__name__}.{name} is gone: see the caller"
    if ours is not None:
        assert name in vars(ours), f"{ours.__name__} no longer overrides {name}"
        assert _parameters(getattr(ours, name)) == _parameters(sdk_method), name


def test_private_sdk_attributes_the_target_reads_still_exist() -> None:
    source = inspect.getsource(Target)
    for attribute in ("_sinks_active", "_latest_state"):
        assert f"self.{attribute}" in source, attribute
