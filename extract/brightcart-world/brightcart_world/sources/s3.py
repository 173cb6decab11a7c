"""The S3 API source: moto's server on loopback, with the landing bucket created."""

from __future__ import annotations

import sys

import boto3
from botocore.exceptions import BotoCoreError, ClientError

from brightcart_world.sources.health import http_ok
from brightcart_world.sources.model import SourcesError
from brightcart_world.sources.server import ServerComponent


class S3Component(ServerComponent):
    name = "s3"
    label = "S3 API"

    def argv(self) -> list[str]:
        port = str(self.settings.s3_port)
        return [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", port]

    def ports(self) -> list[tuple[str, int]]:
        return [(self.label, self.settings.s3_port)]

    @property
    def address(self) -> str:
        return f"{self.settings.s3_endpoint}/{self.settings.s3_bucket}"

    def healthy(self) -> bool:
        return http_ok(self.settings.s3_port, "/moto-api/")

    def after_start(self) -> None:
        aws = self.settings.aws_env()
        client = boto3.client(
            "s3",
            endpoint_url=aws["AWS_ENDPOINT_URL"],
            aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
            aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
            region_name=aws["AWS_DEFAULT_REGION"],
        )
        try:
            client.create_bucket(Bucket=self.settings.s3_bucket)
        except client.exceptions.BucketAlreadyOwnedByYou:
            pass  # `up` twice: the bucket is there already
        except (BotoCoreError, ClientError) as exc:
            raise SourcesError(
                f"S3 API at {self.settings.s3_endpoint} did not create bucket "
                f"{self.settings.s3_bucket!r} ({exc}); check BRIGHTCART_S3_BUCKET is a valid "
                f"bucket name and see {self.process.log_file}"
            ) from exc
