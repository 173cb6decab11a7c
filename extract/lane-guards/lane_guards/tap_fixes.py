"""A fix to meltanolabs-tap-postgres 0.10.0's LOG_BASED records, applied in the tap's own process.

wal2json (format 2) leaves out of an UPDATE's new values every TOASTed column the update did not
change: a long text or JSON value stored out of line. The tap builds the record from the new
values only, so that version would land with NULL in the column while the source still holds the
value, and staging would show the NULL. With REPLICA IDENTITY FULL, which the guard requires,
the message's old values (`identity`) do carry the column, and since it did not change they are
its current value too: the fix fills the missing columns from there. Columns present in the new
values are never touched, so a tap that fixes this itself is unaffected.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any


def fill_unchanged_toast(
    row: dict[str, Any] | None, payload: dict[str, Any], parse: Callable[[dict[str, Any]], Any]
) -> dict[str, Any] | None:
    """Add to an UPDATE's record the columns only its old values carry."""
    if row is None or payload.get("action") != "U":
        return row
    present = {column.get("name") for column in payload.get("columns") or []}
    for column in payload.get("identity") or []:
        name = column.get("name")
        if name not in present:
            row[name] = parse(column)
    return row


def no_batches(_stream: Any, _config: Any) -> None:
    """LOG_BASED changes travel as RECORD messages, whatever batch_config the plugin inherits
    (the shop lane's Parquet bulk path is for INCREMENTAL and FULL_TABLE windows)."""
    return None


def run_tap(args: list[str]) -> None:
    """Run tap-postgres in this process with the fix installed (this is the tap's environment)."""
    client = importlib.import_module("tap_postgres.client")
    stream_class = client.PostgresLogBasedStream
    consume = stream_class.consume

    def consume_with_toast(self: Any, payload: dict[str, Any], lsn: int) -> dict[str, Any] | None:
        return fill_unchanged_toast(consume(self, payload, lsn), payload, self._parse_column_value)

    stream_class.consume = consume_with_toast
    stream_class.get_batch_config = no_batches
    tap = importlib.import_module("tap_postgres.tap").TapPostgres
    tap.cli.main(args=args, prog_name="tap-postgres")
