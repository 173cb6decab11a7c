"""meltano.yml's schedules translate to EventBridge Scheduler and to runs per month."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml
from infra.brightcart_infra.schedules import (
    MELTANO_YML,
    load_schedules,
    runs_per_month,
    to_eventbridge,
)

from brightcart_ops.registry import RegistryError


@pytest.mark.parametrize(
    ("cron", "expected"),
    [
        ("5 * * * *", "cron(5 * * * ? *)"),
        ("30 1 * * *", "cron(30 1 * * ? *)"),
        ("0 6 * * 1-5", "cron(0 6 ? * 2-6 *)"),  # Monday-Friday: Sunday is 1 in EventBridge
        ("0 0 * * 0", "cron(0 0 ? * 1 *)"),
        ("0 4 1 * *", "cron(0 4 1 * ? *)"),
        ("@daily", "cron(0 0 * * ? *)"),
    ],
)
def test_cron_translation(cron: str, expected: str) -> None:
    assert to_eventbridge(cron) == expected


def test_cron_with_both_day_fields_is_refused() -> None:
    with pytest.raises(ValueError, match="only one"):
        to_eventbridge("0 0 1 * 1")


@pytest.mark.parametrize(
    ("cron", "runs"),
    [
        ("5 * * * *", 720),  # 30 days x 24
        ("30 1 * * *", 30),
        ("0 6 * * 1-5", 21),  # weekdays in November 2026
        ("*/15 * * * *", 2880),
    ],
)
def test_runs_per_month(cron: str, runs: int) -> None:
    assert runs_per_month(cron, 2026, 11) == runs


def test_each_schedule_runs_in_the_task_its_job_declares() -> None:
    tasks = {s.job: s.task for s in load_schedules()}
    assert tasks["finance-full-extract"] == "shop"  # an inherited extractor, the shop lane's task
    assert tasks["events-lane"] == "events"
    assert tasks["transform"] == tasks["reconcile"] == tasks["retention"] == "transform"


def test_every_meltano_schedule_is_loaded_with_its_job() -> None:
    doc = yaml.safe_load(MELTANO_YML.read_text())
    declared = doc.get("schedules") or []
    loaded = load_schedules()
    assert [(s.name, s.job, s.interval) for s in loaded] == [
        (d["name"], d["job"], str(d["interval"])) for d in declared
    ]
    jobs = {j["name"] for j in doc.get("jobs") or []}
    assert {s.job for s in loaded} <= jobs


def test_schedule_without_job_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "meltano.yml"
    path.write_text("schedules:\n- name: x\n  interval: '0 * * * *'\n  extractor: tap-postgres\n")
    with pytest.raises(RegistryError, match="no `job`"):
        load_schedules(path)
