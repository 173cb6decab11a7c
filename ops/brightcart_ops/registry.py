"""The lane registry: every fact about a lane and a job, read from meltano.yml, declared once.

meltano.yml's jobs carry `annotations: {brightcart: ...}` (Meltano keeps annotations and ignores
them). Each job names the task it runs in (the Fargate task family: a lane, or `transform`), one
attempt's timeout, its attempts and its typical production wall time; one job per task gives the
task's size; each lane's hourly job declares the lane: source label, raw schema, streams (raw
table, key, the column that bounds a window, the staging model that reads it), heartbeat, allowed
lag, secrets and how a backfill window is bounded. Schedules stay in meltano.yml's `schedules:`;
a schedule's job decides its task through this registry, never through its name.

Everything that needs a lane fact reads it here: the runner, backfill, repair, signals, status,
publish, the CDK app, the cost model and the bench.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from brightcart_ops.settings import PROJECT_ROOT
from brightcart_ops.yamlfile import read_yaml

ANNOTATION = "brightcart"
TRANSFORM_TASK = "transform"
CRON_ALIASES = {
    "@hourly": "0 * * * *",
    "@daily": "0 0 * * *",
    "@midnight": "0 0 * * *",
    "@weekly": "0 0 * * 0",
    "@monthly": "0 0 1 * *",
    "@yearly": "0 0 1 1 *",
    "@annually": "0 0 1 1 *",
}


class RegistryError(ValueError):
    """meltano.yml's registry annotations are missing or inconsistent; the message says where."""


class _Frozen(BaseModel):
    model_config = ConfigDict(frozen=True, extra="forbid")


class Stream(_Frozen):
    """One stream of a lane: the raw table it lands in and how its rows are identified."""

    name: str = ""  # the tap's stream name (the key in meltano.yml)
    table: str  # raw table, lower case
    key: tuple[str, ...]  # the source record's key columns
    window: str | None = None  # the column that places a row in a backfill window
    model: str | None = None  # the staging model that reads the raw table
    # The raw table's version order (most significant first) when it is a version log whose
    # superseded versions retention may remove; absent, the table is append-only and ages out
    # by its window column.
    versions: tuple[str, ...] | None = None


class Backfill(_Frozen):
    """How a window of the lane is re-extracted (brightcart_ops/backfill.py implements each).

    tap_where: the tap reads only the window (tap-postgres `custom_where_clauses`).
    tap_dates: the tap takes start and end dates (`<TAP>_START_DATE`, `<TAP>_END_DATE`).
    loader_filter: the tap takes a start date; the loader keeps rows whose window column is
    before the end (a singer-sdk stream-map `__filter__`), compared at `precision`.
    """

    bound: Literal["tap_where", "tap_dates", "loader_filter"]
    precision: Literal["second", "day"] = "second"


class TaskSize(_Frozen):
    vcpu: float
    memory_gb: int

    @property
    def cpu_units(self) -> int:
        return int(self.vcpu * 1024)

    @property
    def memory_mib(self) -> int:
        return self.memory_gb * 1024


class LaneSpec(_Frozen):
    source: str
    raw_schema: str
    heartbeat_seconds: int
    max_lag_minutes: float
    secrets: tuple[str, ...] = ()
    backfill: Backfill
    streams: dict[str, Stream]


class JobSpec(_Frozen):
    task: str
    timeout_seconds: float
    attempts: int = Field(ge=1)
    backoff_seconds: float = 5.0
    minutes: float
    size: TaskSize | None = None
    lane: LaneSpec | None = None


@dataclass(frozen=True)
class Lane:
    """A source lane: its hourly job, its raw schema, its streams and its service levels."""

    name: str
    job: str
    source: str
    raw_schema: str
    streams: tuple[Stream, ...]
    heartbeat_seconds: int
    max_lag_minutes: float
    secrets: tuple[str, ...]
    backfill: Backfill
    extractor: str
    loader: str
    timeout_seconds: float  # one attempt of its hourly job

    @property
    def tables(self) -> tuple[str, ...]:
        return tuple(s.table for s in self.streams)

    @property
    def models(self) -> tuple[str, ...]:
        return tuple(s.model for s in self.streams if s.model)


