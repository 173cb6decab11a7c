"""Where the local sources live: one place for every address, port and folder.

The local world's settings are production's settings (`brightcart_ops.settings.Settings`: home,
warehouse, the OLTP address, the bucket) plus the ports of the emulators. Every value comes from
an environment variable (documented in docs/architecture.md) so that tests and parallel runs can
move the whole world to other ports and folders.

Production code never imports this module: a world hands its addresses over by answering
`world_env()` (when its settings object is passed in) and by writing
`$BRIGHTCART_HOME/secrets/world.env` (`write_world_env`, called by `LocalSources.up()`), which
production's `settings.load()` reads.
"""

from __future__ import annotations

import os
from pathlib import Path

from pydantic import Field

from brightcart_ops.settings import PROJECT_ROOT, WORLD_ENV_FILE, write_env_file
from brightcart_ops.settings import Settings as RuntimeSettings

REPO_ROOT = PROJECT_ROOT

# Local defaults that make the unchanged taps work against the emulators; a value already in the
# process environment wins (tests exercise business hours with an explicit window).
LOCAL_DEFAULTS = {
    # Local worlds run on a simulated clock: the business-hours rule is for production.
    "BRIGHTCART_BUSINESS_HOURS": "off",
    # Trust auth ignores the password, which tap-postgres nevertheless requires.
    "TAP_POSTGRES_PASSWORD": "unused",
    # tap-s3-csv always assumes a role; moto's STS answers for any account locally.
    "TAP_S3_CSV_ACCOUNT_ID": "000000000000",
    "TAP_S3_CSV_EXTERNAL_ID": "brightcart-local",
    "TAP_S3_CSV_ROLE_NAME": "brightcart-landing-reader",
}


class Settings(RuntimeSettings):
    """Addresses of the local sources and the runtime folder."""

    s3_port: int = 5055
    sf_port: int = 8700
    sf_proxy_port: int = 8701
    # Keys the local S3 server is called with: moto accepts any; the documented dummy by default,
    # random per world where a check must find them (BRIGHTCART_AWS_ACCESS_KEY_ID / _SECRET_...).
    aws_access_key_id: str = "testing"
    aws_secret_access_key: str = Field(default="testing", repr=False)

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
            "AWS_ACCESS_KEY_ID": self.aws_access_key_id,
            "AWS_SECRET_ACCESS_KEY": self.aws_secret_access_key,
            "AWS_DEFAULT_REGION": "us-east-1",
        }

    def port_env(self) -> dict[str, str]:
        return {
            "BRIGHTCART_S3_PORT": str(self.s3_port),
            "BRIGHTCART_SF_PORT": str(self.sf_port),
            "BRIGHTCART_SF_PROXY_PORT": str(self.sf_proxy_port),
        }

    def world_env(self) -> dict[str, str]:
        """What a Meltano or SQLMesh subprocess needs to reach this world (see the module doc)."""
        from brightcart_world.salesforce.client import meltano_credentials_env, tap_env

        defaults = {k: v for k, v in LOCAL_DEFAULTS.items() if k not in os.environ}
        return {
            **self.port_env(),
            **self.aws_env(),
            **tap_env(self),
            **meltano_credentials_env(self),
            **defaults,
        }


# What a demo decides about its world and a later `brightcart sources up` must not forget: the
# warehouse's first day (SQLMesh's start) and the clock freshness is measured against.
KEPT_ACROSS_WRITES = ("BRIGHTCART_WAREHOUSE_START", "BRIGHTCART_CLOCK")


def write_world_env(settings: Settings, extra: dict[str, str] | None = None) -> Path:
    """Write `$BRIGHTCART_HOME/secrets/world.env` so that `brightcart` processes find this world."""
    path = settings.home / WORLD_ENV_FILE
    known = {}
    if path.is_file():
        from brightcart_ops.settings import read_env_file

        known = {k: v for k, v in read_env_file(path).items() if k in KEPT_ACROSS_WRITES}
    values = {
        **settings.address_env(),
        **settings.world_env(),
        **LOCAL_DEFAULTS,
        **known,
        **(extra or {}),
    }
    values.pop("BRIGHTCART_WAREHOUSE", None)  # the file follows home unless a caller moves it
    write_env_file(path, values)
    return path


def load() -> Settings:
    """Settings from the current environment."""
    return Settings()
