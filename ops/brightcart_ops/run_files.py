"""Plugin config files that a killed Meltano run left in its run folder.

Meltano writes each plugin's settings, secrets included (the Salesforce client secret and refresh
token, a database password), to `<system dir>/run/<plugin>/{tap,target,mapper}.<id>.config.json`
and removes the file only when the run ends normally. A run killed with -9, or killed by the
lane's attempt timeout, leaves it behind. A lane removes such files of its own plugins under its
lane lock, before every attempt and after the last one: while the lock is held no other run of the
lane exists, so any config file of its plugins is a leftover. A plugin that another job also runs
(`target-redshift--shop` serves `shop-lane` and `finance-full-extract`) is swept only while this
run can hold the other jobs' locks too; otherwise its folder waits for the next sweep.

The events and shop lanes travel as Singer BATCH files under `$BRIGHTCART_HOME/batches/<lane>/`
(another job of a lane, such as `finance-full-extract`, under `batches/<job>/`, so that sweeping
one job never touches the live files of another); the loader removes each file once it is
committed. A killed run leaves the files it had not loaded yet, and
their rows are sent again from the last recorded state by the next run, so under the lane lock
they are leftovers too and are removed with the config files.
"""

from __future__ import annotations

import re
from contextlib import ExitStack
from pathlib import Path

from brightcart_ops.locks import LockBusy, lane_lock
from brightcart_ops.registry import registry

CONFIG_FILE = re.compile(r"^(tap|target|mapper)\.[0-9a-fA-F-]+\.config\.json$")


def job_plugins(meltano_yml: Path | None = None) -> dict[str, tuple[str, ...]]:
    """Every Meltano job with the plugins its tasks run (`utility:command` counts as `utility`)."""
    return {name: job.plugins for name, job in registry(meltano_yml).jobs.items()}


def stale_configs(run_dir: Path, plugin: str) -> list[Path]:
    folder = run_dir / plugin
    if not folder.is_dir():
        return []
    return sorted(p for p in folder.iterdir() if CONFIG_FILE.match(p.name) and p.is_file())


def sweep_stale_configs(job: str, run_dir: Path, home: Path) -> list[Path]:
    """Remove leftover config files of `job`'s plugins. Call it holding `job`'s lane lock."""
    jobs = job_plugins()
    removed: list[Path] = []
    for plugin in jobs.get(job, ()):
        others = sorted(name for name, used in jobs.items() if plugin in used and name != job)
        with ExitStack() as held:
            try:
                for other in others:
                    held.enter_context(lane_lock(other, home))
            except LockBusy:
                continue  # another job runs this plugin now: its file may be live
            for path in stale_configs(run_dir, plugin):
                path.unlink(missing_ok=True)
                removed.append(path)
    return removed


def batch_dir(home: Path, lane: str, job: str | None = None) -> Path:
    """Where a job's local BATCH files live (meltano.yml: `file://$BRIGHTCART_HOME/batches/...`):
    `batches/<lane>` for the lane's own job (`<lane>-lane`), `batches/<job>` for any other."""
    own = job is None or job == f"{lane}-lane"
    return home / "batches" / (lane if own else str(job))


def sweep_stale_batches(home: Path, lane: str | None, job: str | None = None) -> list[Path]:
    """Remove BATCH files a killed run of the job left. Call it holding the job's lock."""
    if lane is None:
        return []
    folder = batch_dir(home, lane, job)
    if not folder.is_dir():
        return []
    removed = sorted(p for p in folder.iterdir() if p.is_file())
    for path in removed:
        path.unlink(missing_ok=True)
    return removed


def sweep_leftovers(job: str, lane: str | None, run_dir: Path, home: Path) -> list[Path]:
    """Config files of `job`'s plugins and BATCH files of `lane` that a killed run left."""
    return sweep_stale_configs(job, run_dir, home) + sweep_stale_batches(home, lane, job)
