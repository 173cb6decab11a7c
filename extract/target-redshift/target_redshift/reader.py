"""A Singer message reader that keeps numbers exact without the cost of Decimal objects."""

from __future__ import annotations

import json
import typing as t
from collections.abc import Callable

import orjson
from singer_sdk.exceptions import InvalidInputLine
from singer_sdk.io_base import SingerReader

_EXACT = json.JSONDecoder(parse_float=str)
_PLAIN = json.JSONDecoder()
# A run of 16+ digits (dots included) may not survive a trip through a binary float: such
# lines are read exactly. Digits and dots map to "9", all else to " ", then one substring test.
_DIGIT_MAP = bytes(57 if (48 <= i <= 57 or i == 46) else 32 for i in range(256))
_LONG_RUN = b"9" * 16


class ExactNumberReader(SingerReader):
    """RECORD lines keep every non-integer number as decimal text ("19.99").

    Lines are parsed with orjson; a top-level float of a record becomes repr(float), which is
    the decimal value of the JSON text whenever it has at most 15 significant digits. Lines with
    a longer digit run take the exact (slower) path, where the JSON text itself is kept.

    The text is cast once per batch by the warehouse-side normalization, so 19.99 lands as
    DECIMAL 19.990000000 exactly. Other messages (SCHEMA, STATE) are read with plain floats so
    that STATE is written back unchanged.
    """

    def __init__(self) -> None:
        super().__init__()
        self.on_failure: Callable[[], None] | None = None

    def process_lines(
        self, file_input: t.IO[str] | None, callbacks: t.Mapping[str, Callable[[dict], None]]
    ) -> t.Counter[str]:
        """Read all lines; on any error, let the owner record the failed run first."""
        try:
            return super().process_lines(file_input, callbacks)  # type: ignore[arg-type]
        except Exception:
            if self.on_failure is not None:
                self.on_failure()
            raise

    def deserialize_json(self, line: str) -> dict:
        raw = line.encode()
        if _LONG_RUN in raw.translate(_DIGIT_MAP):
            return self._exact(line)
        try:
            message: dict = orjson.loads(raw)
        except orjson.JSONDecodeError:
            return self._exact(line)  # e.g. an integer beyond 64 bits; or a clear error
        record = message.get("record") if message.get("type") == "RECORD" else None
        if isinstance(record, dict):
            # Up to 15 significant digits, repr() gives back the decimal text's value.
            for key, value in record.items():
                if type(value) is float:
                    record[key] = repr(value)
        return message

    @staticmethod
    def _exact(line: str) -> dict:
        """Slow path, exact: non-integer numbers of RECORD lines kept as their JSON text."""
        try:
            message: dict = _EXACT.decode(line)
            if message.get("type") != "RECORD":
                message = _PLAIN.decode(line)
        except json.JSONDecodeError as error:
            msg = f"Unable to parse line as JSON (is the tap writing to stdout?): {line[:500]}"
            raise InvalidInputLine(msg) from error
        return message
