"""`@event_field` (macros/events.py): the events' payload fields, one parse per line on DuckDB.

On a real DuckDB warehouse, staging.stg_events__lines as it runs (the DuckDB form: every field
from one list extraction) gives the same rows as the form it has while the project loads (one
`->>`, JSON_EXTRACT_PATH_TEXT, per field), over payloads with absent, empty, null, numeric,
nested and non-ASCII fields; and the DuckDB form holds a single extraction expression, repeated,
which DuckDB computes once per row. Redshift's form cannot run here: its test renders it only.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import duckdb
import pytest
from project_copy import ROOT, copy_project
from sqlmesh import Context
from sqlmesh.core.engine_adapter.redshift import RedshiftEngineAdapter
from sqlmesh.core.macros import RuntimeStage

MODEL = "staging.stg_events__lines"
START, END = "2026-11-02 00:00:00", "2026-11-02 23:59:59"
PAYLOADS = [
    {
        "utm_source": "google",
        "utm_medium": "cpc",
        "utm_campaign": "black_friday",
        "utm_content": "",
        "utm_term": "shoes",
        "page": {"path": "/checkout/done", "referrer": "https://www.google.com/"},
        "context": {"device_type": "mobile"},
        "properties": {"order_id": 5001, "revenue": "90.50", "currency": "EUR"},
    },
    {"page": {"path": "/p/42"}, "properties": {"product_id": 42}},
    {"utm_source": None, "page": {"path": "/caf\u00e9", "referrer": ""}, "properties": {}},
    {"utm_campaign": {"nested": 1}, "context": {"device_type": "desktop"}},
    {},
]


@pytest.fixture
def context() -> Iterator[Context]:
    workdir = Path(tempfile.mkdtemp(prefix="event-fields-"))
    saved = dict(os.environ)
    try:
        project = copy_project(workdir / "project", [ROOT / "models/staging/stg_events__lines.sql"])
        os.environ.update(
            {
                "BRIGHTCART_HOME": str(workdir),
                "BRIGHTCART_WAREHOUSE": str(workdir / "warehouse.duckdb"),
                "SQLMESH__DISABLE_ANONYMIZED_ANALYTICS": "1",
            }
        )
        with duckdb.connect(str(workdir / "warehouse.duckdb")) as con:
            con.execute("CREATE SCHEMA raw_events")
            con.execute(
                "CREATE TABLE raw_events.events (event_id VARCHAR, event_type VARCHAR, "
                "occurred_at TIMESTAMPTZ, received_at TIMESTAMPTZ, anonymous_id VARCHAR, "
                "customer_id BIGINT, session_id VARCHAR, s3_key VARCHAR, line_number BIGINT, "
                "object_last_modified TIMESTAMPTZ, payload JSON)"
            )
            for n, payload in enumerate(PAYLOADS, start=1):
                con.execute(
                    "INSERT INTO raw_events.events VALUES (?, 'page_view', "
                    "TIMESTAMPTZ '2026-11-02 10:00:00+00' + to_minutes(?::BIGINT), "
                    "TIMESTAMPTZ '2026-11-02 10:30:00+00', 'anon', NULL, 's', "
                    "'events/dt=2026-11-02/hour=10/a.gz', ?, "
                    "TIMESTAMPTZ '2026-11-02 10:40:00+00', ?)",
                    [f"e{n}", n, n, json.dumps(payload)],
                )
        ctx = Context(paths=str(project), gateway="local")
        try:
            yield ctx
        finally:
            ctx.close()
    finally:
        os.environ.clear()
        os.environ.update(saved)
        shutil.rmtree(workdir, ignore_errors=True)


def _sql(ctx: Context, **render: Any) -> str:
    query = ctx.get_model(MODEL).render_query_or_raise(start=START, end=END, **render)
    return query.sql(dialect="duckdb")


def test_one_parse_per_line_on_duckdb_gives_the_rows_of_one_parse_per_field(
    context: Context,
) -> None:
    running = _sql(
        context, engine_adapter=context.engine_adapter, runtime_stage=RuntimeStage.EVALUATING
    )
    loading = _sql(context)
    extractions = set(re.findall(r"JSON_EXTRACT_STRING\([^)]*\)", running, re.IGNORECASE))
    assert len(extractions) == 1, extractions  # one expression, the same in every column
    assert running.upper().count("JSON_EXTRACT_STRING(") == 12
    assert "JSON_EXTRACT_STRING(" not in loading.upper() and "->>" in loading

    ran = context.engine_adapter.fetchall(f"{running} ORDER BY event_id")
    loaded = context.engine_adapter.fetchall(f"{loading} ORDER BY event_id")
    assert ran == loaded
    assert len(ran) == len(PAYLOADS)
    columns = [c[0] for c in context.engine_adapter.cursor.description]
    first = dict(zip(columns, ran[0], strict=True))
    assert (first["utm_source"], first["page_path"], first["order_id"], str(first["revenue"])) == (
        "google",
        "/checkout/done",
        5001,
        "90.50",
    )
    assert first["utm_content"] is None  # an empty string reads as absent
    by_id = {row[0]: dict(zip(columns, row, strict=True)) for row in ran}
    assert by_id["e2"]["product_id"] == 42 and by_id["e2"]["utm_source"] is None
    assert by_id["e3"]["page_path"] == "/caf\u00e9" and by_id["e3"]["page_referrer"] is None
    assert json.loads(by_id["e4"]["utm_campaign"]) == {"nested": 1}
    assert all(by_id["e5"][c] is None for c in ("utm_source", "page_path", "device_type"))


def test_on_redshift_the_super_payload_is_serialized_first_render_only(context: Context) -> None:
    redshift = RedshiftEngineAdapter(lambda: None)  # type: ignore[abstract]
    query = context.get_model(MODEL).render_query_or_raise(
        start=START, end=END, engine_adapter=redshift, runtime_stage=RuntimeStage.EVALUATING
    )
    sql = query.sql(dialect="redshift")
    assert sql.count("JSON_EXTRACT_PATH_TEXT(JSON_SERIALIZE(") == 12, sql
    assert "JSON_EXTRACT_STRING" not in sql.upper()
