"""The message reader keeps every number of a RECORD at its exact decimal value."""

from __future__ import annotations

from decimal import Decimal

import pytest
from singer_sdk.exceptions import InvalidInputLine

from target_redshift.reader import ExactNumberReader


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("19.99", "19.99"),
        ("0.10", "0.1"),
        ("1e-7", "0.0000001"),
        ("123456789012.34", "123456789012.34"),
        ("12345678901234567890.123456789", "12345678901234567890.123456789"),
        ("0.1234567890123456789", "0.1234567890123456789"),
    ],
)
def test_record_numbers_keep_their_decimal_value(text: str, value: str) -> None:
    line = '{"type": "RECORD", "stream": "s", "record": {"x": ' + text + ', "n": 7}}'
    record = ExactNumberReader().deserialize_json(line)["record"]
    assert Decimal(record["x"]) == Decimal(value)
    assert record["n"] == 7


def test_integers_beyond_64_bits_and_state_floats() -> None:
    reader = ExactNumberReader()
    big = reader.deserialize_json(
        '{"type": "RECORD", "stream": "s", "record": {"n": 2' + "0" * 25 + "}}"
    )
    assert big["record"]["n"] == 2 * 10**25
    state = reader.deserialize_json('{"type": "STATE", "value": {"pos": 1.5}}')
    assert state["value"]["pos"] == 1.5


def test_bad_line_says_what_to_check() -> None:
    with pytest.raises(InvalidInputLine, match="is the tap writing to stdout"):
        ExactNumberReader().deserialize_json("INFO starting tap")