@dataclass(frozen=True)
class Job:
    """A Meltano job as the runner runs it."""

    name: str
    task: str  # Fargate task family (a lane's name or `transform`)
    lane: str | None  # the source lane it loads, None for transform, reconcile, retention
    plugins: tuple[str, ...]  # plugins its tasks run, in order (`utility:command` -> `utility`)
    timeout_seconds: float
    attempts: int
    backoff_seconds: float
    minutes: float  # typical wall time of one run at production scale


@dataclass(frozen=True)
class Task:
    """One Fargate task definition: a lane's, or the transform task's."""

    name: str
    size: TaskSize
    lane: str | None

    @property
    def cpu_units(self) -> int:
        return self.size.cpu_units

    @property
    def memory_mib(self) -> int:
        return self.size.memory_mib


@dataclass(frozen=True)
class Schedule:
    """One entry of meltano.yml's `schedules:`."""

    name: str
    job: str
    interval: str  # as written in meltano.yml
    task: str

    @property
    def cron(self) -> str:
        return CRON_ALIASES.get(self.interval.strip(), self.interval.strip())

    @property
    def lane(self) -> str:
        """The task family that runs it (kept under this name for the cost model)."""
        return self.task

    @property
    def command(self) -> list[str]:
        """What the scheduled task runs: the job runner, never a bare `meltano run`."""
        return ["brightcart", "run", self.job]


@dataclass(frozen=True)
class Registry:
    path: Path
    lanes: dict[str, Lane]
    jobs: dict[str, Job]
    tasks: dict[str, Task]
    schedules: tuple[Schedule, ...]

    def job(self, name: str) -> Job:
        if name not in self.jobs:
            raise KeyError(f"unknown job {name!r}; meltano.yml declares {', '.join(self.jobs)}")
        return self.jobs[name]

    def lane(self, name: str) -> Lane:
        if name not in self.lanes:
            raise KeyError(f"unknown lane {name!r}; lanes are {', '.join(self.lanes)}")
        return self.lanes[name]

    def lane_of_job(self, job: str) -> Lane | None:
        found = self.job(job).lane
        return self.lanes[found] if found else None

    def lane_by_schema(self) -> dict[str, str]:
        """raw schema -> lane (raw_shop -> shop)."""
        return {lane.raw_schema: lane.name for lane in self.lanes.values()}

    def heartbeat_seconds(self) -> dict[str, int]:
        return {lane.name: lane.heartbeat_seconds for lane in self.lanes.values()}

    def max_lag_minutes(self) -> dict[str, float]:
        return {lane.name: lane.max_lag_minutes for lane in self.lanes.values()}


def _task_words(tasks: Any) -> list[str]:
    words: list[str] = []
    for task in tasks if isinstance(tasks, list) else [tasks]:
        for block in task if isinstance(task, list) else [task]:
            words += str(block).split()
    return words


