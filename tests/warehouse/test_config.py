"""config.py: gateways from the environment, analytics off, linter on, optional notify targets."""

from __future__ import annotations

import os
import shutil
import sys

import pytest
from sqlmesh.core.config import Config
from sqlmesh.core.config.loader import load_config_from_python_module

from brightcart_sqlmesh.gateways import gateways, state_path, warehouse_path

from . import project

CONFIG = project.ROOT / "config.py"

NOTIFY_MODULE = """
from sqlmesh.core.notification_target import ConsoleNotificationTarget


def targets():
    return [ConsoleNotificationTarget()]
"""


def load(monkeypatch: pytest.MonkeyPatch, **env: str) -> Config:
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_config_from_python_module(Config, CONFIG)


def test_gateways_follow_the_environment() -> None:
    home = project.temp_dir("home-")
    shutil.rmtree(home)  # the local gateway creates the runtime folder itself
    env = {
        "BRIGHTCART_HOME": str(home),
        "BRIGHTCART_WH_PG_DB": "wh_example",
        "REDSHIFT_HOST": "example.invalid",
        "REDSHIFT_USER": "loader",
        "SQLMESH_STATE_HOST": "state.invalid",
    }
    built = gateways(env)
    assert warehouse_path(env) == home / "warehouse.duckdb"
    assert state_path(warehouse_path(env)) == home / "warehouse.state.duckdb"
    assert home.is_dir()
    shutil.rmtree(home)
    fields = {
        name: (
            gateway.connection.model_dump() if gateway.connection else {},
            gateway.state_connection,
        )
        for name, gateway in built.items()
    }
    assert fields["local"][0]["database"] == str(home / "warehouse.duckdb")
    local_state = fields["local"][1]
    assert local_state is not None
    assert local_state.model_dump()["database"] == str(home / "warehouse.state.duckdb")
    assert fields["postgres"][0]["database"] == "wh_example"
    assert fields["redshift"][0]["host"] == "example.invalid"
    redshift_state = fields["redshift"][1]
    assert redshift_state is not None
    assert redshift_state.model_dump()["host"] == "state.invalid"


def test_config_defaults(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("BRIGHTCART_NOTIFY", raising=False)
    folder = project.temp_dir("config-")
    config = load(monkeypatch, BRIGHTCART_WAREHOUSE=str(folder / "warehouse.duckdb"))
    shutil.rmtree(folder)
    assert config.default_gateway == "local"
    assert set(config.gateways) == {"local", "postgres", "redshift"}
    assert config.model_defaults.dialect == "redshift"
    assert config.disable_anonymized_analytics is True
    assert config.linter.enabled
    assert {"redshiftportablefunctions", "incrementalmodelcontract"} <= config.linter.rules


def test_notification_targets_come_from_brightcart_notify(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    folder = project.temp_dir("notify-")
    try:
        (folder / "wh_notify_example.py").write_text(NOTIFY_MODULE)
        monkeypatch.syspath_prepend(str(folder))
        config = load(monkeypatch, BRIGHTCART_NOTIFY="wh_notify_example")
        names = [type(target).__name__ for target in config.notification_targets]
        assert names == ["ConsoleNotificationTarget"]
        config = load(monkeypatch, BRIGHTCART_NOTIFY="wh_no_such_module")
        assert config.notification_targets == []
    finally:
        sys.modules.pop("wh_notify_example", None)
        shutil.rmtree(folder, ignore_errors=True)


def test_the_local_warehouse_has_a_memory_limit_and_threads() -> None:
    """DuckDB's own defaults (80% of RAM, every core) are not what a shared runner gets."""
    home = project.temp_dir("limits-")
    try:
        for env, limit, threads in (
            ({}, "953.6 MiB", len(os.sched_getaffinity(0))),
            (
                {"BRIGHTCART_DUCKDB_MEMORY_LIMIT": "512MB", "BRIGHTCART_DUCKDB_THREADS": "1"},
                "488.2 MiB",
                1,
            ),
        ):
            # (a warehouse file each: SQLMesh keeps one adapter per DuckDB file)
            folder = home / str(len(env))
            connection = gateways({"BRIGHTCART_HOME": str(folder), **env})["local"].connection
            assert connection is not None
            adapter = connection.create_engine_adapter()
            try:
                assert adapter.fetchone(
                    "SELECT current_setting('memory_limit'), current_setting('threads')"
                ) == (limit, threads)
            finally:
                adapter.close()
    finally:
        shutil.rmtree(home, ignore_errors=True)
