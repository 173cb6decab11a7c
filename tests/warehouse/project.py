"""Build throw-away copies of the warehouse project (this part's files only) under /tmp/wh/."""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path

import duckdb
from sqlmesh import Context

from . import raw_fixture

ROOT = raw_fixture.ROOT
TMP_ROOT = Path("/tmp/wh")

# The warehouse part of the project (the marketing domain is built and tested on its own).
PROJECT_GLOBS = [
    "config.py",
    "external_models.yaml",
    "models/staging/stg_shop__*.sql",
    # one Salesforce current-state model: the version-log merge is tested on it
    "models/staging/stg_crm__accounts.sql",
    "models/intermediate/int_order_lines.sql",
    "models/marts/finance/*.sql",
    "models/marts/orders/*.sql",
    "models/marts/refunds/*.sql",
    "models/marts/customers/customers.sql",
    "models/marts/customers/cohorts_monthly.sql",
    "models/ops/*.sql",
    "models/bi/executive_daily.sql",
    "models/bi/operations_hourly.sql",
    "models/bi/revenue_by_seller.sql",
    "models/bi/refunds.sql",
    "models/bi/cohorts.sql",
    "macros/kpis.py",
    "macros/money.py",
    "macros/audit_helpers.py",
    "macros/versions.py",
    "audits/*.sql",
    "signals/sources_landed.py",
    "linter/rules.py",
]


def temp_dir(prefix: str) -> Path:
    TMP_ROOT.mkdir(parents=True, exist_ok=True)
    return Path(tempfile.mkdtemp(prefix=prefix, dir=TMP_ROOT))


def copy_project(target: Path) -> Path:
    """Copy this part's project files into ``target`` and return it."""
    for pattern in PROJECT_GLOBS:
        matches = sorted(ROOT.glob(pattern))
        assert matches, f"project file missing: {pattern}"
        for source in matches:
            destination = target / source.relative_to(ROOT)
            destination.parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, destination)
    return target


def load_duckdb_fixture(warehouse: Path) -> None:
    with duckdb.connect(str(warehouse)) as con:
        raw_fixture.apply(con.execute, raw_fixture.fixture_statements())


def duckdb_env(workdir: Path) -> dict[str, str]:
    return {
        "BRIGHTCART_HOME": str(workdir),
        "BRIGHTCART_WAREHOUSE": str(workdir / "warehouse.duckdb"),
        "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
    }


def set_env(values: dict[str, str]) -> None:
    os.environ.update(values)


def context(project: Path, gateway: str = "local") -> Context:
    return Context(paths=str(project), gateway=gateway)
