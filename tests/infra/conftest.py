"""One CDK synth per pytest run (shared by every test here), into a folder under /tmp/cdk/."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
OPS = ROOT / "ops"
if str(OPS) not in sys.path:
    sys.path.insert(0, str(OPS))

os.environ.setdefault("JSII_SILENCE_WARNING_END_OF_LIFE_NODE_VERSION", "20")
os.environ.setdefault("JSII_RUNTIME_PACKAGE_CACHE_ROOT", "/tmp/cdk/jsii-cache")

from infra.brightcart_infra.app_factory import STACK_NAME, build_app  # noqa: E402
from infra.brightcart_infra.params import PRODUCTION  # noqa: E402


@dataclass(frozen=True)
class Synth:
    outdir: Path
    template_path: Path
    template: dict[str, Any]

    def resources(self, kind: str) -> dict[str, dict[str, Any]]:
        return {k: v for k, v in self.template["Resources"].items() if v["Type"] == kind}


@pytest.fixture(scope="session")
def synth() -> Iterator[Synth]:
    base = Path("/tmp/cdk")
    base.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="synth-", dir=base) as tmp:
        outdir = Path(tmp) / "cdk.out"
        build_app(outdir=str(outdir), params=PRODUCTION).synth()
        path = outdir / f"{STACK_NAME}.template.json"
        yield Synth(outdir, path, json.loads(path.read_text()))
