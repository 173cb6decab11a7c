"""Project-wide fixtures: the local sources on private ports, and fresh source databases.

`sources` (session) starts PostgreSQL (the server at BRIGHTCART_PG_HOST:PORT when one answers,
else a private cluster), the S3 API server and the Salesforce emulator through the same API as
`brightcart sources up`, on free ports, in a temporary BRIGHTCART_HOME, with a uniquely named
database; it exports the BRIGHTCART_* and AWS_* variables for the whole session and yields the
Settings. `fresh_db` gives one test a database of its own with the source DDL and no rows.

`make test` runs the suite on three pytest-xdist workers (`-n 3 --dist loadscope`, with the
scheduler below): each package of tests/ (a module at the top of tests/) is one work unit that
runs whole on one worker, so a package's shared world is built once, and the packages that take
longest are handed out first. The dashboards and finance packages form one unit: they share
`generated_world` (tests/generated_world.py), built once per session.

No test is skipped and none is expected to fail: a skip or an xfail anywhere (marker, call, a
missing import, a whole module) is reported as a failure with its reason, so a missing service or
a broken feature can never pass as "skipped".
"""

from __future__ import annotations

from collections.abc import Generator, Iterator
from typing import Any

import generated_world as worlds
import pytest

from brightcart_world.settings import Settings
from brightcart_world.sources import LocalSources
from brightcart_world.sources.isolation import (
    dispose,
    isolated_settings,
    make_home,
    unique_db_name,
)
from brightcart_world.sources.pgdb import drop_database, ensure_database, with_database

# Packages that share a session-scoped world run as one work unit, so the world is built once.
UNITS = {"dashboards": "generated_world", "finance": "generated_world"}
# The units that take longest (measured with --durations), handed to the workers first so that
# neither worker is left with a long unit at the end while the other idles.
LONGEST_FIRST = ("reliability", "generated_world", "lanes", "infra", "review", "cli", "reconcile")
# Lines the reliability package reports for the end of the run, gathered from the workers.
WORKER_SUMMARIES: list[str] = []


def _package(nodeid: str) -> str:
    """The package of a node id: tests/finance/test_a.py::t is finance, tests/test_b.py::t is
    test_b.py."""
    parts = nodeid.split("::", 1)[0].split("/")
    return parts[1] if len(parts) > 2 else parts[-1]


def _unit(nodeid: str) -> str:
    """The work unit of a node id: its package, or the unit of packages sharing a world."""
    package = _package(nodeid)
    return UNITS.get(package, package)


@pytest.hookimpl(optionalhook=True)  # xdist's hooks: unknown with `-p no:xdist`
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """Under xdist, one work unit per package of tests/ (UNITS joins packages): it runs whole, in
    collection order, on one worker, so a shared world is built once."""
    from xdist.scheduler import LoadScopeScheduling

    class PackageScheduling(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return _unit(nodeid)

    return PackageScheduling(config, log)


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """On an xdist worker, the longest units first (the controller hands out units in
    collection order); the order inside a unit is left as collected."""
    if not hasattr(config, "workerinput"):
        return
    rank = {name: n for n, name in enumerate(LONGEST_FIRST)}
    items.sort(key=lambda item: rank.get(_unit(item.nodeid), len(rank)))  # stable


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: object) -> None:
    """A worker finished: keep the summary lines it reported (see tests/reliability/conftest.py)."""
    WORKER_SUMMARIES.extend(getattr(node, "workeroutput", {}).get("summary_lines", []))


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    if WORKER_SUMMARIES:
        terminalreporter.section("reliability")
        for line in WORKER_SUMMARIES:
            terminalreporter.write_line(line)


def _skip_reason(report: pytest.TestReport | pytest.CollectReport) -> str:
    if hasattr(report, "wasxfail"):
        return f"xfail ({report.wasxfail or 'no reason given'})"
    longrepr = report.longrepr
    if isinstance(longrepr, tuple) and len(longrepr) == 3:  # (path, line, "Skipped: why")
        return f"skip at {longrepr[0]}:{longrepr[1]}: {longrepr[2]}"
    return f"skip: {longrepr}"


def _fail_skips(report: pytest.TestReport | pytest.CollectReport) -> None:
    if report.skipped or hasattr(report, "wasxfail"):
        reason = _skip_reason(report)
        if hasattr(report, "wasxfail"):
            del report.wasxfail
        report.outcome = "failed"
        report.longrepr = f"{report.nodeid}: no test may skip or xfail in this suite, got {reason}"


@pytest.hookimpl(wrapper=True)
def pytest_runtest_makereport(
    item: pytest.Item,
) -> Generator[None, pytest.TestReport, pytest.TestReport]:
    report = yield
    _fail_skips(report)
    return report


@pytest.hookimpl(wrapper=True)
def pytest_make_collect_report(
    collector: pytest.Collector,
) -> Generator[None, pytest.CollectReport, pytest.CollectReport]:
    report = yield
    _fail_skips(report)
    return report


@pytest.fixture(scope="session")
def local_sources() -> Iterator[LocalSources]:
    """The running local sources of this test session (LocalSources: status(), env(), ...)."""
    with pytest.MonkeyPatch.context() as patch:
        patch.delenv("BRIGHTCART_WAREHOUSE", raising=False)  # the warehouse lives in the home
        world = LocalSources(isolated_settings(make_home()))
        for name, value in world.env().items():
            patch.setenv(name, value)
        try:
            world.up()
            yield world
        finally:
            dispose(world)


@pytest.fixture(scope="session")
def sources(local_sources: LocalSources) -> Settings:
    """Settings of the running local sources; BRIGHTCART_*/AWS_* are exported for the session."""
    return local_sources.settings


@pytest.fixture
def fresh_db(sources: Settings) -> Iterator[Settings]:
    """Settings pointing at a new database of its own, with the source DDL and no rows."""
    settings = with_database(sources, unique_db_name())
    ensure_database(settings)
    try:
        yield settings
    finally:
        drop_database(settings)


@pytest.fixture(scope="session")
def generated_world(sources: Settings) -> Iterator[worlds.World]:
    """The world of tests/generated_world.py, landed and planned to prod; read it, or change a
    `worlds.copy` of it. (`sources`: the session's PostgreSQL server is the one it uses.)"""
    world = worlds.build()
    try:
        yield world
    finally:
        worlds.drop(world)
