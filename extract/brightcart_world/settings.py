"""Where the local sources live: one place for every address, port and folder.

Every value comes from an environment variable (documented in docs/architecture.md) so that tests
and parallel runs can move the whole world to other ports and folders.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

REPO_ROOT = Path(__file__).resolve().parents[2]


def _env(name: str, default: str) -> str:
    value = os.environ.get(name)
    return value if value not in (None, "") else default


@dataclass(frozen=True)
class Settings:
    """Addresses of the local sources and the runtime folder."""

    home: Path = field(
        default_factory=lambda: Path(_env("BRIGHTCART_HOME", str(REPO_ROOT / ".local")))
    )
    pg_host: str = field(default_factory=lambda: _env("BRIGHTCART_PG_HOST", "127.0.0.1"))
    pg_port: int = field(default_factory=lambda: int(_env("BRIGHTCART_PG_PORT", "5432")))
    pg_user: str = field(default_factory=lambda: _env("BRIGHTCART_PG_USER", "postgres"))
    pg_db: str = field(default_factory=lambda: _env("BRIGHTCART_PG_DB", "brightcart"))
    s3_port: int = field(default_factory=lambda: int(_env("BRIGHTCART_S3_PORT", "5055")))
    s3_bucket: str = field(default_factory=lambda: _env("BRIGHTCART_S3_BUCKET", "brightcart-raw"))
    sf_port: int = field(default_factory=lambda: int(_env("BRIGHTCART_SF_PORT", "8700")))
    sf_proxy_port: int = field(
        default_factory=lambda: int(_env("BRIGHTCART_SF_PROXY_PORT", "8701"))
    )

    @property
    def warehouse(self) -> Path:
        return Path(_env("BRIGHTCART_WAREHOUSE", str(self.home / "warehouse.duckdb")))

    @property
    def pg_dsn(self) -> str:
        """libpq connection string for the OLTP source database."""
        return f"host={self.pg_host} port={self.pg_port} user={self.pg_user} dbname={self.pg_db}"

    @property
    def s3_endpoint(self) -> str:
        return f"http://127.0.0.1:{self.s3_port}"

    @property
    def sf_instance_url(self) -> str:
        return f"http://127.0.0.1:{self.sf_port}"

    def aws_env(self) -> dict[str, str]:
        """Environment that points AWS SDKs (boto3, taps) at the local moto server."""
        return {
            "AWS_ENDPOINT_URL": self.s3_endpoint,
            "AWS_ACCESS_KEY_ID": "testing",
            "AWS_SECRET_ACCESS_KEY": "testing",  # moto's documented dummy value, not a secret
            "AWS_DEFAULT_REGION": "us-east-1",
        }


def load() -> Settings:
    """Settings from the current environment."""
    return Settings()
