"""The stack's QuickSight data sets are the datasets of ops/bi_datasets.yaml, one each, SPICE,
reading their bi view through the Redshift data source with the SQLMesh columns."""

from __future__ import annotations

from typing import TYPE_CHECKING

from infra.brightcart_infra.params import PRODUCTION
from sqlmesh import Context

from brightcart_ops.publish.datasets import load as load_map

if TYPE_CHECKING:
    from .conftest import Synth


def test_one_spice_data_set_per_bi_dataset_with_the_view_columns(synth: Synth) -> None:
    maps = load_map()
    data_sets = {
        r["Properties"]["DataSetId"]: r["Properties"]
        for r in synth.resources("AWS::QuickSight::DataSet").values()
    }
    assert set(data_sets) == {d.quicksight_id for d in maps.datasets.values()}
    sources = synth.resources("AWS::QuickSight::DataSource")
    assert len(sources) == 1
    (source_id, source), *_ = sources.items()
    assert source["Properties"]["Type"] == "REDSHIFT"
    assert "RedshiftParameters" in source["Properties"]["DataSourceParameters"]
    secret = source["Properties"]["Credentials"]["SecretArn"]["Ref"]
    secrets = synth.resources("AWS::SecretsManager::Secret")
    assert secrets[secret]["Properties"]["Name"] == "brightcart/warehouse/bi_reader"
    assert "VpcConnectionArn" in source["Properties"]["VpcConnectionProperties"]
    context = Context(paths=str(PRODUCTION.bi.project_root))
    for dataset in maps.datasets.values():
        props = data_sets[dataset.quicksight_id]
        assert props["ImportMode"] == "SPICE"
        assert dataset.quicksight_id.startswith(PRODUCTION.bi.dataset_prefix)
        (table,) = props["PhysicalTableMap"].values()
        relational = table["RelationalTable"]
        assert f"{relational['Schema']}.{relational['Name']}" == dataset.view
        assert relational["DataSourceArn"] == {"Fn::GetAtt": [source_id, "Arn"]}
        model = context.get_model(dataset.view)
        assert [c["Name"] for c in relational["InputColumns"]] == list(model.columns_to_types or {})
        (permission,) = props["Permissions"]
        assert permission["Principal"].endswith(f":group/default/{PRODUCTION.bi.authors_group}")


def test_quicksight_reaches_the_warehouse_only_on_its_port(synth: Synth) -> None:
    rules = [
        r["Properties"]
        for r in synth.resources("AWS::EC2::SecurityGroupIngress").values()
        if "QuickSight" in r["Properties"].get("Description", "")
    ]
    assert rules and all(r["FromPort"] == r["ToPort"] == 5439 for r in rules)
