"""Real services for the generator tests: PostgreSQL on 127.0.0.1:5432 and a moto S3 server."""

from __future__ import annotations

import logging
import socket
import uuid
from collections.abc import Callable, Iterator

import pytest
from moto.server import ThreadedMotoServer

from brightcart_world.generator.database import drop_database
from brightcart_world.settings import Settings

logging.getLogger("werkzeug").setLevel(logging.WARNING)


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def moto_port() -> Iterator[int]:
    """One moto server per test module on a free loopback port."""
    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield port
    server.stop()


@pytest.fixture(scope="module")
def make_settings(
    moto_port: int, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Callable[[], Settings]]:
    """Settings with a fresh database (gen_t_*) and bucket each call; databases dropped after."""
    made: list[Settings] = []

    def make() -> Settings:
        tag = uuid.uuid4().hex[:10]
        s = Settings(
            home=tmp_path_factory.mktemp(f"gen_{tag}"),
            pg_db=f"gen_t_{tag}",
            s3_port=moto_port,
            s3_bucket=f"gen-t-{tag}",
        )
        made.append(s)
        return s

    yield make
    for s in made:
        drop_database(s)
