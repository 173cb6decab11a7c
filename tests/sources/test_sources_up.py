"""The session's local sources are really up: S3 through boto3, PostgreSQL through psycopg."""

from __future__ import annotations

import os

import boto3
import psycopg

from brightcart_world.settings import Settings
from brightcart_world.sources import LocalSources
from brightcart_world.sources.health import http_ok
from brightcart_world.sources.pgdb import ddl_files
from brightcart_world.sources.salesforce import emulator_available


def _schemas(settings: Settings) -> set[str]:
    with psycopg.connect(settings.pg_dsn) as conn:
        rows = conn.execute("SELECT nspname FROM pg_namespace").fetchall()
    return {row[0] for row in rows}


def test_status_shows_every_source_up(local_sources: LocalSources) -> None:
    assert emulator_available(), "the Salesforce emulator is not installed (run `make setup`)"
    states = {s.name: s.state for s in local_sources.status()}
    assert states == {"postgres": "up", "s3": "up", "salesforce": "up"}
    assert local_sources.healthy()


def test_s3_server_holds_the_landing_bucket(sources: Settings) -> None:
    assert os.environ["AWS_ENDPOINT_URL"] == f"http://127.0.0.1:{sources.s3_port}"
    s3 = boto3.client("s3")  # reaches moto through the exported AWS_* variables
    assert sources.s3_bucket in [b["Name"] for b in s3.list_buckets()["Buckets"]]
    s3.put_object(Bucket=sources.s3_bucket, Key="probe/hello.txt", Body=b"brightcart")
    listed = s3.list_objects_v2(Bucket=sources.s3_bucket, Prefix="probe/")
    assert [o["Key"] for o in listed["Contents"]] == ["probe/hello.txt"]
    body = s3.get_object(Bucket=sources.s3_bucket, Key="probe/hello.txt")["Body"].read()
    assert body == b"brightcart"


def test_database_has_every_source_schema(sources: Settings) -> None:
    assert os.environ["BRIGHTCART_PG_DB"] == sources.pg_db
    expected = {path.stem for path in ddl_files()}
    assert "sfdc" in expected
    assert expected <= _schemas(sources)


def test_salesforce_emulator_answers_health(sources: Settings) -> None:
    assert http_ok(sources.sf_port, "/health") is emulator_available()


def test_fresh_db_is_its_own_empty_database(sources: Settings, fresh_db: Settings) -> None:
    assert fresh_db.pg_db != sources.pg_db
    assert {path.stem for path in ddl_files()} <= _schemas(fresh_db)
    with psycopg.connect(fresh_db.pg_dsn) as conn:
        accounts = conn.execute('SELECT count(*) FROM sfdc."Account"').fetchone()
    assert accounts == (0,)
