"""The generated SQL text (Redshift and DuckDB) and the JSON-schema type mapping."""

from __future__ import annotations

import pytest

from target_redshift.columns import LogicalType, SchemaError, columns_for_schema, widen
from target_redshift.dialect import DuckDBDialect, RedshiftDialect

ROLE = "arn:aws:iam::123456789012:role/brightcart-copy"


def test_type_mapping_follows_the_contract() -> None:
    schema = {
        "properties": {
            "Id": {"type": "integer"},
            "amount": {"type": ["null", "number"]},
            "price": {"type": ["null", "string"], "format": "x-singer.decimal"},
            "name": {"type": "string"},
            "updated_at": {"type": "string", "format": "date-time"},
            "day": {"type": ["string", "null"], "format": "date"},
            "active": {"type": "boolean"},
            "payload": {"type": "object"},
            "tags": {"type": ["array", "null"]},
            "ts_any": {"anyOf": [{"type": "string", "format": "date-time"}, {"type": "null"}]},
        }
    }
    got = {c.name: c.type for c in columns_for_schema(schema)}
    assert got == {
        "id": LogicalType.BIGINT,
        "amount": LogicalType.DECIMAL,
        "price": LogicalType.DECIMAL,
        "name": LogicalType.VARCHAR,
        "updated_at": LogicalType.TIMESTAMPTZ,
        "day": LogicalType.DATE,
        "active": LogicalType.BOOLEAN,
        "payload": LogicalType.JSON,
        "tags": LogicalType.JSON,
        "ts_any": LogicalType.TIMESTAMPTZ,
    }


def test_properties_differing_only_by_case_are_refused() -> None:
    with pytest.raises(SchemaError, match="'id'"):
        columns_for_schema({"properties": {"Id": {"type": "integer"}, "ID": {"type": "string"}}})


def test_widening_never_narrows() -> None:
    assert widen(LogicalType.BIGINT, LogicalType.DECIMAL) == LogicalType.DECIMAL
    assert widen(LogicalType.DECIMAL, LogicalType.BIGINT) == LogicalType.DECIMAL
    assert widen(LogicalType.DATE, LogicalType.TIMESTAMPTZ) == LogicalType.TIMESTAMPTZ
    assert widen(LogicalType.BOOLEAN, LogicalType.BIGINT) == LogicalType.VARCHAR
    assert widen(LogicalType.VARCHAR, LogicalType.BIGINT) == LogicalType.VARCHAR


def test_redshift_copy_uses_iam_role_and_parquet() -> None:
    sql = RedshiftDialect(ROLE, "eu-west-1").bulk_load("tmp_orders_1", "s3://bkt/p/x.parquet")
    assert sql == (
        f"COPY \"tmp_orders_1\" FROM 's3://bkt/p/x.parquet' IAM_ROLE '{ROLE}' "
        "FORMAT AS PARQUET REGION 'eu-west-1'"
    )
    with pytest.raises(ValueError, match="S3 only"):
        RedshiftDialect(ROLE).bulk_load("t", "/tmp/x.parquet")


def test_redshift_merge_inserts_only_missing_versions() -> None:
    columns = [("order_id", LogicalType.BIGINT), ("payload", LogicalType.JSON)]
    sql = RedshiftDialect(ROLE).merge("raw_shop", "orders", "tmp", columns, ["order_id"])
    assert sql == (
        'INSERT INTO "raw_shop"."orders" ("order_id", "payload") '
        'SELECT s."order_id", JSON_PARSE(s."payload") FROM "tmp" AS s '
        'WHERE NOT EXISTS (SELECT 1 FROM "raw_shop"."orders" AS t WHERE '
        '(t."order_id" = s."order_id" OR (t."order_id" IS NULL AND s."order_id" IS NULL)))'
    )
    duck = DuckDBDialect().merge("raw_shop", "orders", "tmp", columns, ["order_id"])
    assert 't."order_id" IS NOT DISTINCT FROM s."order_id"' in duck
    assert "JSON_PARSE" not in duck


def test_redshift_types_and_staging_table() -> None:
    dialect = RedshiftDialect(ROLE)
    columns = [("p", LogicalType.JSON), ("s", LogicalType.VARCHAR), ("d", LogicalType.DECIMAL)]
    assert dialect.create_table("raw_crm", "account", columns) == (
        'CREATE TABLE IF NOT EXISTS "raw_crm"."account" '
        '("p" SUPER, "s" VARCHAR(65535), "d" DECIMAL(38,9))'
    )
    assert dialect.create_temp_table("tmp", columns) == (
        'CREATE TEMP TABLE "tmp" ("p" VARCHAR(65535), "s" VARCHAR(65535), "d" DECIMAL(38,9))'
    )


def test_redshift_alter_statements() -> None:
    dialect = RedshiftDialect(ROLE)
    assert dialect.add_column("raw_shop", "orders", "channel", LogicalType.VARCHAR) == (
        'ALTER TABLE "raw_shop"."orders" ADD COLUMN "channel" VARCHAR(65535)'
    )
    assert dialect.widen_column("raw_shop", "orders", "qty", LogicalType.DECIMAL) == [
        'ALTER TABLE "raw_shop"."orders" ADD COLUMN "qty__widened" DECIMAL(38,9)',
        'UPDATE "raw_shop"."orders" SET "qty__widened" = CAST("qty" AS DECIMAL(38,9))',
        'ALTER TABLE "raw_shop"."orders" DROP COLUMN "qty"',
        'ALTER TABLE "raw_shop"."orders" RENAME COLUMN "qty__widened" TO "qty"',
    ]
    assert DuckDBDialect().widen_column("raw_shop", "orders", "qty", LogicalType.DECIMAL) == [
        'ALTER TABLE "raw_shop"."orders" ALTER COLUMN "qty" SET DATA TYPE DECIMAL(38,9)'
    ]
