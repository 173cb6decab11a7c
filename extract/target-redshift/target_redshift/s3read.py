"""DuckDB reading S3 objects itself: the httpfs extension and an S3 secret for one connection.

The extension is loaded by path from its pinned wheel (`duckdb-extension-httpfs`, built for this
DuckDB version); nothing is downloaded at run time. The secret is made from the same places a
boto3 client looks: AWS_ENDPOINT_URL(_S3) (moto's server locally), AWS_ACCESS_KEY_ID /
AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN, AWS_REGION / AWS_DEFAULT_REGION, and, when no key is
in the environment, botocore's credential chain (the Fargate task role in production). The
secret is temporary (this connection only) and never logged.
"""

from __future__ import annotations

import importlib.util
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import duckdb

EXTENSION_PACKAGE = "duckdb_extension_httpfs"
SECRET_NAME = "brightcart_s3_objects"  # noqa: S105 (a name, not a secret)


class S3ReadSetupError(RuntimeError):
    """DuckDB cannot be given access to S3; the message says what to install or set."""


def extension_file(version: str | None = None) -> Path:
    """The httpfs extension built for this DuckDB version, from its wheel."""
    version = version or duckdb.__version__
    spec = importlib.util.find_spec(EXTENSION_PACKAGE)
    for folder in list(spec.submodule_search_locations or []) if spec else []:
        found = Path(folder) / "extensions" / f"v{version}" / "httpfs.duckdb_extension"
        if found.is_file():
            return found
    msg = (
        f"the DuckDB httpfs extension for duckdb {version} is not installed: install "
        f"duckdb-extension-httpfs=={version} beside duckdb=={version} (meltano install)"
    )
    raise S3ReadSetupError(msg)


@dataclass(frozen=True)
class S3Access:
    """Where S3 is and who we are there."""

    key_id: str
    secret: str
    session_token: str | None
    region: str
    endpoint: str | None  # host[:port] of an S3-compatible endpoint; None for AWS itself
    use_ssl: bool

    @classmethod
    def from_environment(cls, env: Mapping[str, str] | None = None) -> S3Access:
        env = os.environ if env is None else env
        key_id = env.get("AWS_ACCESS_KEY_ID")
        secret = env.get("AWS_SECRET_ACCESS_KEY")
        token = env.get("AWS_SESSION_TOKEN") or None
        if not (key_id and secret):
            key_id, secret, token = _credential_chain()
        endpoint_url = env.get("AWS_ENDPOINT_URL_S3") or env.get("AWS_ENDPOINT_URL")
        endpoint = None
        use_ssl = True
        if endpoint_url:
            parsed = urlparse(endpoint_url)
            endpoint = parsed.netloc or parsed.path
            use_ssl = parsed.scheme != "http"
        region = env.get("AWS_REGION") or env.get("AWS_DEFAULT_REGION") or "us-east-1"
        return cls(key_id, secret, token, region, endpoint, use_ssl)

    def secret_sql(self) -> str:
        options = [
            "TYPE s3",
            f"KEY_ID {_text(self.key_id)}",
            f"SECRET {_text(self.secret)}",
            f"REGION {_text(self.region)}",
        ]
        if self.session_token:
            options.append(f"SESSION_TOKEN {_text(self.session_token)}")
        if self.endpoint:
            options += [f"ENDPOINT {_text(self.endpoint)}", "URL_STYLE 'path'"]
        options.append(f"USE_SSL {'true' if self.use_ssl else 'false'}")
        return f"CREATE OR REPLACE TEMPORARY SECRET {SECRET_NAME} ({', '.join(options)})"


def _text(value: str) -> str:
    return "'" + value.replace("'", "''") + "'"


def _credential_chain() -> tuple[str, str, str | None]:
    """Credentials from botocore's chain (task role, instance profile, shared files)."""
    import botocore.session

    found = botocore.session.get_session().get_credentials()
    if found is None:
        msg = (
            "no AWS credentials for reading the event objects: set AWS_ACCESS_KEY_ID and "
            "AWS_SECRET_ACCESS_KEY, or run with a task role"
        )
        raise S3ReadSetupError(msg)
    frozen = found.get_frozen_credentials()
    return frozen.access_key, frozen.secret_key, frozen.token or None


def enable_s3(con: duckdb.DuckDBPyConnection, access: S3Access | None = None) -> None:
    """Load httpfs into `con` and give it the S3 secret (idempotent per connection)."""
    path = str(extension_file()).replace("'", "''")
    con.execute(f"LOAD '{path}'")
    statement = (access or S3Access.from_environment()).secret_sql()
    try:
        con.execute(statement)
    except duckdb.Error as error:
        # The statement holds the secret: say what failed without repeating it.
        msg = f"could not give DuckDB the S3 credentials ({type(error).__name__}); check them"
        raise S3ReadSetupError(msg) from None
