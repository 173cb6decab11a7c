"""A world of its own (tests, benchmarks): free ports, own home, unique database; disposal."""

from __future__ import annotations

import os
import shutil
import tempfile
import uuid
from pathlib import Path

from brightcart_world.settings import Settings
from brightcart_world.sources.manager import LocalSources
from brightcart_world.sources.pgcluster import PrivateCluster
from brightcart_world.sources.pgdb import database_exists, drop_database, probe
from brightcart_world.sources.ports import answers, free_port


def unique_db_name(prefix: str = "bc_test") -> str:
    """A database name no other run uses: prefix, our pid, random hex."""
    return f"{prefix}_{os.getpid()}_{uuid.uuid4().hex[:8]}"


def make_home(prefix: str = "bc_test_") -> Path:
    """A new folder under /tmp that the `postgres` system user can traverse.

    pytest's own tmp_path folders are private to their owner (mode 700), so a private cluster
    run as `postgres` could not live there.
    """
    home = Path(tempfile.mkdtemp(prefix=prefix, dir="/tmp"))
    home.chmod(0o755)
    return home


def isolated_settings(home: Path, db_prefix: str = "bc_test") -> Settings:
    """Settings on free ports with a unique database name.

    PostgreSQL stays at the configured address when a server answers there; otherwise it moves to
    a free loopback port, where `LocalSources.up()` starts a private cluster.
    """
    base = Settings()
    external = answers(base.pg_host, base.pg_port)
    return Settings(
        home=home,
        pg_host=base.pg_host if external else "127.0.0.1",
        pg_port=base.pg_port if external else free_port(),
        pg_user=base.pg_user,
        pg_db=unique_db_name(db_prefix),
        s3_port=free_port(),
        s3_bucket=base.s3_bucket,
        sf_port=free_port(),
        sf_proxy_port=free_port(),
    )


def dispose(world: LocalSources) -> None:
    """Stop a world made with isolated_settings, drop its database and remove its home."""
    settings = world.settings
    external = PrivateCluster(settings).running() is None
    world.down()  # the servers first, so no client holds the database
    if external and probe(settings) is None and database_exists(settings):
        drop_database(settings)  # a private cluster goes away with its home folder
    shutil.rmtree(settings.home, ignore_errors=True)