def parse(doc: Mapping[str, Any], path: Path) -> Registry:
    """Build the registry from a parsed meltano.yml; errors name the file and the job."""
    specs: dict[str, tuple[JobSpec, list[str]]] = {}
    for raw in doc.get("jobs") or []:
        name = str(raw.get("name"))
        note = (raw.get("annotations") or {}).get(ANNOTATION)
        if note is None:
            raise RegistryError(
                f"{path}: job {name!r} has no `annotations: {{{ANNOTATION}: ...}}`; every job "
                "names at least its task, timeout_seconds, attempts and minutes"
            )
        try:
            spec = JobSpec.model_validate(note)
        except ValidationError as exc:
            raise RegistryError(f"{path}: job {name!r}: {exc}") from exc
        specs[name] = (spec, _task_words(raw.get("tasks")))
    sizes: dict[str, TaskSize] = {}
    lanes: dict[str, Lane] = {}
    for name, (spec, words) in specs.items():
        if spec.size is not None:
            if spec.task in sizes:
                raise RegistryError(f"{path}: job {name!r} sizes task {spec.task!r} a second time")
            sizes[spec.task] = spec.size
        if spec.lane is not None:
            if spec.task in lanes:
                raise RegistryError(f"{path}: job {name!r} declares lane {spec.task!r} again")
            if spec.task == TRANSFORM_TASK:
                raise RegistryError(f"{path}: `{TRANSFORM_TASK}` is not a lane name")
            plugins = [w for w in words if ":" not in w]
            if len(plugins) < 2:
                raise RegistryError(f"{path}: lane job {name!r} must run `<tap> <loader>`")
            streams = tuple(
                s.model_copy(update={"name": key}) for key, s in spec.lane.streams.items()
            )
            lanes[spec.task] = Lane(
                name=spec.task,
                job=name,
                source=spec.lane.source,
                raw_schema=spec.lane.raw_schema,
                streams=streams,
                heartbeat_seconds=spec.lane.heartbeat_seconds,
                max_lag_minutes=spec.lane.max_lag_minutes,
                secrets=spec.lane.secrets,
                backfill=spec.lane.backfill,
                extractor=plugins[0],
                loader=plugins[1],
                timeout_seconds=spec.timeout_seconds,
            )
    jobs: dict[str, Job] = {}
    for name, (spec, words) in specs.items():
        if spec.task not in sizes:
            raise RegistryError(
                f"{path}: job {name!r} runs in task {spec.task!r}, whose size no job declares "
                "(`size: {vcpu: 1, memory_gb: 2}` on one of its jobs)"
            )
        jobs[name] = Job(
            name=name,
            task=spec.task,
            lane=spec.task if spec.task in lanes else None,
            plugins=tuple(dict.fromkeys(w.split(":", 1)[0] for w in words)),
            timeout_seconds=spec.timeout_seconds,
            attempts=spec.attempts,
            backoff_seconds=spec.backoff_seconds,
            minutes=spec.minutes,
        )
    tasks = {
        task: Task(task, size, task if task in lanes else None) for task, size in sizes.items()
    }
    schedules = []
    for entry in doc.get("schedules") or []:
        sname = str(entry.get("name"))
        job = entry.get("job")
        if not job:
            raise RegistryError(
                f"schedule {sname!r} in {path} has no `job`; a scheduled task runs "
                "`brightcart run <job>`, so declare the steps as a job and point the schedule at it"
            )
        if str(job) not in jobs:
            raise RegistryError(f"{path}: schedule {sname!r} names unknown job {job!r}")
        interval = str(entry.get("interval") or "")
        if not interval:
            raise RegistryError(f"schedule {sname!r} in {path} has no `interval` (cron)")
        schedules.append(Schedule(sname, str(job), interval, jobs[str(job)].task))
    return Registry(path, lanes, jobs, tasks, tuple(schedules))


def load(path: Path) -> Registry:
    """The registry of a meltano.yml file (parsed again when the file changed)."""
    resolved = path.resolve()
    if not resolved.is_file():
        raise RegistryError(f"{resolved}: meltano.yml not found (set BRIGHTCART_PROJECT_ROOT)")
    return _load(resolved, resolved.stat().st_mtime_ns)


@cache
def _load(path: Path, _mtime: int) -> Registry:
    return parse(read_yaml(path) or {}, path)


def default_path() -> Path:
    given = os.environ.get("BRIGHTCART_PROJECT_ROOT") or os.environ.get("MELTANO_PROJECT_ROOT")
    return (Path(given) if given else PROJECT_ROOT) / "meltano.yml"


def registry(path: Path | None = None) -> Registry:
    """The project's registry (meltano.yml at the project root unless `path` is given)."""
    return load(path or default_path())
