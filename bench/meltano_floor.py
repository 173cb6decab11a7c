"""Meltano's own floor: `meltano run` of a job whose tap emits nothing and whose loader reads it.

A throw-away Meltano project in a temporary folder declares two plugins that are shell scripts
(the tap prints one STATE message, the loader echoes it back), a committed empty catalog and one
job; `meltano run` of that job is timed as a whole process, wall and CPU seconds of its process
tree. What is left is Meltano's start-up, project and settings resolution, state backend and
process plumbing: the part of every lane run that no plugin of ours can remove. `meltano
--version` is timed beside it. Prints figures; never asserted on.

    .venv/bin/python bench/meltano_floor.py [--runs 5]
"""

from __future__ import annotations

import argparse
import os
import resource
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

MELTANO = Path(sys.executable).parent / "meltano"

PROJECT = """\
default_environment: dev
project_id: meltano-floor
send_anonymous_usage_stats: false
plugins:
  extractors:
  - name: tap-null
    namespace: tap_null
    executable: {root}/null-tap
    capabilities: [state, catalog]
    catalog: catalog.json
  loaders:
  - name: target-null
    namespace: target_null
    executable: {root}/null-target
environments:
- name: dev
jobs:
- name: null-lane
  tasks: [tap-null target-null]
"""
TAP = '#!/bin/sh\necho \'{"type": "STATE", "value": {"bookmarks": {}}}\'\n'
TARGET = "#!/bin/sh\ntail -n 1\n"


def timed(argv: list[str], cwd: Path, env: dict[str, str]) -> tuple[float, float]:
    """(wall seconds, CPU seconds of the child process tree) of one run."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    started = time.perf_counter()
    subprocess.run(argv, cwd=cwd, env=env, check=True, capture_output=True)
    wall = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=5)
    args = parser.parse_args()
    env = {**os.environ, "MELTANO_SEND_ANONYMOUS_USAGE_STATS": "false"}
    with tempfile.TemporaryDirectory(prefix="meltano-floor-") as folder:
        root = Path(folder)
        (root / "meltano.yml").write_text(PROJECT.format(root=root))
        (root / "catalog.json").write_text('{"streams": []}\n')
        for name, body in (("null-tap", TAP), ("null-target", TARGET)):
            (root / name).write_text(body)
            (root / name).chmod(0o755)
        timed([str(MELTANO), "run", "null-lane"], root, env)  # creates the system database
        for label, argv in (
            ("meltano run of a job that moves nothing", [str(MELTANO), "run", "null-lane"]),
            ("meltano --version", [str(MELTANO), "--version"]),
        ):
            runs = [timed(argv, root, env) for _ in range(args.runs)]
            wall = statistics.median(w for w, _ in runs)
            cpu = statistics.median(c for _, c in runs)
            print(f"{label}: median of {args.runs}: {wall:.2f} s wall, {cpu:.2f} CPU s")
    print(f"load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
