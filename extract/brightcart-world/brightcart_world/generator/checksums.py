"""Fingerprints of the generated sources: per-table and per-object checksums, object contents."""

from __future__ import annotations

import gzip

import psycopg
from psycopg import sql

from brightcart_world.generator.events_out import s3_client
from brightcart_world.settings import Settings

SCHEMAS = ("shop", "sfdc", "generator")


def table_checksums(settings: Settings) -> dict[str, str]:
    """`schema.table` -> "rows:md5 over the sorted text of every row"."""
    out: dict[str, str] = {}
    with psycopg.connect(settings.pg_dsn) as conn:
        tables = conn.execute(
            "SELECT table_schema, table_name FROM information_schema.tables "
            "WHERE table_schema = ANY(%s) AND table_type = 'BASE TABLE' ORDER BY 1, 2",
            (list(SCHEMAS),),
        ).fetchall()
        for schema, name in tables:
            stmt = sql.SQL(
                "SELECT count(*), md5(coalesce(string_agg(t::text, '|' ORDER BY t::text), '')) "
                "FROM {}.{} t"
            ).format(sql.Identifier(schema), sql.Identifier(name))
            row = conn.execute(stmt).fetchone()
            assert row is not None
            out[f"{schema}.{name}"] = f"{row[0]}:{row[1]}"
    return out


def s3_objects(settings: Settings, prefix: str = "") -> dict[str, bytes]:
    """Every object under the prefix: key -> stored bytes (events stay gzipped)."""
    client = s3_client(settings)
    out: dict[str, bytes] = {}
    for page in client.get_paginator("list_objects_v2").paginate(
        Bucket=settings.s3_bucket, Prefix=prefix
    ):
        for o in page.get("Contents", []):
            body = client.get_object(Bucket=settings.s3_bucket, Key=o["Key"])["Body"]
            out[o["Key"]] = body.read()
    return out


def object_lines(raw: bytes) -> list[bytes]:
    """The lines of a gzipped JSON-lines object, as bytes (bad lines included)."""
    return gzip.decompress(raw).split(b"\n")[:-1]
