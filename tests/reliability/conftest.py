"""The reliability world of the test run, the size knobs, and the summary printed at the end.

Size: `make test` runs scale 0.002 over one simulated day and 5 kill trials, one per kill target
(a target whose trial came too late gets extra trials aimed earlier). `--reliability-large`
(or BRIGHTCART_RELIABILITY_LARGE=1) runs a four-day world at scale 0.01 so that events more than
72 hours late arrive, 60 trials, and the long warehouse lock against the production wait bound;
BRIGHTCART_RELIABILITY_SCALE, _HOURS, _TRIALS and _SEED override single knobs.
BRIGHTCART_RELIABILITY_KEEP=1 keeps the world's folder for a post-mortem.
"""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest

from brightcart_world.generator import generate
from brightcart_world.settings import Settings
from brightcart_world.sources import LocalSources
from brightcart_world.sources.isolation import dispose, unique_db_name
from brightcart_world.sources.ports import free_port

from .harness import (
    REL_ROOT,
    TALLY,
    WORLD_CREDENTIALS,
    WORLD_START,
    RelWorld,
    Size,
    SqlmeshProd,
)


def pytest_addoption(parser: pytest.Parser) -> None:
    parser.addoption(
        "--reliability-large",
        action="store_true",
        default=False,
        help="run the reliability suite at a larger size (world, trials, production wait bounds)",
    )


def _large(config: pytest.Config) -> bool:
    try:
        flag = bool(config.getoption("--reliability-large"))
    except ValueError:  # the option is registered only when this folder is collected first
        flag = False
    return flag or os.environ.get("BRIGHTCART_RELIABILITY_LARGE", "") not in ("", "0")


@pytest.fixture(scope="session")
def size(pytestconfig: pytest.Config) -> Size:
    large = _large(pytestconfig)
    env = os.environ.get
    return Size(
        large=large,
        scale=float(env("BRIGHTCART_RELIABILITY_SCALE") or (0.01 if large else 0.002)),
        hours=int(env("BRIGHTCART_RELIABILITY_HOURS") or (96 if large else 24)),
        trials=int(env("BRIGHTCART_RELIABILITY_TRIALS") or (60 if large else 5)),
        seed=int(env("BRIGHTCART_RELIABILITY_SEED") or 20261125),
    )


def _rel_home() -> Path:
    REL_ROOT.mkdir(parents=True, exist_ok=True)
    REL_ROOT.chmod(0o755)  # a private cluster runs as `postgres`, who must traverse it
    home = Path(tempfile.mkdtemp(prefix="world_", dir=REL_ROOT))
    home.chmod(0o755)
    return home


@pytest.fixture(scope="package")
def rel(size: Size) -> Iterator[RelWorld]:
    """A world on a private PostgreSQL cluster with every lane loaded once."""
    settings = Settings(
        home=_rel_home(),
        pg_host="127.0.0.1",
        pg_port=free_port(),  # nothing answers there: `up` starts a private cluster
        pg_user="postgres",
        pg_db=unique_db_name("rel"),
        s3_port=free_port(),
        s3_bucket="brightcart-raw",
        sf_port=free_port(),
        sf_proxy_port=free_port(),
        # Credentials of this world, random so that the secret scan can find any copy of them
        # (trust auth ignores the password, moto any key), with characters that URL and JSON
        # encoding change.
        pg_password=WORLD_CREDENTIALS["pg_password"],
        aws_access_key_id=WORLD_CREDENTIALS["aws_access_key_id"],
        aws_secret_access_key=WORLD_CREDENTIALS["aws_secret_access_key"],
    )
    sources = LocalSources(settings)
    with pytest.MonkeyPatch.context() as patch:
        for name in (
            "BRIGHTCART_WAREHOUSE",
            "BRIGHTCART_ALERT_TOPIC_ARN",
            "BRIGHTCART_LOCK_DSN",
            "BRIGHTCART_SF_TOKEN_STORE",
            "MELTANO_DATABASE_URI",
        ):
            patch.delenv(name, raising=False)
        for name, value in sources.env().items():
            patch.setenv(name, value)
        patch.setenv("TAP_POSTGRES_PASSWORD", settings.pg_password)
        patch.setenv("BRIGHTCART_PG_PASSWORD", settings.pg_password)
        patch.setenv("REDSHIFT_PASSWORD", WORLD_CREDENTIALS["warehouse_password"])
        patch.setenv("SQLMESH_STATE_PASSWORD", WORLD_CREDENTIALS["warehouse_password"])
        patch.setenv("SQLMESH__DISABLE_ANONYMIZED_ANALYTICS", "1")
        patch.setenv("BRIGHTCART_WAREHOUSE_START", WORLD_START.date().isoformat())
        try:
            sources.up()
            generate(
                settings,
                seed=size.seed,
                start=WORLD_START,
                end=WORLD_START + timedelta(hours=size.hours),
                scale=size.scale,
            )
            world = RelWorld(sources, size.seed, size.scale)
            for lane in ("shop", "events", "marketing", "crm"):
                result = world.lane(lane)
                assert result.status == "succeeded", f"initial {lane} load: {result.error}"
            yield world
        finally:
            if os.environ.get("BRIGHTCART_RELIABILITY_KEEP", "") in ("", "0"):
                dispose(sources)
            else:
                sources.down()


@pytest.fixture(scope="package")
def sqlmesh_prod(rel: RelWorld) -> SqlmeshProd:
    """The prod environment, planned once on the lane-loaded world before any fault is fed in:
    the kill trials of `sqlmesh run` and the bad-input case both run on it, in either order."""
    return SqlmeshProd(rel)


def _summary_lines() -> list[str]:
    return [*(f"reliability case: {x}" for x in TALLY.lines), TALLY.summary()]


def pytest_sessionfinish(session: pytest.Session) -> None:
    """The summary of the cases this process ran, kept in REL_ROOT/last-summary.txt; on an xdist
    worker also handed to the controller, which prints it (tests/conftest.py)."""
    if not TALLY.lines and not TALLY.trials:
        return
    REL_ROOT.mkdir(parents=True, exist_ok=True)
    (REL_ROOT / "last-summary.txt").write_text("\n".join(_summary_lines()) + "\n")
    output = getattr(session.config, "workeroutput", None)
    if output is not None:
        output["summary_lines"] = _summary_lines()


def pytest_terminal_summary(terminalreporter: pytest.TerminalReporter) -> None:
    """Without xdist this process ran the cases and prints their summary itself."""
    if not TALLY.lines and not TALLY.trials:
        return
    terminalreporter.section("reliability")
    for line in _summary_lines():
        terminalreporter.write_line(line)
