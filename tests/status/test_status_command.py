"""`brightcart status --check` as a shell runs it: lags as durations, exit 1 when breached."""

from __future__ import annotations

import os
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

from brightcart_ops.opslog import utcnow
from brightcart_ops.warehouse import Warehouse

BRIGHTCART = Path(sys.executable).with_name("brightcart")


def _status(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "BRIGHTCART_CLOCK": "wall", "COLUMNS": "200"}
    return subprocess.run(
        [str(BRIGHTCART), "status", *args], env=env, capture_output=True, text=True, timeout=120
    )


def test_check_exits_1_naming_what_is_breached_and_prints_lags_as_durations(
    warehouse: Warehouse,
) -> None:
    landed = utcnow() - timedelta(days=2, hours=3, minutes=20)
    warehouse.execute(
        "INSERT INTO raw_meta.load_log VALUES ('l1', 'shop', 'x', ?, ?, 1, 1, 0, ?, 'succeeded')",
        (landed, landed, landed),
    )
    shown = _status()
    assert shown.returncode == 0, shown.stderr  # without --check, status only reports
    assert "2 d 3 h" in shown.stdout and "1 h 30 min" in shown.stdout  # lag, allowed
    checked = _status("--check")
    assert checked.returncode == 1, checked.stdout
    lines = checked.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: past their SLA: shop"), lines
    assert "alert raised: upstream_outage:shop" in checked.stdout
