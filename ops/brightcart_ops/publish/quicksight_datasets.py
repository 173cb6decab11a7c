"""QuickSight SPICE data sets, one per BI dataset of ops/bi_datasets.yaml.

The same definition feeds the CDK stack (``AWS::QuickSight::DataSet`` resources, see
ops/infra/brightcart_infra/bi.py) and the QuickSight adapter (``create_data_set`` /
``update_data_set`` through the API, ``brightcart publish datasets --apply``): CloudFormation's
DataSet properties and the API's request share their names. Columns and types come from the
SQLMesh models of the bi views, so a column added to a view reaches the data set definition
without a second list.
"""

from __future__ import annotations

from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path
from typing import Any

from brightcart_ops.publish.datasets import Dataset, DatasetMap

# QuickSight input column types: STRING | INTEGER | DECIMAL | DATETIME | BIT | BOOLEAN | JSON
QUICKSIGHT_TYPES = {
    "DECIMAL": "DECIMAL",
    "DOUBLE": "DECIMAL",
    "FLOAT": "DECIMAL",
    "BIGDECIMAL": "DECIMAL",
    "TINYINT": "INTEGER",
    "SMALLINT": "INTEGER",
    "INT": "INTEGER",
    "BIGINT": "INTEGER",
    "HUGEINT": "INTEGER",
    "DATE": "DATETIME",
    "DATETIME": "DATETIME",
    "TIMESTAMP": "DATETIME",
    "TIMESTAMPTZ": "DATETIME",
    "TIMESTAMPLTZ": "DATETIME",
    "BOOLEAN": "BOOLEAN",
    "VARCHAR": "STRING",
    "CHAR": "STRING",
    "TEXT": "STRING",
}
OWNER_ACTIONS = (
    "quicksight:CancelIngestion",
    "quicksight:CreateIngestion",
    "quicksight:DeleteDataSet",
    "quicksight:DescribeDataSet",
    "quicksight:DescribeDataSetPermissions",
    "quicksight:DescribeIngestion",
    "quicksight:ListIngestions",
    "quicksight:PassDataSet",
    "quicksight:UpdateDataSet",
    "quicksight:UpdateDataSetPermissions",
)

Columns = dict[str, list[tuple[str, str]]]  # view -> [(column, QuickSight type)]
DATA_SOURCE_ID = "brightcart-warehouse"  # the Redshift data source the stack defines


def data_source_arn(region: str, account: str) -> str:
    return f"arn:aws:quicksight:{region}:{account}:datasource/{DATA_SOURCE_ID}"


class DataSetDefinitionError(ValueError):
    """A bi view's column cannot be typed for QuickSight; the message names view and column."""


def quicksight_type(view: str, column: str, sql_type: str) -> str:
    """sqlglot's type name (INT, DECIMAL, TIMESTAMPTZ, ...) as a QuickSight input type."""
    base = sql_type.upper().split("(")[0].strip()
    if base not in QUICKSIGHT_TYPES:
        raise DataSetDefinitionError(
            f"{view}.{column}: SQL type {sql_type!r} has no QuickSight type; cast it in the view "
            "or add it to QUICKSIGHT_TYPES"
        )
    return QUICKSIGHT_TYPES[base]


@lru_cache(maxsize=4)
def _project_columns(
    project: str, views: tuple[str, ...]
) -> tuple[tuple[str, tuple[tuple[str, str], ...]], ...]:
    from sqlmesh import Context

    context = Context(paths=project)
    found = []
    for view in views:
        model = context.get_model(view)
        if model is None:
            raise DataSetDefinitionError(f"{view}: no such model in {project}")
        typed = tuple(
            (name, quicksight_type(view, name, data_type.this.name))
            for name, data_type in (model.columns_to_types or {}).items()
        )
        if not typed:
            raise DataSetDefinitionError(f"{view}: SQLMesh could not infer its columns")
        found.append((view, typed))
    return tuple(found)


def view_columns(maps: DatasetMap, project: Path) -> Columns:
    """Column names and QuickSight types of every mapped view, from the SQLMesh project."""
    views = tuple(sorted(d.view for d in maps.datasets.values()))
    return {view: list(columns) for view, columns in _project_columns(str(project), views)}


def data_set_definition(
    dataset: Dataset,
    columns: list[tuple[str, str]],
    data_source_arn: str,
    owner_arn: str | None = None,
) -> dict[str, Any]:
    """The DataSet properties (CloudFormation) = the create_data_set arguments (API)."""
    schema, table = dataset.view.split(".")
    table_id = dataset.name.replace("_", "-")
    definition: dict[str, Any] = {
        "DataSetId": dataset.quicksight_id,
        "Name": f"BrightCart {dataset.name.replace('_', ' ')}",
        "ImportMode": "SPICE",
        "PhysicalTableMap": {
            table_id: {
                "RelationalTable": {
                    "DataSourceArn": data_source_arn,
                    "Schema": schema,
                    "Name": table,
                    "InputColumns": [{"Name": n, "Type": t} for n, t in columns],
                }
            }
        },
    }
    if owner_arn:
        definition["Permissions"] = [{"Principal": owner_arn, "Actions": list(OWNER_ACTIONS)}]
    return definition


def data_set_definitions(
    maps: DatasetMap,
    columns: Mapping[str, list[tuple[str, str]]],
    data_source_arn: str,
    owner_arn: str | None = None,
) -> list[dict[str, Any]]:
    """One definition per dataset of the map, in the map's order."""
    return [
        data_set_definition(d, list(columns[d.view]), data_source_arn, owner_arn)
        for d in maps.datasets.values()
    ]
