"""The committed catalog of tap-brightcart-events is what the tap discovers.

meltano.yml gives the events tap this file as its `catalog`, so no run pays for a discovery
(Meltano does not cache the catalog of an editable plugin). If the tap's streams change, this
test fails until the file is written again:

    .venv/bin/tap-brightcart-events --config <(echo '{"bucket": "x"}') --discover \\
        | python -m json.tool --indent 2 > extract/tap-brightcart-events/catalog.json
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import yaml

ROOT = Path(__file__).resolve().parents[2]
CATALOG = ROOT / "extract/tap-brightcart-events/catalog.json"
TAP = Path(sys.executable).with_name("tap-brightcart-events")


def test_committed_catalog_is_the_taps_discovery(tmp_path: Path) -> None:
    config = tmp_path / "config.json"
    config.write_text(json.dumps({"bucket": "brightcart-raw"}))
    found = subprocess.run(
        [str(TAP), "--config", str(config), "--discover"],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    )
    assert json.loads(found.stdout) == json.loads(CATALOG.read_text())


def test_meltano_gives_the_tap_the_committed_catalog() -> None:
    project = yaml.safe_load((ROOT / "meltano.yml").read_text())
    events = next(
        p for p in project["plugins"]["extractors"] if p["name"] == "tap-brightcart-events"
    )
    assert (ROOT / events["catalog"]) == CATALOG
