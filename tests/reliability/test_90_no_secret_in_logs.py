"""Case 5: after every kill, outage and bad input above, no log holds a Salesforce dev secret.

First a crm run is killed with -9 right after Meltano wrote tap-salesforce's config file (client
secret, refresh token) into its run folder: the file is there after the kill, and the next run of
the lane removes it. Then the scan: everything under the world's BRIGHTCART_HOME (lane and
transform logs, captured output of every subprocess, alerts, the ops journal, source server logs,
the world's Meltano run folder with whatever killed and timed-out runs left behind, plugin config
files included) except the two places meant to hold the secret (the emulator's credentials file
and the token store); the project's Meltano log folder; the reliability summary files; and the
warehouse's ops tables (failure tails and alert details are logs too).
"""

from __future__ import annotations

import json
import os
import time
from pathlib import Path

from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_world.salesforce.client import meltano_credentials_env

from .harness import REL_ROOT, TALLY, RelWorld

MEANT_FOR_SECRETS = ("salesforce/credentials.json", "secrets/")


def _secrets(rel: RelWorld) -> list[str]:
    values = [
        value
        for key, value in meltano_credentials_env(rel.settings).items()
        if key.endswith(("CLIENT_SECRET", "REFRESH_TOKEN")) and value
    ]
    stored = rel.settings.home / "secrets" / "salesforce-refresh-token.json"
    if stored.exists():
        values.append(str(json.loads(stored.read_text(encoding="utf-8"))["refresh_token"]))
    return [v for v in values if len(v) >= 8]


def _walk(root: Path) -> list[Path]:
    """Files under root, not following symbolic links (plugin environments are linked in)."""
    found = []
    for folder, _dirs, names in os.walk(root, followlinks=False):
        found += [Path(folder) / name for name in names]
    return [p for p in found if p.is_file() and not p.is_symlink()]


def _files(rel: RelWorld) -> list[Path]:
    home = rel.settings.home
    out: list[Path] = []
    for path in _walk(home):
        rel_path = path.relative_to(home).as_posix()
        if rel_path.startswith(("pg/", *MEANT_FOR_SECRETS)):
            continue
        if path.suffix in (".duckdb", ".wal", ".db"):
            continue  # data files; their ops tables are read below
        out.append(path)
    out += _walk(PROJECT_ROOT / ".meltano" / "logs")
    out += [p for p in REL_ROOT.glob("*.txt") if p.is_file()]
    return out


def _salesforce_configs(rel: RelWorld) -> set[Path]:
    return set((rel.settings.home / "meltano" / "run" / "tap-salesforce").glob("*.config.json"))


def _holding_a_secret(paths: set[Path], secrets: list[str]) -> list[Path]:
    return sorted(
        p for p in paths if p.exists() and any(s.encode() in p.read_bytes() for s in secrets)
    )


def test_kill_9_leaves_no_salesforce_secret_after_the_next_run(rel: RelWorld) -> None:
    secrets = _secrets(rel)
    before = _salesforce_configs(rel)
    proc = rel.meltano_popen("crm")
    written: set[Path] = set()
    while proc.poll() is None and not written:
        written = _salesforce_configs(rel) - before
        time.sleep(0.05)
    outcome = rel.kill_at("crm", proc, 0)
    assert outcome.killed and written, "the run ended before its config file was seen"
    left_by_kill = _holding_a_secret(written, secrets)
    assert left_by_kill, "the killed run's config file should hold the secret: nothing to prove"
    rerun = rel.lane("crm")
    assert rerun.status == "succeeded", rerun.error
    run_dir = rel.settings.home / "meltano" / "run"
    after = _holding_a_secret(set(_walk(run_dir)), secrets)
    TALLY.note(
        f"kill -9 crm with its config written: {len(left_by_kill)} config file left by the kill, "
        f"{len(after)} holding a secret after the next run"
    )
    assert not after, f"secret left on disk after the next run: {after}"


def test_no_salesforce_secret_in_any_log(rel: RelWorld) -> None:
    secrets = _secrets(rel)
    assert len(secrets) >= 2, "the emulator's client secret and refresh token were not found"
    files = _files(rel)
    assert any(p.name.endswith(".log") for p in files), "no log was written: nothing scanned"
    hits = []
    for path in files:
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a file of another run removed meanwhile
        hits += [str(path) for secret in secrets if secret.encode() in data]
    texts: list[str] = []
    if rel.wh_table_exists("ops", "pipeline_runs"):
        texts += [str(r[0]) for r in rel.wh_rows("SELECT error FROM ops.pipeline_runs")]
    if rel.wh_table_exists("ops", "alerts"):
        texts += [str(r[0]) for r in rel.wh_rows("SELECT detail FROM ops.alerts")]
    hits += [f"ops table text #{i}" for i, t in enumerate(texts) for s in secrets if s in t]
    TALLY.note(f"secret scan: {len(files)} files and {len(texts)} ops rows, {len(hits)} hits")
    assert not hits, f"a Salesforce secret appears in: {sorted(set(hits))}"
