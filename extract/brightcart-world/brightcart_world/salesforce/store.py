"""Reads sfdc.* rows for a parsed query and shapes them as Salesforce REST records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, date, datetime
from decimal import Decimal
from typing import Any

import psycopg

from brightcart_world.salesforce.objects import API_VERSION
from brightcart_world.salesforce.soql import Query


class SourceUnavailableError(RuntimeError):
    """The source database cannot be reached or lacks the sfdc schema."""


def _json_value(value: Any) -> Any:
    """Salesforce wire format: datetimes as 2026-01-01T00:00:00.000+0000, numbers as numbers."""
    if isinstance(value, datetime):
        utc = value.astimezone(UTC)
        return utc.strftime("%Y-%m-%dT%H:%M:%S.") + f"{utc.microsecond // 1000:03d}+0000"
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


def fetch_records(dsn: str, query: Query, include_deleted: bool) -> list[dict[str, Any]]:
    """All records matching the query, in order, each with its `attributes`."""
    with_id = replace(query, fields=(*query.fields, "Id"))
    statement, params = with_id.to_sql(include_deleted)
    try:
        with psycopg.connect(dsn, autocommit=True, connect_timeout=10) as conn:
            rows = conn.execute(statement, params).fetchall()
    except psycopg.errors.UndefinedTable as exc:
        raise SourceUnavailableError(
            f"table sfdc.{query.sobject.name} is missing: apply brightcart_world/sql/sfdc.sql "
            "to the source database"
        ) from exc
    except psycopg.OperationalError as exc:
        raise SourceUnavailableError(
            f"cannot reach the source database ({exc}); check --dsn and that PostgreSQL runs"
        ) from exc
    base = f"/services/data/v{API_VERSION}/sobjects/{query.sobject.name}"
    records = []
    for row in rows:
        values = dict(zip(query.fields, row[:-1], strict=True))
        record_id = row[-1]
        record: dict[str, Any] = {
            "attributes": {"type": query.sobject.name, "url": f"{base}/{record_id}"}
        }
        record.update({k: _json_value(v) for k, v in values.items()})
        records.append(record)
    return records
