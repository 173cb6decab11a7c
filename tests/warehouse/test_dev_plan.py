"""A reviewed change builds only the changed model and its children; promotion is virtual."""

from __future__ import annotations

from .conftest import Built
from .project import context as open_context

PHYSICAL = (
    "SELECT table_schema || '.' || table_name FROM information_schema.tables "
    "WHERE table_schema LIKE 'sqlmesh__%'"
)
CHANGED = "marts_refunds.refund_rates"


PROD_VIEWS = (
    "SELECT schema_name || '.' || view_name, sql FROM duckdb_views() WHERE NOT internal "
    "AND schema_name NOT LIKE 'sqlmesh%' AND schema_name NOT LIKE '%\\_\\_%' ESCAPE '\\' "
    "ORDER BY 1"
)


def physical_objects(built: Built) -> set[str]:
    return {row[0] for row in built.rows(PHYSICAL)}


def prod_state(built: Built) -> dict[str, tuple[object, ...]]:
    """Every prod view: its definition, row count and an order-independent hash of its rows."""
    views = built.rows(PROD_VIEWS)
    assert any(name == CHANGED for name, _ in views), views
    return {name: (sql, *built.checksum(name)) for name, sql in views}


def test_dev_plan_builds_only_the_change_and_prod_promotion_is_virtual(built: Built) -> None:
    before = physical_objects(built)
    prod_before = prod_state(built)
    model_file = built.project / "models/marts/refunds/refund_rates.sql"
    text = model_file.read_text()
    model_file.write_text(
        text.replace(
            "AS refund_rate /* refunds / net sales; NULL without sales */",
            "AS refund_rate, /* refunds / net sales; NULL without sales */\n"
            "  refunds - chargebacks AS refunds_without_chargebacks /* refunds the shop granted */",
        )
    )
    built.context.close()
    built.context = open_context(built.project)
    dev = built.context.plan("dev", auto_apply=True, no_prompts=True)
    assert {s.name for s in dev.directly_modified} == {'"warehouse"."marts_refunds"."refund_rates"'}
    children = {c.name for kids in dev.indirectly_modified.values() for c in kids}
    assert children == {'"warehouse"."bi"."refunds"'}
    backfilled = {s.snapshot_id.name for s in dev.new_snapshots if s.model.kind.is_materialized}
    assert backfilled == {'"warehouse"."marts_refunds"."refund_rates"'}
    after_dev = physical_objects(built)
    new_objects = after_dev - before
    assert new_objects, "the changed model needs a new physical table"
    assert all(
        "marts_refunds__refund_rates" in name or "bi__refunds" in name for name in new_objects
    )
    assert built.rows(
        "SELECT SUM(refunds_without_chargebacks) FROM marts_refunds__dev.refund_rates"
    ) == [(30,)]
    prod_after_dev = prod_state(built)
    changed = sorted(n for n in prod_before if prod_after_dev.get(n) != prod_before[n])
    assert prod_after_dev.keys() == prod_before.keys() and not changed, (
        f"`plan dev` changed prod: {changed}"
    )

    prod = built.context.plan("prod", auto_apply=True, no_prompts=True)
    assert not prod.new_snapshots  # every snapshot was built in dev
    assert physical_objects(built) == after_dev  # promotion swapped views only
    assert built.rows(
        "SELECT SUM(refunds_without_chargebacks) FROM marts_refunds.refund_rates"
    ) == [(30,)]
