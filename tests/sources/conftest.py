"""Worlds of their own for the sources tests: each on free ports, in its own home and database,
so starting and stopping them never touches the session's `sources`."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import Any

import pytest

from brightcart_world.sources import LocalSources
from brightcart_world.sources.isolation import dispose, isolated_settings, make_home

MakeWorld = Callable[..., LocalSources]


@pytest.fixture
def make_world() -> Iterator[MakeWorld]:
    """Build isolated LocalSources (not started); all stopped, dropped and removed afterwards."""
    made: list[LocalSources] = []

    def make(**overrides: Any) -> LocalSources:
        settings = isolated_settings(make_home("src_test_"), db_prefix="src_test")
        world = LocalSources(settings.model_copy(update=overrides))
        made.append(world)
        return world

    yield make
    for world in made:
        dispose(world)
