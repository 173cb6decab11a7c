"""Each lane's warehouse login writes its own raw schema, the load log and its ops records only."""

from __future__ import annotations

import re

from infra.brightcart_infra.grants import render

from brightcart_ops.registry import registry


def test_a_lane_login_reaches_only_its_raw_schema_the_load_log_and_ops_records() -> None:
    sql = render()
    known = registry()
    for lane in known.lanes.values():
        user = f"brightcart_{lane.name}"
        granted = re.findall(rf"^GRANT (.+?) ON (?:SCHEMA )?(\S+) TO {user};$", sql, re.M)
        targets = {target for _, target in granted}
        assert targets == {lane.raw_schema, "raw_meta", "raw_meta.load_log", "ops"} | {
            "ops.pipeline_runs",
            "ops.alerts",
        }, lane.name
        writable = {t for privileges, t in granted if "CREATE" in privileges}
        assert writable == {lane.raw_schema}
        for other in known.lanes.values():
            if other.name != lane.name:
                assert f"SCHEMA {other.raw_schema} TO {user};" not in sql
    assert "brightcart_transform" not in sql  # transform's login is brightcart_pipeline
