"""The local BI adapter: a prod plan writes dashboard pages that render in headless Chromium."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
from pathlib import Path

import matplotlib.image as mpimg
import numpy as np
import pytest
from sqlmesh import Context

from brightcart_ops.publish.screenshots import FLAGS as SCREENSHOT_FLAGS

from .conftest import ROOT, World

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
FLAGS = [*SCREENSHOT_FLAGS, "--disable-quic"]


def _chromium(*args: str) -> subprocess.CompletedProcess[str]:
    assert CHROMIUM, "chromium is not installed (apt-get install -y chromium)"
    profile = tempfile.mkdtemp(prefix="chromium-", dir=ROOT)
    try:
        return subprocess.run(
            [CHROMIUM, *FLAGS, f"--user-data-dir={profile}", *args],
            capture_output=True,
            text=True,
            timeout=120,
            check=True,
        )
    finally:
        shutil.rmtree(profile, ignore_errors=True)


def _published(world: World, monkeypatch: pytest.MonkeyPatch) -> Path:
    monkeypatch.setenv("BRIGHTCART_BI", "local")
    world.sql(
        "CREATE SCHEMA raw_meta; CREATE TABLE raw_meta.load_log (load_id VARCHAR, lane VARCHAR, "
        "stream VARCHAR, started_at TIMESTAMPTZ, finished_at TIMESTAMPTZ, rows_received BIGINT, "
        "rows_inserted BIGINT, rows_duplicate BIGINT, high_water_mark TIMESTAMPTZ, "
        "status VARCHAR); INSERT INTO raw_meta.load_log VALUES ('l1', 'shop', 'orders', "
        "'2026-11-02 00:00:00+00', '2026-11-02 00:01:00+00', 4, 4, 0, "
        "'2026-11-01 23:59:00+00', 'succeeded')"
    )
    ctx = Context(paths=str(world.project))
    ctx.plan("prod", auto_apply=True, no_prompts=True, execution_time="2026-11-02 00:00")
    return world.home / "dashboards"


def test_snapshot_pages_hold_data_versions_and_freshness(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = _published(world, monkeypatch)
    assert {p.name for p in out.glob("*.html")} == {
        "index.html",
        "executive.html",
        "operations.html",
    }
    index = (out / "index.html").read_text()
    assert 'href="executive.html"' in index and 'href="operations.html"' in index
    executive = (out / "executive.html").read_text()
    # six executive charts, each with the number of points the view holds (2 days with sales)
    assert re.findall(r'data-points="(\d+)"', executive) == ["1"] * 6
    assert executive.count("<svg") == 6
    assert "marts_finance.revenue_daily@" in executive  # model version behind the charts
    assert "2026-11-01T23:59:00+00:00" in executive  # shop lane high-water mark
    operations = (out / "operations.html").read_text()
    # hours 01:00, 05:00 and 13:00 of 2026-11-01 have orders
    assert re.findall(r'data-points="(\d+)"', operations) == ["3"] * 3
    for page in out.glob("*.html"):
        text = page.read_text()
        assert not re.search(r'(src|href)="(https?:)?//', text), page  # nothing from the network
        assert "<script" not in text


def test_pages_render_in_headless_chromium(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    if CHROMIUM is None:
        pytest.fail(
            "chromium is not installed: `make setup` installs it as root "
            "(apt-get install -y chromium chromium-driver)",
            pytrace=False,
        )
    out = _published(world, monkeypatch)
    page = (out / "executive.html").resolve()
    dom = _chromium("--dump-dom", f"file://{page}").stdout
    charts = re.findall(r'<figure class="card chart"[^>]*data-points="(\d+)"[^>]*>\s*<svg', dom)
    assert len(charts) == 6 and all(int(n) > 0 for n in charts)
    assert len(re.findall(r"<path\b", dom)) > 50  # the charts have drawn marks, not empty frames
    shot = world.home / "executive.png"
    _chromium(f"--screenshot={shot}", "--window-size=1400,1800", f"file://{page}")
    image = mpimg.imread(str(shot))
    pixels = (image[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
    colours = np.unique(pixels, axis=0)
    assert len(colours) > 200, f"screenshot looks blank: {len(colours)} colours"
    blue = np.all(np.abs(pixels.astype(int) - [0x25, 0x63, 0xEB]) < 8, axis=1).sum()
    assert blue > 500  # the first chart's bars are on the page
