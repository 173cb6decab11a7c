"""When nothing answers at the PostgreSQL address, `up` makes and runs a private cluster."""

from __future__ import annotations

from collections.abc import Callable

import psutil
import psycopg

from brightcart_world.sources import LocalSources
from brightcart_world.sources.ports import free_port, is_free

MakeWorld = Callable[..., LocalSources]
SETTINGS = ("wal_level", "max_replication_slots", "max_wal_senders", "listen_addresses")


def test_private_cluster_starts_with_logical_wal_and_stops(make_world: MakeWorld) -> None:
    world = make_world(pg_host="127.0.0.1", pg_port=free_port())
    settings = world.settings
    outcomes = {o.name: o.action for o in world.up()}
    assert outcomes["postgres"] == "started"

    status = {s.name: s for s in world.status()}["postgres"]
    assert (status.state, status.managed) == ("up", True)
    assert status.pid is not None
    postmaster = psutil.Process(status.pid)
    family = [postmaster, *postmaster.children(recursive=True)]
    assert (
        postmaster.username() == "postgres" or postmaster.username() == psutil.Process().username()
    )

    with psycopg.connect(settings.pg_dsn) as conn:
        shown = {
            name: conn.execute(f"SHOW {name}").fetchone()[0]  # type: ignore[index]
            for name in (
                "wal_level",
                "max_replication_slots",
                "max_wal_senders",
                "listen_addresses",
            )
        }
        schemas = {r[0] for r in conn.execute("SELECT nspname FROM pg_namespace").fetchall()}
    assert shown == {
        "wal_level": "logical",
        "max_replication_slots": "10",
        "max_wal_senders": "10",
        "listen_addresses": "127.0.0.1",
    }
    assert "sfdc" in schemas
    assert (settings.home / "pg" / "data" / "PG_VERSION").exists()

    again = {o.name: o.action for o in world.up()}
    assert again["postgres"] == "already running"

    stopped = {o.name: o.action for o in world.down()}
    assert stopped["postgres"] == "stopped"
    assert not any(p.is_running() and p.status() != psutil.STATUS_ZOMBIE for p in family)
    assert is_free(settings.pg_port)
    assert {o.name: o.action for o in world.down()}["postgres"] == "not running"
