"""The project linter rejects unportable functions, incomplete incremental models and truncated
interval bounds."""

from __future__ import annotations

import shutil

import pytest
from sqlmesh.utils.errors import LinterError

from . import project

BAD_MODEL = """
MODEL (
  name marts_finance.bad_incremental,
  kind INCREMENTAL_BY_TIME_RANGE (time_column paid_day),
  owner finance_data,
  cron '@daily',
  description 'A bad model. One row per order.'
);

SELECT
  TRUNC(paid_at) AS paid_day, /* truncation Redshift has but DuckDB cannot run */
  STRTOL(currency, 16) AS currency_code, /* does not transpile */
  LISTAGG(DISTINCT channel, ',') WITHIN GROUP (ORDER BY channel) AS channels /* neither */
FROM staging.stg_shop__orders
WHERE paid_at >= DATE_TRUNC('DAY', @start_dt) /* rendered as @start_dt itself */
GROUP BY 1, 2
"""


def test_project_models_pass_the_linter(monkeypatch: pytest.MonkeyPatch) -> None:
    workdir = project.temp_dir("lint-")
    try:
        copy = project.copy_project(workdir / "project")
        for name, value in project.duckdb_env(workdir).items():
            monkeypatch.setenv(name, value)
        context = project.context(copy)
        assert [
            v for v in context.lint_models(raise_on_error=False) if v.violation_type == "error"
        ] == []

        (copy / "models/marts/finance/bad_incremental.sql").write_text(BAD_MODEL)
        context = project.context(copy)
        violations = context.lint_models(raise_on_error=False)
        messages = sorted(
            f"{v.rule.name}: {v.violation_msg}"
            for v in violations
            if "bad_incremental" in v.model.name
        )
        joined = "\n".join(messages)
        assert "redshiftportablefunctions" in joined and "TRUNC(" in joined, joined
        assert "STRTOL" in joined and "LISTAGG(DISTINCT" in joined, joined
        assert "has no lookback" in joined and "has no audits" in joined, joined
        assert "notruncatedintervalbounds" in joined and "DATE_TRUNC('DAY', @start_dt)" in joined
        with pytest.raises(LinterError):
            context.lint_models()

        # A model booked by change time needs no lookback; it is still held to the rest.
        booked = BAD_MODEL.replace("bad_incremental", "booked_incremental").replace(
            "cron '@daily',", "cron '@daily',\n  tags (booked_by_change_time),"
        )
        (copy / "models/marts/finance/booked_incremental.sql").write_text(booked)
        context = project.context(copy)
        booked_messages = "\n".join(
            v.violation_msg
            for v in context.lint_models(raise_on_error=False)
            if "booked_incremental" in v.model.name
        )
        assert "has no audits" in booked_messages, booked_messages
        assert "has no lookback" not in booked_messages, booked_messages
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
