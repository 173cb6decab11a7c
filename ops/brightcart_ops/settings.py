"""Production settings: the one typed place every pipeline step reads its configuration from.

The bottom floor of the `brightcart_ops` package: it imports nothing of the project. Values come
from the process environment (the Fargate task definition in production), documented in
docs/deployment.md; defaults describe a local checkout.

A local world (the dev-only `brightcart_world` package) hands its addresses over in two ways,
neither of which makes production code import it:

* `brightcart sources up` (and every test world) writes `$BRIGHTCART_HOME/secrets/world.env`, a
  dotenv file with what a Meltano or SQLMesh process needs to reach the local sources (the S3
  endpoint, the emulator's credentials, the Salesforce proxy that only the tap's guard uses).
  `load()` reads the BRIGHTCART_* settings from it under the process environment, and
  `world_env()` passes the rest to subprocesses (also under the process environment).
* The world's own settings class extends this one and answers `world_env()` itself.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Literal

from pydantic import AliasChoices, Field
from pydantic_settings import BaseSettings, SettingsConfigDict

# Under secrets/: it holds the local world's credentials (the emulator's client secret).
WORLD_ENV_FILE = "secrets/world.env"
DEFAULT_NAMESPACE = "BrightCart/Pipeline"


def _project_root() -> Path:
    """Where meltano.yml lives: BRIGHTCART_PROJECT_ROOT, the checkout this file is in, or cwd."""
    given = os.environ.get("BRIGHTCART_PROJECT_ROOT") or os.environ.get("MELTANO_PROJECT_ROOT")
    if given:
        return Path(given).resolve()
    checkout = Path(__file__).resolve().parents[2]
    if (checkout / "meltano.yml").is_file():
        return checkout
    return Path.cwd().resolve()


PROJECT_ROOT = _project_root()


def read_env_file(path: Path) -> dict[str, str]:
    """KEY=VALUE lines of a dotenv file (no interpolation); {} when the file is absent."""
    if not path.is_file():
        return {}
    out: dict[str, str] = {}
    for raw in path.read_text(encoding="utf-8").splitlines():
        line = raw.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, value = line.removeprefix("export ").split("=", 1)
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "'\"":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def write_env_file(path: Path, values: dict[str, str]) -> None:
    """Write a dotenv file readable only by its owner (it may hold a local world's secrets)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write("# written by the local world; read by brightcart_ops.settings\n")
        for key, value in sorted(values.items()):
            handle.write(f"{key}={value}\n")
    tmp.replace(path)


class Settings(BaseSettings):
    """Warehouse, sources, S3, metrics, alerts and locks of one deployment (or local world)."""

    model_config = SettingsConfigDict(
        env_prefix="BRIGHTCART_", extra="ignore", frozen=True, populate_by_name=True
    )

    home: Path = Field(default_factory=lambda: PROJECT_ROOT / ".local")
    project_root: Path = Field(default_factory=lambda: PROJECT_ROOT)
    # Meltano environment of the steps (dev, ci, prod); the task definition sets prod.
    environment: str = Field(
        default="dev",
        validation_alias=AliasChoices("BRIGHTCART_ENVIRONMENT", "MELTANO_ENVIRONMENT"),
    )
    gateway: Literal["local", "postgres", "redshift"] = "local"
    # "Now" for freshness, SLAs and dashboards: the wall clock (production), or a local world's
    # simulated clock (`brightcart demo` writes BRIGHTCART_CLOCK=world into world.env).
    clock: Literal["wall", "world"] = "wall"
    # The OLTP source (the read replica in production).
    pg_host: str = "127.0.0.1"
    pg_port: int = 5432
    pg_user: str = "postgres"
    pg_db: str = "brightcart"
    pg_password: str = Field(default="", repr=False)
    # S3: the raw landing bucket, the loader's staging bucket, the audit export bucket.
    s3_bucket: str = "brightcart-raw"
    staging_bucket: str = ""
    audit_bucket: str = ""
    # Where metrics go: a JSON-lines file under home, or CloudWatch (the task definition's).
    metrics: Literal["file", "cloudwatch"] = "file"
    metrics_namespace: str = DEFAULT_NAMESPACE
    # Alerts: an SNS topic in production, $BRIGHTCART_HOME/alerts.jsonl without one.
    alert_topic_arn: str = ""
    # Lane locks: a PostgreSQL advisory lock in production, a file lock under home without it.
    lock_dsn: str = Field(default="", repr=False)
    # The warehouse behind the `postgres` gateway (integration runs) and `redshift` (production).
    wh_pg_db: str = "brightcart_wh"
    redshift_host: str = Field(default="", validation_alias="REDSHIFT_HOST")
    redshift_port: int = Field(default=5439, validation_alias="REDSHIFT_PORT")
    redshift_database: str = Field(default="", validation_alias="REDSHIFT_DATABASE")
    redshift_user: str = Field(default="", validation_alias="REDSHIFT_USER")
    redshift_password: str = Field(default="", validation_alias="REDSHIFT_PASSWORD", repr=False)

    @property
    def warehouse(self) -> Path:
        """The local DuckDB file; BRIGHTCART_WAREHOUSE is read when asked, so a step may move it."""
        return Path(os.environ.get("BRIGHTCART_WAREHOUSE") or self.home / "warehouse.duckdb")

    @property
    def pg_dsn(self) -> str:
        """libpq connection string for the OLTP source database."""
        dsn = f"host={self.pg_host} port={self.pg_port} user={self.pg_user} dbname={self.pg_db}"
        return dsn + (f" password={self.pg_password}" if self.pg_password else "")

    @property
    def meltano_yml(self) -> Path:
        return self.project_root / "meltano.yml"

    def world_env(self) -> dict[str, str]:
        """Variables of a local world for subprocesses: `$BRIGHTCART_HOME/secrets/world.env`,
        where the process environment does not already say otherwise. Empty in production."""
        return {
            key: value
            for key, value in read_env_file(self.home / WORLD_ENV_FILE).items()
            if key not in os.environ
        }

    def address_env(self) -> dict[str, str]:
        """The settings a Meltano or SQLMesh subprocess reads from its environment."""
        return {
            "BRIGHTCART_HOME": str(self.home),
            "BRIGHTCART_PG_HOST": self.pg_host,
            "BRIGHTCART_PG_PORT": str(self.pg_port),
            "BRIGHTCART_PG_USER": self.pg_user,
            "BRIGHTCART_PG_DB": self.pg_db,
            "BRIGHTCART_S3_BUCKET": self.s3_bucket,
            "BRIGHTCART_WAREHOUSE": str(self.warehouse),
        }


def load(home: Path | None = None) -> Settings:
    """Settings from the environment, over a local world's `world.env` when there is one."""
    where = home or Path(os.environ.get("BRIGHTCART_HOME") or PROJECT_ROOT / ".local")
    env_file = where / WORLD_ENV_FILE
    if env_file.is_file():
        return Settings(_env_file=env_file, home=where)  # type: ignore[call-arg]
    return Settings(home=where)
