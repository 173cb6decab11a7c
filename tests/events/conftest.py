"""Fixtures for the events tap: a real moto S3 server on loopback, one bucket per test."""

from __future__ import annotations

import datetime as dt
import os
import uuid
from collections.abc import Iterator

import boto3
import moto.s3.models
import pytest
from moto.server import ThreadedMotoServer

from .support import S3Env, free_port

FROZEN_NOW = dt.datetime(2026, 11, 1, 5, 0, 7)  # every object gets this LastModified second


@pytest.fixture(scope="module")
def s3() -> Iterator[S3Env]:
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    aws = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    # Freeze moto's clock (the server runs in this process): every object shares one
    # LastModified second, the case where a strictly-newer bookmark loses objects.
    patch = pytest.MonkeyPatch()
    patch.setattr(moto.s3.models, "utcnow", lambda: FROZEN_NOW)
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | aws
    client = boto3.client(
        "s3",
        endpoint_url=aws["AWS_ENDPOINT_URL"],
        aws_access_key_id="testing",
        aws_secret_access_key="testing",
        region_name="us-east-1",
    )
    try:
        yield S3Env(env=env, client=client)
    finally:
        patch.undo()
        server.stop()


@pytest.fixture
def bucket(s3: S3Env) -> str:
    name = f"evt-{uuid.uuid4().hex[:12]}"
    s3.client.create_bucket(Bucket=name)
    return name
