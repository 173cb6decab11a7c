"""The QuickSight data sets come from ops/bi_datasets.yaml, typed from the SQLMesh bi views, and
the adapter creates them through the QuickSight API (moto's server over HTTP)."""

from __future__ import annotations

import json
import urllib.request
from pathlib import Path

import boto3
import pytest
from sqlmesh import Context

from brightcart_ops.publish.adapters.quicksight import QuickSightAdapter
from brightcart_ops.publish.datasets import load as load_map
from brightcart_ops.publish.quicksight_datasets import (
    DataSetDefinitionError,
    data_set_definitions,
    data_source_arn,
    quicksight_type,
    view_columns,
)

from .conftest import Moto

REPO = Path(__file__).resolve().parents[2]
ACCOUNT = "123456789012"


def test_every_mapped_view_gets_its_sqlmesh_columns_with_quicksight_types() -> None:
    maps = load_map(REPO / "ops" / "bi_datasets.yaml")
    columns = view_columns(maps, REPO)
    context = Context(paths=str(REPO))
    assert set(columns) == {d.view for d in maps.datasets.values()}
    for view, typed in columns.items():
        model = context.get_model(view)
        assert [name for name, _ in typed] == list(model.columns_to_types or {}), view
    executive = dict(columns["bi.executive_daily"])
    assert executive["revenue_date"] == "DATETIME"
    assert executive["net_revenue"] == "DECIMAL" and executive["orders"] == "INTEGER"
    with pytest.raises(DataSetDefinitionError, match=r"bi\.x\.payload"):
        quicksight_type("bi.x", "payload", "UNKNOWN")


def test_adapter_creates_one_spice_data_set_per_dataset(
    moto_server: Moto, monkeypatch: pytest.MonkeyPatch
) -> None:
    for name, value in {
        "AWS_ENDPOINT_URL": moto_server.endpoint,
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }.items():
        monkeypatch.setenv(name, value)
    maps = load_map(REPO / "ops" / "bi_datasets.yaml")
    adapter = QuickSightAdapter(client=boto3.client("quicksight"), account_id=ACCOUNT)
    definitions = data_set_definitions(
        maps,
        view_columns(maps, REPO),
        data_source_arn(adapter.region, ACCOUNT),
        owner_arn=f"arn:aws:quicksight:us-east-1:{ACCOUNT}:group/default/brightcart-authors",
    )
    applied = adapter.apply_data_sets(definitions)  # botocore validates every request's shape
    assert applied == [(d.quicksight_id, "created") for d in maps.datasets.values()]
    with urllib.request.urlopen(f"{moto_server.endpoint}/moto-api/data.json") as response:
        stored = json.load(response).get("quicksight", {}).get("QuicksightDataSet", [])
    stored_ids = {item["arn"].rsplit("/", 1)[1] for item in stored}
    assert {d.quicksight_id for d in maps.datasets.values()} <= stored_ids
    by_id = {d["DataSetId"]: d for d in definitions}
    refunds = by_id["brightcart-refund-reasons"]["PhysicalTableMap"]["refund-reasons"]
    assert refunds["RelationalTable"]["Schema"] == "bi"
    assert refunds["RelationalTable"]["Name"] == "refund_reasons"
    assert {"Name": "lag_band", "Type": "STRING"} in refunds["RelationalTable"]["InputColumns"]
