"""`up` is idempotent, `down` leaves no process behind and is safe twice; the CLI speaks JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import psutil

from brightcart_world.sources import LocalSources
from brightcart_world.sources.pgdb import database_exists, probe
from brightcart_world.sources.ports import is_free

CLI = [str(Path(sys.executable).with_name("brightcart")), "sources"]


MakeWorld = Callable[..., LocalSources]


def _gone(pid: int) -> bool:
    try:
        return psutil.Process(pid).status() == psutil.STATUS_ZOMBIE
    except psutil.NoSuchProcess:
        return True


def _server_pids(world: LocalSources) -> dict[str, int]:
    return {s.name: s.pid for s in world.status() if s.managed and s.pid is not None}


def test_up_twice_then_down_twice(make_world: MakeWorld) -> None:
    world = make_world()
    first = {o.name: o.action for o in world.up()}
    assert first["s3"] == "started"
    pids = _server_pids(world)
    assert "s3" in pids

    second = {o.name: o.action for o in world.up()}
    assert second["s3"] == "already running"
    assert second["postgres"] in ("external", "already running")
    assert second["salesforce"] == "already running"
    assert _server_pids(world) == pids  # nothing restarted
    assert database_exists(world.settings)

    stopped = {o.name: o.action for o in world.down()}
    assert stopped["s3"] == "stopped"
    assert all(_gone(pid) for pid in pids.values()), pids
    ports = [world.settings.s3_port, world.settings.sf_port, world.settings.sf_proxy_port]
    assert all(is_free(port) for port in ports)
    assert not list((world.settings.home / "run").glob("*.pid"))
    assert {s.state for s in world.status() if s.name != "postgres"} == {"down"}

    again = {o.name: o.action for o in world.down()}
    assert again["s3"] == again["salesforce"] == "not running"
    if first["postgres"] == "external":  # an outside server is never stopped
        assert again["postgres"] == "left running"
        assert probe(world.settings) is None


def test_cli_up_and_status_json_then_down_from_elsewhere(make_world: MakeWorld) -> None:
    world = make_world()
    env = {**os.environ, **world.env()}

    def cli(*args: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [*CLI, *args], env=env, capture_output=True, text=True, check=False, timeout=180
        )

    up = cli("up")
    assert up.returncode == 0, up.stderr
    status = cli("status", "--json")
    assert status.returncode == 0, status.stderr
    components = {c["name"]: c for c in json.loads(status.stdout)["components"]}
    assert components["s3"]["state"] == "up"
    assert components["s3"]["managed"] is True
    assert (
        components["s3"]["address"] == f"http://127.0.0.1:{world.settings.s3_port}/brightcart-raw"
    )
    assert components["postgres"]["state"] == "up"
    s3_pid = components["s3"]["pid"]
    assert psutil.Process(s3_pid).cmdline()[1:3] == ["-m", "moto.server"]

    outcomes = {o.name: o.action for o in world.down()}  # another process than `up`
    assert outcomes["s3"] == "stopped"
    assert _gone(s3_pid)
    assert {s.name: s.state for s in world.status()}["s3"] == "down"
    assert not world.healthy()
