"""A port held by something that is not ours is named, and nothing is left half-started."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from brightcart_world.sources import LocalSources, SourcesError
from brightcart_world.sources.pgdb import database_exists
from brightcart_world.sources.ports import free_port, is_free

CLI = [str(Path(sys.executable).with_name("brightcart")), "sources"]


MakeWorld = Callable[..., LocalSources]


def _listen(port: int) -> socket.socket:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.bind(("127.0.0.1", port))
    sock.listen(1)
    return sock


def test_taken_s3_port_is_named_and_nothing_starts(make_world: MakeWorld) -> None:
    world = make_world()
    settings = world.settings
    with _listen(settings.s3_port):
        result = subprocess.run(
            [*CLI, "up"],
            env={**os.environ, **world.env()},
            capture_output=True,
            text=True,
            check=False,
            timeout=120,
        )
        assert result.returncode == 1
        message = " ".join(result.stderr.split())  # undo the console's line wrapping
        expected = f"S3 API port {settings.s3_port} is already in use by another process"
        assert expected in message, result.stderr
        assert f"(pid {os.getpid()} " in message, result.stderr
        assert "nothing was started" in message
    assert not list((settings.home / "run").glob("*.pid"))
    assert is_free(settings.sf_port) and is_free(settings.sf_proxy_port)
    assert not database_exists(settings)  # PostgreSQL was not touched either
    assert {s.state for s in world.status() if s.name != "postgres"} == {"down"}


def test_pg_port_held_by_something_else_is_named(make_world: MakeWorld) -> None:
    world = make_world(pg_host="127.0.0.1", pg_port=free_port())
    with _listen(world.settings.pg_port), pytest.raises(SourcesError) as error:
        world.up()
    message = str(error.value)
    assert (
        f"PostgreSQL port {world.settings.pg_port} is already in use by another process" in message
    )
    assert f"pid {os.getpid()} " in message
    assert not (world.settings.home / "pg").exists()  # no private cluster was made


def test_bad_database_name_is_refused_before_anything_starts(make_world: MakeWorld) -> None:
    world = make_world(pg_db="no; drop")
    with pytest.raises(SourcesError, match="database name 'no; drop' is not usable"):
        world.up()
    assert is_free(world.settings.s3_port)
