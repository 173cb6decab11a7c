"""``tap-s3-csv-guard``: run tap-s3-csv with a prefix that lists no object read as empty.

tap-s3-csv 2.3.1 lists a table's ``search_prefix`` in ``tap_s3_csv.s3.list_files_in_bucket``,
which indexes each ListObjectsV2 page's ``Contents``. S3 leaves that key out of a listing that
finds no object (a fresh deployment before the first ad-spend file arrives; moto's server after a
restart, since it keeps objects in memory), so discovery and sync stop with
``KeyError: 'Contents'`` and the marketing lane fails where it should land nothing. The guard
runs the tap in this process (the tap's own environment) with three of its functions wrapped:

- ``list_files_in_bucket``: that KeyError, and only that one, becomes ``EmptyPrefix``;
- ``get_input_files_for_table``: ``EmptyPrefix`` is a listing of zero objects, so no file to
  read (the function would otherwise stop with "No files found matching pattern", which it also
  says when objects exist and none matches the table's pattern; that case still fails);
- ``get_sampled_schema_for_table``: the tap infers a table's columns from sampled files, and
  with none it returns a schema without properties, which the loader cannot key. For a table
  whose prefix is empty the schema is its key properties (text, as the tap infers them from a
  CSV) and the tap's own ``_sdc_source_*`` columns; the first file's discovery adds the rest
  (meltano.yml turns the catalog cache off for this tap, as every production task starts
  without one).

A sync then writes its state and schema as usual and no record, and exits 0, as in an hour with
no new file. Everything else is the tap's own: a missing bucket, refused credentials or an
unreachable endpoint fail as before. tests/lanes/test_s3_csv_guard.py pins the three functions'
names and parameters in the installed plugin, so a release that moves them fails there first.
"""

from __future__ import annotations

import importlib
import logging
from collections.abc import Callable, Iterator
from typing import Any

LOGGER = logging.getLogger("tap-s3-csv-guard")
PATCHED = ("list_files_in_bucket", "get_input_files_for_table", "get_sampled_schema_for_table")


class EmptyPrefix(Exception):
    """ListObjectsV2 found no object under the prefix (its page has no ``Contents``)."""


def empty_prefix_raises(
    list_files: Callable[..., Iterator[dict[str, Any]]],
) -> Callable[..., Iterator[dict[str, Any]]]:
    """``list_files_in_bucket`` that raises EmptyPrefix where the tap's raises KeyError."""

    def listing(config: dict[str, Any], search_prefix: str | None = None) -> Iterator[Any]:
        try:
            yield from list_files(config, search_prefix)
        except KeyError as missing:
            if missing.args != ("Contents",):
                raise
            raise EmptyPrefix(f"s3://{config.get('bucket')}/{search_prefix or ''}") from None

    return listing


def empty_prefix_has_no_files(
    input_files: Callable[..., Iterator[dict[str, Any]]], empty_tables: set[str]
) -> Callable[..., Iterator[dict[str, Any]]]:
    """``get_input_files_for_table`` that yields nothing for a prefix holding no object (and
    adds the table's name to `empty_tables`)."""

    def files(
        config: dict[str, Any], table_spec: dict[str, Any], modified_since: Any = None
    ) -> Iterator[dict[str, Any]]:
        try:
            yield from input_files(config, table_spec, modified_since)
        except EmptyPrefix as empty:
            empty_tables.add(str(table_spec.get("table_name")))
            LOGGER.warning(
                "tap-s3-csv-guard: no object under %s yet; %s has no file to read",
                empty,
                table_spec.get("table_name"),
            )

    return files


def key_schema(table_spec: dict[str, Any], s3: Any) -> dict[str, Any]:
    """The schema of a table with no file yet: its key properties and the tap's source columns
    (as ``get_sampled_schema_for_table`` adds them to a sampled schema)."""
    properties: dict[str, Any] = {}
    for key in table_spec.get("key_properties") or []:
        text = {"type": ["null", "string"]}
        dated = key in (table_spec.get("date_overrides") or [])
        properties[key] = s3.update_schema_to_be_a_date(text) if dated else text
    properties[s3.SDC_SOURCE_BUCKET_COLUMN] = {"type": "string"}
    properties[s3.SDC_SOURCE_FILE_COLUMN] = {"type": "string"}
    properties[s3.SDC_SOURCE_LINENO_COLUMN] = {"type": "integer"}
    properties[s3.SDC_EXTRA_COLUMN] = {
        "type": ["null", "array"],
        "items": {"type": "object", "properties": {}},
    }
    return {"type": "object", "properties": properties}


def empty_prefix_has_key_schema(
    sampled_schema: Callable[..., dict[str, Any]], empty_tables: set[str], s3: Any
) -> Callable[..., dict[str, Any]]:
    """``get_sampled_schema_for_table`` that gives a table whose prefix is empty its keys."""

    def schema(config: dict[str, Any], table_spec: dict[str, Any]) -> dict[str, Any]:
        found = sampled_schema(config, table_spec)
        if found.get("properties") or table_spec.get("table_name") not in empty_tables:
            return found
        return key_schema(table_spec, s3)

    return schema


def main() -> None:
    """Run tap-s3-csv's own entry point (it reads sys.argv) with the wrappers installed."""
    s3: Any = importlib.import_module("tap_s3_csv.s3")
    empty_tables: set[str] = set()
    s3.list_files_in_bucket = empty_prefix_raises(s3.list_files_in_bucket)
    s3.get_input_files_for_table = empty_prefix_has_no_files(
        s3.get_input_files_for_table, empty_tables
    )
    s3.get_sampled_schema_for_table = empty_prefix_has_key_schema(
        s3.get_sampled_schema_for_table, empty_tables, s3
    )
    importlib.import_module("tap_s3_csv").main()


if __name__ == "__main__":
    main()
