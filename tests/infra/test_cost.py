"""The cost model prices the CDK parameters: lines add up, the cap holds, parameters move it."""

from __future__ import annotations

import re
from dataclasses import replace
from pathlib import Path

import pytest
import yaml
from cost.model import (
    CAP_USD,
    DAYS,
    PRICES_YAML,
    Line,
    cost_lines,
    monthly_total,
    prices,
    render_table,
)
from infra.brightcart_infra.params import PRODUCTION
from infra.brightcart_infra.schedules import MELTANO_YML


def test_every_price_cites_its_page_and_date() -> None:
    doc = yaml.safe_load(PRICES_YAML.read_text())
    assert doc["region"] == PRODUCTION.region
    for name, entry in doc["prices"].items():
        assert entry["usd"] >= 0, name
        assert "Pricing" in entry["source"], name
        assert re.fullmatch(r"\d{4}-\d{2}-\d{2}", str(entry["as_of"])), name


def test_lines_sum_to_the_printed_total_within_the_cap() -> None:
    lines = cost_lines()
    assert all(x.usd >= 0 for x in lines)
    total = monthly_total()
    assert total == pytest.approx(sum(x.usd for x in lines))
    assert 0 < total <= CAP_USD
    table = render_table()
    rows = re.findall(r"│ ([^│]+?)\s*│[^│]*│[^│]*│\s*([\d,]+\.\d\d) │", table)
    printed = {label.strip(): float(v.replace(",", "")) for label, v in rows}
    amounts = [float(v.replace(",", "")) for label, v in rows if label.strip() != "TOTAL"]
    assert len(amounts) == len(lines)
    assert sum(amounts) == pytest.approx(printed["TOTAL"], abs=0.01 * len(lines))


def test_more_fargate_vcpu_costs_exactly_the_extra_vcpu_hours() -> None:
    base = cost_lines()
    bigger = PRODUCTION.with_lane("events", vcpu=8)
    after = cost_lines(bigger)
    events_hours = _hours(base, "events task")
    delta = monthly_total(bigger) - monthly_total()
    assert delta == pytest.approx(events_hours * 4 * prices()["fargate_vcpu_hour"], rel=1e-9)
    assert _usd(after, "events task") > _usd(base, "events task")


def test_redshift_base_capacity_moves_the_warehouse_line() -> None:
    doubled = replace(PRODUCTION, warehouse=replace(PRODUCTION.warehouse, base_rpu=16))
    delta = monthly_total(doubled) - monthly_total()
    assert delta == pytest.approx(8 * 24 * DAYS * prices()["redshift_serverless_rpu_hour"])


def test_fewer_schedules_in_meltano_yml_cost_less(tmp_path: Path) -> None:
    doc = yaml.safe_load(MELTANO_YML.read_text())
    kept = [s for s in doc.get("schedules") or [] if "events" not in s["job"]]
    assert len(kept) < len(doc.get("schedules") or [])
    doc["schedules"] = kept
    path = tmp_path / "meltano.yml"
    path.write_text(yaml.safe_dump(doc))
    fewer = replace(PRODUCTION, meltano_yml=path)
    assert _usd(cost_lines(fewer), "events task") == 0
    assert monthly_total(fewer) < monthly_total()


def _usd(lines: list[Line], item: str) -> float:
    return next(x.usd for x in lines if x.item == item)


def _hours(lines: list[Line], item: str) -> float:
    """Task hours behind a Fargate line: its dollars over the lane's hourly rate."""
    lane = PRODUCTION.lane("events")
    rate = lane.vcpu * prices()["fargate_vcpu_hour"] + lane.memory_gb * prices()["fargate_gb_hour"]
    return _usd(lines, item) / rate
