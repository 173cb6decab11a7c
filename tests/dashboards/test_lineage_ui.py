"""`brightcart ui`: column lineage through CTEs drawn by SQLMesh's own UI, and no plan loop.

The launcher is started as a real process on a copy of the SQLMesh project (so the test can
write files into the project folder, as lanes and logs do under .local/), against the prod state
of the dashboard world; headless Chromium drives SQLMesh's browser client over DevTools.

Why the plan loop: in SQLMesh's default ide mode the client subscribes to file-change events
(GET /api/events), re-reads the models on each and then starts a plan (POST /api/plan), whose
backfill preview evaluates every model's signal over its missing intervals. Catalog mode loads
neither the plan module nor the event stream, which is what the test checks.
"""

from __future__ import annotations

import base64
import json
import os
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from project_copy import copy_project
from sqlmesh import Context
from web.server.api.endpoints.lineage import create_lineage_adjacency_list

from brightcart_ops.lineage import trace
from brightcart_ops.lineage_ui import as_plain, fold_ctes, is_cte
from brightcart_ops.publish.screenshots import DevTools, browser, stop
from brightcart_ops.settings import PROJECT_ROOT

from .conftest import SCREENSHOTS, DashboardWorld

MODEL = "bi.executive_daily"
COLUMN = "net_revenue"


def _short(fqn: str) -> str:
    return ".".join(part.strip('"') for part in fqn.split(".")[-2:])


def test_folding_ctes_gives_the_edges_sqlmesh_lineage_computes() -> None:
    context = Context(paths=str(PROJECT_ROOT))
    fqn = context.get_model(MODEL).fqn
    raw = as_plain(create_lineage_adjacency_list(fqn, COLUMN, context))
    models = set(context.models)
    assert any(is_cte(node, models) for node in raw), "the view is expected to read through CTEs"
    folded = fold_ctes(raw, models)
    assert not any(is_cte(node, models) for node in folded)
    drawn = {
        (_short(node), column, _short(parent), parent_column)
        for node, columns in folded.items()
        for column, info in columns.items()
        for parent, parent_columns in info["models"].items()
        for parent_column in parent_columns
    }
    computed = {
        (e.model, e.column, e.parent, e.parent_column) for e in trace(context, MODEL, COLUMN)
    }
    assert drawn == computed
    assert {("raw_shop.order_items", "unit_price"), ("raw_shop.refunds", "amount")} <= {
        (parent, column) for _, _, parent, column in drawn
    }


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture(scope="module")
def project_copy(dashboard_world: DashboardWorld) -> Iterator[Path]:
    folder = Path(tempfile.mkdtemp(prefix="ui-project-", dir=dashboard_world.settings.home))
    copy_project(folder)
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


@contextmanager
def _ui(project: Path, mode: str, log: Path) -> Iterator[str]:
    port = _free_port()
    brightcart = Path(sys.executable).parent / "brightcart"
    with log.open("w") as out:
        process = subprocess.Popen(
            [str(brightcart), "ui", "--port", str(port), "--mode", mode, "--project", str(project)],
            stdout=out,
            stderr=subprocess.STDOUT,
            env=os.environ.copy(),
        )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            assert process.poll() is None, log.read_text()[-3000:]
            try:
                with urllib.request.urlopen(f"{base}/health", timeout=5):
                    break
            except (urllib.error.URLError, ConnectionError):
                assert time.monotonic() < deadline, "the UI did not answer in 120 s"
                time.sleep(0.5)
        yield base
    finally:
        stop(process, seconds=30)


def _requests(log: Path, method: str, path: str) -> int:
    return len(re.findall(rf'"{method} {re.escape(path)} HTTP', log.read_text()))


def _wait_for(
    condition: Callable[[], object], seconds: float, what: str, soft: bool = False
) -> bool:
    """Poll until `condition()` holds; fail after `seconds` (or return False when `soft`)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() >= deadline:
            assert soft, f"waited {seconds:.0f} s for {what}"
            return False
        time.sleep(0.5)
    return True


def _open(tools: DevTools, url: str, log: Path) -> None:
    tools.call("Page.navigate", url=url)
    _wait_for(lambda: _requests(log, "GET", "/api/models") >= 1, 120, "the client to load")


def test_ui_draws_net_revenue_through_ctes_and_never_plans(
    dashboard_world: DashboardWorld, project_copy: Path
) -> None:
    log = dashboard_world.settings.home / "logs" / "ui-catalog.log"
    with _ui(project_copy, "catalog", log) as base:
        with urllib.request.urlopen(f"{base}/api/lineage/{MODEL}/{COLUMN}", timeout=120) as reply:
            graph = json.load(reply)
        assert all(": " not in node for node in graph), "a CTE node reached the browser"
        assert any("raw_shop" in node for node in graph)
        with browser(height=1100) as tools:
            _open(tools, f"{base}/data-catalog/models/{MODEL}", log)
            nodes = "document.querySelectorAll('.react-flow__node').length"
            _wait_for(lambda: (tools.evaluate(nodes) or 0) > 3, 90, "the lineage graph")
            node = (
                "Array.from(document.querySelectorAll('.react-flow__node'))"
                ".find(n => n.getAttribute('data-id').includes('executive_daily'))"
            )
            tools.evaluate(f"{node}.querySelector('input').focus()")
            tools.call("Input.insertText", text=COLUMN)
            column = f"{node}.querySelector('span[title=\"{COLUMN}\"]')"
            _wait_for(lambda: tools.evaluate(f"!!{column}"), 30, "the column row")
            tools.evaluate(f"{column}.closest('div.cursor-pointer').click()")
            edges = (
                "Array.from(document.querySelectorAll('.react-flow__edge'))"
                ".map(e => e.getAttribute('data-testid')).join('\\n')"
            )
            _wait_for(lambda: "raw_shop" in (tools.evaluate(edges) or ""), 90, "edges to raw")
            for _ in range(2):  # once the layout has settled
                time.sleep(3)
                tools.evaluate("document.querySelector('.react-flow__controls-fitview').click()")
            time.sleep(2)
            drawn = str(tools.evaluate(edges)).splitlines()
            shot = tools.call("Page.captureScreenshot", format="png")["data"]
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            (SCREENSHOTS / "sqlmesh-ui-lineage.png").write_bytes(base64.b64decode(shot))
            # the pipeline keeps writing under the project folder (.local/): in ide mode each
            # write re-plans; the catalog client neither plans nor listens for file changes
            (project_copy / "runtime-note.log").write_text("a lane wrote its log\n")
            time.sleep(10)
    assert _requests(log, "POST", "/api/plan") == 0, "the UI planned (and checked signals)"
    assert _requests(log, "GET", "/api/events") == 0, "the UI listens for file changes"
    # one connected chain: raw version logs -> revenue_ledger -> revenue_lines -> revenue_hourly
    # -> the view
    hops = {
        ("raw_shop%22.%22order_items", "revenue_ledger"),
        ("raw_shop%22.%22refunds", "revenue_ledger"),
        ("revenue_ledger", "revenue_lines"),
        ("revenue_lines", "revenue_hourly"),
        ("revenue_hourly", "executive_daily"),
    }
    for parent, child in hops:
        assert any(
            re.search(rf"{parent}%22__%22warehouse%22\.%22\w+%22\.%22{child}", edge)
            for edge in drawn
        ), f"no edge {parent} -> {child} in {len(drawn)} edges"
