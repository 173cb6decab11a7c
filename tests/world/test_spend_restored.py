"""An S3 server that restarted lost the ad-spend files; the next `advance` puts them back."""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from datetime import UTC, datetime

import boto3
import psycopg

from brightcart_world.generator import advance, generate
from brightcart_world.settings import Settings


def test_advance_puts_back_lost_spend_files_byte_for_byte(
    make_settings: Callable[[], Settings],
) -> None:
    s = make_settings()
    generate(s, 9, datetime(2026, 11, 1, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC), 0.0003)
    s3 = boto3.client(
        "s3",
        endpoint_url=s.s3_endpoint,
        aws_access_key_id="testing",
        aws_secret_access_key="testing",  # moto's documented dummy value
        region_name="us-east-1",
    )
    with psycopg.connect(s.pg_dsn) as con:
        recorded = con.execute(
            "SELECT s3_key, sha256 FROM generator.s3_object WHERE kind = 'spend'"
        ).fetchall()
    assert len(recorded) == 1, recorded  # one day, one spend file
    key, digest = recorded[0]
    s3.delete_object(Bucket=s.s3_bucket, Key=key)  # as a restarted moto server forgets it
    advance(s, hours=1)
    body = s3.get_object(Bucket=s.s3_bucket, Key=key)["Body"].read()
    assert hashlib.sha256(body).hexdigest() == digest
    assert body.startswith(b"date,platform,campaign,spend,clicks,impressions\n")
