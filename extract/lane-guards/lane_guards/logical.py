"""What tap-postgres' LOG_BASED replication needs from the source, checked before it starts.

meltanolabs-tap-postgres 0.10.0 reads a wal2json replication slot. Without these prerequisites
it fails late and obscurely, or worse, runs and lands wrong data:

- ``wal_level = logical`` (RDS: parameter ``rds.logical_replication = 1``);
- the replication slot named by ``replication_slot_name``, created beforehand with the
  ``wal2json`` plugin (the tap never creates it);
- ``REPLICA IDENTITY FULL`` on every replicated table: with the default identity a delete carries
  only the primary key, so its row lands with NULL ``updated_at`` and NULL columns; with FULL it
  carries the deleted row, and lands as a tombstone like the ones reconciliation writes (a copy of
  the latest version with ``_sdc_deleted_at`` set);
- ``replication-key: _sdc_lsn`` in the catalog: otherwise the tap keeps no LSN bookmark
  (``replication_key`` null in its state), ignores the position its initial copy recorded and
  re-reads whatever the slot still holds, landing those changes twice.
"""

from __future__ import annotations

import importlib
from dataclasses import dataclass
from typing import Any

LSN_KEY = "_sdc_lsn"
PLUGIN = "wal2json"


@dataclass(frozen=True)
class LogStream:
    """A selected LOG_BASED stream of the catalog."""

    name: str
    schema: str
    table: str
    replication_key: str | None


def root_metadata(stream: dict[str, Any]) -> dict[str, Any]:
    for entry in stream.get("metadata", []):
        if entry.get("breadcrumb") == []:
            meta = entry.get("metadata", {})
            return meta if isinstance(meta, dict) else {}
    return {}


def log_streams(catalog: dict[str, Any]) -> list[LogStream]:
    """Selected streams that replicate LOG_BASED."""
    found = []
    for stream in catalog.get("streams", []):
        meta = root_metadata(stream)
        selected = bool(meta.get("selected", meta.get("selected-by-default", False)))
        method = (
            meta.get("forced-replication-method")
            or meta.get("replication-method")
            or stream.get("replication_method")
        )
        if not selected or method != "LOG_BASED":
            continue
        name = str(stream.get("tap_stream_id") or stream.get("stream") or "?")
        schema = str(meta.get("schema-name") or name.split("-", 1)[0])
        table = str(stream.get("table_name") or name.split("-", 1)[-1])
        key = meta.get("replication-key") or stream.get("replication_key")
        found.append(LogStream(name, schema, table, str(key) if key else None))
    return found


def _connect(config: dict[str, Any]) -> Any:
    """A psycopg2 connection (the driver the tap itself uses, in the tap's environment)."""
    psycopg2 = importlib.import_module("psycopg2")
    return psycopg2.connect(
        host=config.get("host"),
        port=config.get("port"),
        user=config.get("user"),
        password=config.get("password") or None,
        dbname=config.get("database"),
        connect_timeout=10,
    )


def problems(config: dict[str, Any], streams: list[LogStream]) -> list[str]:
    """What stands between the source and a correct LOG_BASED run (empty when nothing)."""
    found = [
        f"{s.name}: the catalog names replication-key {s.replication_key!r}; set "
        f"`replication-key: {LSN_KEY}` in its metadata so the tap keeps an LSN bookmark"
        for s in streams
        if s.replication_key != LSN_KEY
    ]
    slot = str(config.get("replication_slot_name") or "tappostgres")
    con = _connect(config)
    try:
        with con.cursor() as cur:
            cur.execute("SHOW wal_level")
            level = cur.fetchone()[0]
            if level != "logical":
                found.append(
                    f"wal_level is {level!r}, not 'logical': set it (RDS: parameter "
                    "rds.logical_replication = 1) and restart the server"
                )
            cur.execute(
                "SELECT plugin, database FROM pg_replication_slots WHERE slot_name = %s", (slot,)
            )
            row = cur.fetchone()
            if row is None:
                found.append(
                    f"replication slot {slot!r} does not exist: create it with SELECT "
                    f"pg_create_logical_replication_slot('{slot}', '{PLUGIN}')"
                )
            elif row[0] != PLUGIN or row[1] != config.get("database"):
                found.append(
                    f"replication slot {slot!r} decodes with {row[0]!r} in database {row[1]!r}; "
                    f"it must use {PLUGIN!r} in {config.get('database')!r}"
                )
            for s in streams:
                cur.execute(
                    "SELECT c.relreplident FROM pg_class c JOIN pg_namespace n "
                    "ON n.oid = c.relnamespace WHERE n.nspname = %s AND c.relname = %s",
                    (s.schema, s.table),
                )
                ident = cur.fetchone()
                if ident is not None and ident[0] != "f":
                    found.append(
                        f"{s.schema}.{s.table} has REPLICA IDENTITY {ident[0]!r}, so its deletes "
                        f'would carry only the key: run ALTER TABLE "{s.schema}"."{s.table}" '
                        "REPLICA IDENTITY FULL"
                    )
    finally:
        con.close()
    return found


def setup_statements(slot: str, tables: list[tuple[str, str]]) -> list[str]:
    """The one-time source set-up for LOG_BASED replication of these (schema, table) pairs.

    Run as a user with REPLICATION (RDS: rds_replication) on the server the lane reads; the
    slot then retains WAL until the lane confirms it, so it must be read regularly or dropped.
    """
    identity = [
        f'ALTER TABLE "{schema}"."{table}" REPLICA IDENTITY FULL' for schema, table in tables
    ]
    return [*identity, f"SELECT pg_create_logical_replication_slot('{slot}', '{PLUGIN}')"]
