"""Every ops table's text fits the column Redshift would give it.

The ops tables are created from the same DDL on DuckDB (here) and on Redshift (production). A
plain VARCHAR is unbounded in DuckDB but 256 bytes in Redshift, so a long error, alert detail or
JSON document that lands fine here would fail the insert in production. The world behind the
dashboards has run every lane, a prod plan, the publish step and the audit trail: every value it
wrote into a column declared without a length must fit 256 bytes, and every DDL must parse as
Redshift SQL.
"""

from __future__ import annotations

import sqlglot
from sqlglot import exp

from brightcart_ops import alerts, audit_trail, month_close, opslog, reconcile, retention
from brightcart_ops.closing import artifact, reproduce
from brightcart_ops.publish import log as publish_log
from brightcart_ops.review import store

from .conftest import DashboardWorld

REDSHIFT_PLAIN_VARCHAR_BYTES = 256
DDLS = {
    "opslog.PIPELINE_RUNS_DDL": opslog.PIPELINE_RUNS_DDL,
    "reconcile.RESULTS_DDL": reconcile.RESULTS_DDL,
    "store.REVIEWS_DDL": store.REVIEWS_DDL,
    "store.APPROVALS_DDL": store.APPROVALS_DDL,
    "publish_log.PUBLISH_LOG_DDL": publish_log.PUBLISH_LOG_DDL,
    "month_close.CLOSE_DDL": month_close.CLOSE_DDL,
    "month_close.FIGURES_DDL": month_close.FIGURES_DDL,
    "artifact.ARTIFACTS_DDL": artifact.ARTIFACTS_DDL,
    "reproduce.REPRODUCTIONS_DDL": reproduce.REPRODUCTIONS_DDL,
    "retention.RETENTION_DDL": retention.RETENTION_DDL,
    "audit_trail.AUDIT_DDL": audit_trail.AUDIT_DDL,
    "alerts.ALERTS_DDL": alerts.ALERTS_DDL,
}


def _plain_varchar_columns() -> dict[tuple[str, str], list[str]]:
    """(schema, table) -> its VARCHAR columns declared without a length, from the Redshift parse."""
    out: dict[tuple[str, str], list[str]] = {}
    for name, ddl in DDLS.items():
        create = sqlglot.parse_one(ddl, read="redshift")
        assert isinstance(create, exp.Create), name
        table = create.find(exp.Table)
        assert table is not None, name
        columns = out.setdefault((table.db, table.name), [])
        for column in create.find_all(exp.ColumnDef):
            kind = column.args.get("kind")
            if kind is not None and kind.this == exp.DataType.Type.VARCHAR and not kind.expressions:
                columns.append(column.name)
    return out


def test_every_ops_ddl_parses_as_redshift_sql() -> None:
    tables = _plain_varchar_columns()
    assert len(tables) == len(DDLS)


def test_every_text_written_to_a_plain_varchar_fits_redshift(
    dashboard_world: DashboardWorld,
) -> None:
    checked = 0
    with dashboard_world.warehouse() as con:
        present = set(
            con.execute("SELECT table_schema, table_name FROM information_schema.tables").fetchall()
        )
        for (schema, table), columns in _plain_varchar_columns().items():
            if (schema, table) not in present or not columns:
                continue
            lengths = ", ".join(f'max(strlen(CAST("{c}" AS VARCHAR)))' for c in columns)
            (row,) = con.execute(f"SELECT count(*), {lengths} FROM {schema}.{table}").fetchall()
            checked += int(row[0])
            too_long = {
                column: longest
                for column, longest in zip(columns, row[1:], strict=True)
                if longest is not None and longest > REDSHIFT_PLAIN_VARCHAR_BYTES
            }
            assert not too_long, f"{schema}.{table}: longer than Redshift's VARCHAR: {too_long}"
    assert checked > 0, "the world wrote no ops rows"
