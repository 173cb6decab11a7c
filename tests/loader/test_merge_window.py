"""The merge of a new batch reads only the stored rows that can hold its versions.

A version log of a million event rows, appended in LastModified order; an hourly batch of new
objects (and a few re-sent lines). The merge SQL that the loader generates must insert exactly
the new versions and, read from DuckDB's own profile of the statement, scan about one row group
of the stored table, not all of it. Rows, not time, are asserted.
"""

from __future__ import annotations

import json
from pathlib import Path

import duckdb

from target_redshift.columns import LogicalType
from target_redshift.dialect import DuckDBDialect
from target_redshift.loader import merge_window
from target_redshift.warehouse import DuckDBWarehouse

STORED = 1_000_000
ROW_GROUP = 122_880
COLUMNS = [
    ("s3_key", LogicalType.VARCHAR),
    ("line_number", LogicalType.BIGINT),
    ("object_last_modified", LogicalType.TIMESTAMPTZ),
]
VERSION_KEY = ("s3_key", "line_number", "object_last_modified")


def _scanned(profile: dict, table: str) -> int:
    """Rows the statement's scans of `table` read (operator_rows_scanned)."""
    total = 0
    stack = [profile]
    while stack:
        node = stack.pop()
        info = json.dumps(node.get("extra_info", {}))
        if node.get("operator_type") == "TABLE_SCAN" and table in info:
            total += int(node.get("operator_rows_scanned") or 0)
        stack += node.get("children", [])
    return total


def test_hourly_merge_scans_one_row_group_not_the_version_log(tmp_path: Path) -> None:
    wh = DuckDBWarehouse(str(tmp_path / "warehouse.duckdb"))
    try:
        con = wh.con
        con.execute("CREATE SCHEMA raw_events")
        # one object per 1,000 lines, LastModified one second per line, appended in that order
        con.execute(
            "CREATE TABLE raw_events.events AS SELECT 'events/o' || (i // 1000) AS s3_key, "
            "i % 1000 AS line_number, TIMESTAMPTZ '2026-11-01 00:00:00+00' + "
            f"INTERVAL (i // 1000) SECOND AS object_last_modified FROM range({STORED}) r(i)"
        )
        # the new hour: objects 1000 to 1009, plus object 999 sent again (a killed run's replay)
        con.execute(
            "CREATE TEMP TABLE batch AS SELECT 'events/o' || (i // 1000) AS s3_key, "
            "i % 1000 AS line_number, TIMESTAMPTZ '2026-11-01 00:00:00+00' + "
            "INTERVAL (i // 1000) SECOND AS object_last_modified FROM range(999000, 1010000) r(i)"
        )
        window = merge_window(wh, "batch", COLUMNS, VERSION_KEY)
        assert window is not None and window.column == "object_last_modified"
        sql = DuckDBDialect().merge("raw_events", "events", "batch", COLUMNS, VERSION_KEY, window)
        profile_file = tmp_path / "merge.json"
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{profile_file}'")
        con.execute(
            'SET custom_profiling_settings = \'{"OPERATOR_ROWS_SCANNED": "true", '
            '"OPERATOR_TYPE": "true", "EXTRA_INFO": "true"}\''
        )
        inserted = con.execute(sql).fetchall()[0][0]
        con.execute("PRAGMA disable_profiling")
        total = con.execute("SELECT count(*) FROM raw_events.events").fetchone()
    finally:
        wh.close()
    profile = json.loads(profile_file.read_text())
    assert inserted == 10_000  # the new objects; object 999 is already there
    assert total == (STORED + 10_000,)
    scanned = _scanned(profile, "events")
    assert 0 < scanned <= 2 * ROW_GROUP, scanned  # not the 1,000,000 stored rows

    # Without the window the same statement reads the whole version log: the check can fail.
    with duckdb.connect(str(tmp_path / "warehouse.duckdb")) as con:
        con.execute("PRAGMA enable_profiling = 'json'")
        con.execute(f"PRAGMA profiling_output = '{profile_file}'")
        con.execute(
            'SET custom_profiling_settings = \'{"OPERATOR_ROWS_SCANNED": "true", '
            '"OPERATOR_TYPE": "true", "EXTRA_INFO": "true"}\''
        )
        con.execute(
            "CREATE TEMP TABLE batch AS SELECT 'events/o1010' AS s3_key, 0 AS line_number, "
            "TIMESTAMPTZ '2026-11-01 00:16:50+00' AS object_last_modified"
        )
        con.execute(DuckDBDialect().merge("raw_events", "events", "batch", COLUMNS, VERSION_KEY))
    assert _scanned(json.loads(profile_file.read_text()), "events") >= STORED
