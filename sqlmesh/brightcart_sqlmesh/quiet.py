"""When a `sqlmesh run` is quiet: recomputing any processed interval would change nothing.

The `sources_landed` signal (signals/sources_landed.py) drops a batch of processed lookback
intervals alone in a quiet run (ADR 0014). A run is quiet when every evaluated model that is due
in it and can run was evaluated after the last load of every lane at or above it finished, and
after its parents' last evaluations. The decision is about the whole graph: SQLMesh takes a
parent's refused intervals out of every child's batch, so a model that skipped on its own lanes'
account would take its children's lookback with it.

SQLMesh stores these functions' code with the models that use the signal (by source, with the
values they read), so they use plain values and tuples, not classes of their own.
"""

from __future__ import annotations

import datetime as dt
import typing as t
from datetime import datetime

from brightcart_ops.landed import as_utc

# Per lane: when its last load, of any status, ended (the loader stamps it after the commit).
LAST_LOADS_SQL = "SELECT lane, MAX(finished_at) FROM raw_meta.load_log GROUP BY lane"


def _ms(value: datetime) -> int:
    return int(value.timestamp() * 1000)


def _evaluated(snapshot: t.Any) -> bool:
    """A node SQLMesh evaluates into a table of its own (views read their parents live)."""
    return bool(
        snapshot.is_model
        and not (
            snapshot.is_view
            or snapshot.is_embedded
            or snapshot.is_symbolic
            or snapshot.is_external
            or snapshot.is_seed
        )
    )


def _due(snapshot: t.Any, now: datetime) -> bool:
    """The node has an interval due by its cron that it has not processed (never run: due)."""
    if not snapshot.intervals:
        return True
    return bool(snapshot.intervals[-1][1] < _ms(snapshot.node.cron_floor(now)))


def own_lanes(node: t.Any) -> list[str]:
    """The lanes a model's own `sources_landed` call names."""
    lanes: list[str] = []
    for name, kwargs in getattr(node, "signals", None) or []:
        if name == "sources_landed":
            listed = kwargs.get("sources")
            lanes += [str(getattr(e, "this", e)) for e in getattr(listed, "expressions", [])]
    return lanes


def _upstream(name: str, nodes: dict[str, t.Any], memo: dict[str, set[str]]) -> set[str]:
    """The lanes named by a node's signal and by every node above it."""
    if name not in memo:
        memo[name] = set()
        node = nodes.get(name)
        if node is not None and node.is_model:
            lanes = set(own_lanes(node.node))
            for parent in node.parents:
                lanes |= _upstream(parent.name, nodes, memo)
            memo[name] = lanes
    return memo[name]


def _evaluated_parents(snapshot: t.Any, nodes: dict[str, t.Any]) -> list[str]:
    """The nearest evaluated ancestors of a node, looking through the views between."""
    found: list[str] = []
    seen: set[str] = set()
    todo = [parent.name for parent in snapshot.parents]
    while todo:
        name = todo.pop()
        parent = nodes.get(name)
        if name in seen or parent is None:
            continue
        seen.add(name)
        if _evaluated(parent):
            found.append(name)
        elif parent.is_model:
            todo.extend(grand.name for grand in parent.parents)
    return found


def _can_run(snapshot: t.Any, lanes: set[str], marks: dict[str, datetime]) -> bool:
    """Whether the run may evaluate the due node at all: it has a lookback (recomputed whenever it
    is due), or its next interval has landed on every lane named at or above it. (SQLMesh takes
    an interval out of a node's batch when a signal at or above it refused it, so the lanes
    above count as the node's own.)"""
    if snapshot.intervals and snapshot.node.lookback:
        return True
    if not lanes:
        return True
    if any(lane not in marks for lane in lanes):
        return False
    if not snapshot.intervals:
        return True
    start = datetime.fromtimestamp(snapshot.intervals[-1][1] / 1000, tz=dt.UTC)
    return _ms(snapshot.node.cron_next(start)) <= _ms(min(marks[lane] for lane in lanes))


# What the quiet rule needs of one evaluated node: the end of its last evaluation (epoch ms,
# SQLMesh's last_altered_ts), its nearest evaluated ancestors, every lane named at or above it
# (empty: any lane), and whether it is due in the run and able to run. (A plain tuple: SQLMesh
# stores the signal's code with the models and cannot store a class of this module.)
Evaluation = tuple[int | None, list[str], set[str], bool]


def evaluations(
    context: t.Any, now: datetime, marks: dict[str, datetime]
) -> dict[str, Evaluation] | None:
    """Every evaluated node of the run. None when a due node's prod intervals are not the ones the
    run reads (a forward-only preview in a development environment)."""
    nodes = dict(context.snapshots)
    index = context.deployability_index
    memo: dict[str, set[str]] = {}
    out: dict[str, Evaluation] = {}
    for name, snapshot in nodes.items():
        if not _evaluated(snapshot):
            continue
        due = _due(snapshot, now)
        if due and index is not None and not index.is_representative(snapshot):
            return None
        lanes = _upstream(name, nodes, memo)
        out[name] = (
            snapshot.last_altered_ts,
            _evaluated_parents(snapshot, nodes),
            lanes,
            due and _can_run(snapshot, lanes, marks),
        )
    return out


def quiet(nodes: dict[str, Evaluation], last_loads: dict[str, int]) -> bool:
    """Recomputing any processed interval would change nothing: every node that is due and can
    run was evaluated after the last load of every lane at or above it finished, and after each
    of its parents' last evaluations."""
    for last, parents, lanes, counts in nodes.values():
        if not counts:
            continue
        if last is None:
            return False
        read = lanes or set(last_loads)
        newest = max((last_loads[lane] for lane in read if lane in last_loads), default=None)
        if newest is not None and newest > last:
            return False
        for parent in parents:
            before = nodes[parent][0] if parent in nodes else None
            if before is not None and before > last:
                return False
    return True


def processed(snapshot: t.Any, interval: tuple[t.Any, t.Any]) -> bool:
    """The snapshot's prod intervals hold the interval (a pair of datetimes) whole."""
    start = _ms(t.cast(datetime, as_utc(interval[0])))
    end = _ms(t.cast(datetime, as_utc(interval[1])))
    return any(s <= start and end <= e for s, e in snapshot.intervals)


def quiet_run(context: t.Any, marks: dict[str, datetime]) -> bool:
    """Whether the run of `context` (a SQLMesh ExecutionContext) is quiet, given the lanes'
    high-water marks with their heartbeat grace."""
    last_loads: dict[str, int] = {}
    for lane, finished in context.engine_adapter.fetchall(LAST_LOADS_SQL):
        ended = as_utc(finished)
        if ended is not None:
            last_loads[str(lane)] = _ms(ended)
    nodes = evaluations(context, datetime.now(tz=dt.UTC), marks)
    return nodes is not None and quiet(nodes, last_loads)
