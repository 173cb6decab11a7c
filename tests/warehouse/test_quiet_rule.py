"""The rule by which the `sources_landed` signal calls a run quiet (brightcart_sqlmesh.quiet).

A quiet run drops every batch made of processed lookback intervals alone. These tests hold the
rule's parts against their reasons, on SQLMesh's own model and snapshot objects and the project's
models: when a model is due, which lanes its signal names, and which histories of evaluations
and loads make a run quiet. tests/reliability/test_08_quiet_run.py
shows the whole of it on a landed world.
"""

from __future__ import annotations

from datetime import UTC, datetime

from sqlglot import parse_one
from sqlmesh.core.model import create_sql_model
from sqlmesh.core.snapshot import Snapshot

from brightcart_sqlmesh import quiet as RULE

from .conftest import Built


def _snapshot(name: str, cron: str, kind: str = "FULL") -> Snapshot:
    model = create_sql_model(
        name, parse_one("SELECT 1 AS x"), cron=cron, start="2026-11-01", kind={"name": kind}
    )
    return Snapshot.from_node(model, nodes={})


def test_a_model_is_due_until_it_has_processed_its_last_complete_cron_interval() -> None:
    daily = _snapshot("db.daily", "@daily")
    assert RULE._evaluated(daily)
    assert RULE._due(daily, datetime(2026, 12, 7, 18, tzinfo=UTC)), "never run: due"
    daily.add_interval("2026-11-01", "2026-12-06")  # days up to the end of 6 December
    assert not RULE._due(daily, datetime(2026, 12, 7, 18, tzinfo=UTC))
    assert RULE._due(daily, datetime(2026, 12, 8, 0, 30, tzinfo=UTC)), "7 December is complete"
    hourly = _snapshot("db.hourly", "@hourly")
    hourly.add_interval("2026-12-07 00:00:00", "2026-12-07 17:00:00")
    assert not RULE._due(hourly, datetime(2026, 12, 7, 17, 20, tzinfo=UTC))
    assert RULE._due(hourly, datetime(2026, 12, 7, 18, 0, 5, tzinfo=UTC))
    view = _snapshot("db.view", "@hourly", kind="VIEW")
    assert not RULE._evaluated(view), "a view reads its parents live and holds no rows"


T0 = 1_796_666_000_000  # epoch ms


def test_own_lanes_are_read_from_the_models_signal_call(built: Built) -> None:
    ledger = built.context.get_model("marts_finance.revenue_ledger")
    view = built.context.get_model("staging.stg_shop__orders")
    assert ledger is not None and view is not None
    assert RULE.own_lanes(ledger) == ["shop"]
    assert RULE.own_lanes(view) == []


def _node(
    last: int | None, parents: list[str], lanes: set[str], counts: bool = True
) -> tuple[int | None, list[str], set[str], bool]:
    return (last, parents, lanes, counts)


def test_quiet_when_every_model_that_can_run_ran_after_its_lanes_and_its_parents() -> None:
    nodes = {
        "lines": _node(T0, [], {"events"}),
        "events": _node(T0 + 5_000, ["lines"], {"events"}),
        "ledger": _node(T0 + 6_000, [], {"shop"}),
        "attribution": _node(T0 + 9_000, ["events", "ledger"], {"events", "shop"}),
    }
    assert RULE.quiet(nodes, {"events": T0 - 60_000, "shop": T0 + 5_500})
    assert RULE.quiet(nodes, {}), "nothing ever landed"
    assert RULE.quiet({}, {"shop": T0}), "nothing due, nothing to run"
    # a lane nothing reads, or a model that cannot run this time (its next interval has not
    # landed, no lookback), does not hold the run back
    assert RULE.quiet(nodes, {"events": T0 - 60_000, "shop": T0, "crm": T0 + 60_000})
    stale = {**nodes, "customers": _node(T0 - 90_000, ["ledger"], {"shop"}, counts=False)}
    assert RULE.quiet(stale, {"events": T0 - 60_000, "shop": T0})


def test_not_quiet_after_a_load_above_a_model_behind_its_parent_or_never_run() -> None:
    nodes = {
        "events": _node(T0, [], {"events"}),
        "ledger": _node(T0 + 6_000, [], {"shop"}),
        "attribution": _node(T0 + 9_000, ["events", "ledger"], {"events", "shop"}),
    }
    # the shop lane landed after the events models ran: attribution, below both, ran after it
    # too, so only a model that reads the shop would be stale
    assert RULE.quiet(nodes, {"shop": T0 + 5_000})
    assert not RULE.quiet(nodes, {"shop": T0 + 7_000}), "a shop load after the ledger ran"
    assert not RULE.quiet(nodes, {"events": T0 + 1}), "an events load after the events ran"
    # a model with no lane above it is held against every lane
    assert not RULE.quiet({"x": _node(T0, [], set())}, {"crm": T0 + 1})
    # the parent ran again after its child (a run killed between them): the child read old rows
    behind = {**nodes, "ledger": _node(T0 + 9_500, [], {"shop"})}
    assert not RULE.quiet(behind, {})
    assert not RULE.quiet({**nodes, "new": _node(None, ["ledger"], {"shop"})}, {})
