"""`eval "$(brightcart env)"` gives a shell what meltano and sqlmesh need, and nothing that
changes its other traffic; the Salesforce proxy reaches only the tap's own process."""

from __future__ import annotations

import os
import shlex
import subprocess
import sys
from pathlib import Path

from brightcart_world.settings import Settings, write_world_env
from lane_guards.salesforce import proxy_env

BRIGHTCART = Path(sys.executable).with_name("brightcart")


def _exports(home: Path) -> dict[str, str]:
    keep = ("PATH", "HOME", "LANG")
    env = {k: v for k, v in os.environ.items() if k in keep} | {"BRIGHTCART_HOME": str(home)}
    out = subprocess.run(
        [str(BRIGHTCART), "env"], env=env, capture_output=True, text=True, check=True
    ).stdout
    found = {}
    for line in out.splitlines():
        assert line.startswith("export "), line
        key, _, value = line.removeprefix("export ").partition("=")
        found[key] = shlex.split(value)[0] if value else ""
    return found


def test_env_exports_the_world_for_meltano_and_sqlmesh_and_no_proxy(tmp_path: Path) -> None:
    world = Settings(home=tmp_path, pg_port=6543, pg_db="bc_env", s3_port=6055, sf_proxy_port=6701)
    write_world_env(
        world, {"BRIGHTCART_WAREHOUSE_START": "2026-11-01", "BRIGHTCART_CLOCK": "world"}
    )
    write_world_env(world)  # `brightcart sources up` again: the demo's start and clock are kept
    exported = _exports(tmp_path)
    assert exported["BRIGHTCART_HOME"] == str(tmp_path)
    assert exported["BRIGHTCART_PG_PORT"] == "6543" and exported["BRIGHTCART_PG_DB"] == "bc_env"
    assert exported["BRIGHTCART_WAREHOUSE"] == str(tmp_path / "warehouse.duckdb")
    assert exported["BRIGHTCART_WAREHOUSE_START"] == "2026-11-01"
    assert exported["BRIGHTCART_CLOCK"] == "world"  # status measures lags as the dashboards do
    assert exported["AWS_ENDPOINT_URL"] == "http://127.0.0.1:6055"
    assert exported["MELTANO_ENVIRONMENT"] == "dev"
    assert exported["MELTANO_DATABASE_URI"] == f"sqlite:///{tmp_path / 'meltano.db'}"
    assert exported["TAP_SALESFORCE_CLIENT_SECRET"]  # the emulator's own, for the tap
    assert exported["BRIGHTCART_SF_PROXY"] == "http://127.0.0.1:6701"
    for global_traffic in ("HTTPS_PROXY", "https_proxy", "HTTP_PROXY", "REQUESTS_CA_BUNDLE"):
        assert global_traffic not in exported, global_traffic
    assert oct((tmp_path / "secrets" / "world.env").stat().st_mode & 0o777) == "0o600"


def test_the_guard_gives_the_proxy_to_the_tap_alone() -> None:
    parent = {"PATH": "/usr/bin", "BRIGHTCART_SF_PROXY": "http://127.0.0.1:6701"}
    parent["BRIGHTCART_SF_CA_BUNDLE"] = "/tmp/ca.pem"
    child = proxy_env(parent)
    assert child["HTTPS_PROXY"] == child["https_proxy"] == "http://127.0.0.1:6701"
    assert child["REQUESTS_CA_BUNDLE"] == "/tmp/ca.pem"
    assert "127.0.0.1" in child["NO_PROXY"]  # the instance_url stays off the proxy
    assert "HTTPS_PROXY" not in parent
    production = proxy_env({"PATH": "/usr/bin"})
    assert "HTTPS_PROXY" not in production and "REQUESTS_CA_BUNDLE" not in production
