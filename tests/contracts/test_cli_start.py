"""`brightcart` starts without the heavy libraries its commands import only when they run.

Every scheduled task, every lane run and every refused bad input starts the command once; SQLMesh
alone takes seconds to import. The command module, with the local world's commands mounted as
`make demo` mounts them, is imported in a fresh interpreter and must leave these unloaded.
"""

from __future__ import annotations

import json
import subprocess
import sys

# Imported by the commands that use them (transform, lineage, ui, demo's summary), never at start.
NOT_AT_START = ("sqlmesh", "pandas", "meltano")


def test_the_command_starts_without_sqlmesh_or_pandas() -> None:
    probe = (
        "import json, sys\n"
        "import brightcart_ops.cli\n"
        f"print(json.dumps(sorted(m for m in sys.modules if m.split('.')[0] in {NOT_AT_START!r})))"
    )
    done = subprocess.run(
        [sys.executable, "-c", probe], capture_output=True, text=True, check=False
    )
    assert done.returncode == 0, done.stderr
    loaded = {name.split(".")[0] for name in json.loads(done.stdout)}
    assert not loaded, f"`brightcart` imports at start: {sorted(loaded)}"
    # The local world's commands are mounted (so the probe covered their imports too).
    mounted = subprocess.run(
        [sys.executable, "-m", "brightcart_ops.cli", "--help"],
        capture_output=True,
        text=True,
        check=False,
    )
    assert mounted.returncode == 0, mounted.stderr
    assert "demo" in mounted.stdout and "world" in mounted.stdout
