"""Every alarm of the template watches a metric the code really emits, as the code emits it.

The expectation comes from the code's one metric catalogue (brightcart_ops.metrics.CATALOGUE),
whose entries `emit` enforces at run time, and from the call sites: a static scan of production
code finds every `emit(...)` and the metric it names, so a catalogue entry nothing emits, or an
alarm on a metric nobody sends, fails here.
"""

from __future__ import annotations

import ast
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from brightcart_ops import metrics
from brightcart_ops.registry import registry

if TYPE_CHECKING:
    from .conftest import Synth

ROOT = Path(__file__).resolve().parents[2]
PRODUCTION_CODE = (ROOT / "ops" / "brightcart_ops", ROOT / "sqlmesh" / "brightcart_sqlmesh")


def emitted_metrics() -> dict[str, set[tuple[str, ...]]]:
    """Metric name -> the dimension-name tuples its call sites pass, from the source code."""
    constants = {
        name: value.name
        for name, value in vars(metrics).items()
        if isinstance(value, metrics.Metric)
    }
    found: dict[str, set[tuple[str, ...]]] = {}
    for folder in PRODUCTION_CODE:
        for path in folder.rglob("*.py"):
            for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
                if not isinstance(node, ast.Call) or not node.args:
                    continue
                func = node.func
                called = func.attr if isinstance(func, ast.Attribute) else getattr(func, "id", "")
                if called != "emit":
                    continue
                first = node.args[0]
                if isinstance(first, ast.Constant) and isinstance(first.value, str):
                    name = first.value
                elif isinstance(first, ast.Name | ast.Attribute):
                    ident = first.id if isinstance(first, ast.Name) else first.attr
                    name = constants[ident]
                else:
                    raise AssertionError(f"{path}:{node.lineno}: emit of an unnamed metric")
                dims: tuple[str, ...] = ()
                if len(node.args) >= 3 and isinstance(node.args[2], ast.Dict):
                    keys = node.args[2].keys
                    dims = tuple(sorted(str(k.value) for k in keys if isinstance(k, ast.Constant)))
                found.setdefault(name, set()).add(dims)
    return found


def _alarms(synth: Synth) -> list[dict[str, Any]]:
    return [a["Properties"] for a in synth.resources("AWS::CloudWatch::Alarm").values()]


def test_every_catalogued_metric_is_emitted_with_its_dimensions() -> None:
    emitted = emitted_metrics()
    assert set(emitted) == set(metrics.CATALOGUE)
    for name, calls in emitted.items():
        assert calls == {tuple(sorted(metrics.CATALOGUE[name].dimensions))}, (name, calls)


def test_every_alarm_watches_what_the_code_emits(synth: Synth) -> None:
    emitted = emitted_metrics()
    known = registry()
    alarms = _alarms(synth)
    assert alarms
    for alarm in alarms:
        name = alarm["MetricName"]
        assert name in emitted, f"{alarm['AlarmName']} watches {name}, which nothing emits"
        spec = metrics.CATALOGUE[name]
        assert alarm["Namespace"] == metrics.NAMESPACE, alarm["AlarmName"]
        dims = alarm.get("Dimensions", [])
        assert tuple(sorted(d["Name"] for d in dims)) == tuple(sorted(spec.dimensions))
        assert alarm["Statistic"] == spec.statistic
        assert alarm["Period"] == spec.cadence_seconds
        assert alarm["TreatMissingData"] == spec.treat_missing_data
        for dim in dims:  # the value is a task the code reports under that name
            tasks = set(known.tasks) if name == "LaneFailed" else set(known.lanes)
            assert dim["Value"] in tasks, (alarm["AlarmName"], dim)


def test_every_task_sends_its_metrics_to_the_alarms_namespace(synth: Synth) -> None:
    for res in synth.resources("AWS::ECS::TaskDefinition").values():
        (container,) = res["Properties"]["ContainerDefinitions"]
        env = {e["Name"]: e["Value"] for e in container["Environment"]}
        assert env["BRIGHTCART_METRICS"] == "cloudwatch", res["Properties"]["Family"]
        assert env["BRIGHTCART_METRICS_NAMESPACE"] == metrics.NAMESPACE


def test_each_task_and_lane_has_its_failure_and_outage_alarm(synth: Synth) -> None:
    known = registry()
    watched = {
        (a["MetricName"], tuple(d["Value"] for d in a.get("Dimensions", [])))
        for a in _alarms(synth)
    }
    for task in known.tasks:
        assert ("LaneFailed", (task,)) in watched, task
    for lane in known.lanes:
        assert ("SourceUnreachable", (lane,)) in watched, lane


def test_emit_refuses_what_no_alarm_could_watch() -> None:
    with pytest.raises(metrics.UnknownMetric):
        metrics.emit("LaneFaild", 1, {"Lane": "shop"})
    with pytest.raises(metrics.UnknownMetric):
        metrics.emit(metrics.BLOCKING_AUDIT_FAILURES, 1, {"Model": "marts.x"})
