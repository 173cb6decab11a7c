#!/usr/bin/env python3
"""CDK entry point: `cdk synth` (or `python app.py`) from ops/infra.

Account and region come from BRIGHTCART_AWS_ACCOUNT / BRIGHTCART_AWS_REGION, else the
placeholders 111111111111 / us-east-1 so that synth works offline.
"""

from __future__ import annotations

import os
import sys
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # ops/, for `infra.*`

from infra.brightcart_infra.app_factory import build_app
from infra.brightcart_infra.params import PRODUCTION


def main() -> None:
    params = replace(
        PRODUCTION,
        account=os.environ.get("BRIGHTCART_AWS_ACCOUNT", PRODUCTION.account),
        region=os.environ.get("BRIGHTCART_AWS_REGION", PRODUCTION.region),
    )
    outdir = os.environ.get("CDK_OUTDIR") or str(Path(__file__).resolve().parent / "cdk.out")
    build_app(outdir=outdir, params=params).synth()


if __name__ == "__main__":
    main()
