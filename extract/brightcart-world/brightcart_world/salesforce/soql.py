"""A SOQL subset: what tap-salesforce sends, parsed into SQL over the sfdc.* tables.

Grammar (keywords case-insensitive):
    SELECT f1, f2, ... FROM Object
    [WHERE field op literal [AND field op literal ...]]
    [ORDER BY field [ASC|DESC]] [LIMIT n]
op is one of = != < <= > >=; a literal is a datetime (2026-01-01T00:00:00Z, fractions and
+hhmm offsets allowed), a date, a 'quoted string', a number, true, false or null.
Field and object names are checked against the object catalogue, values are bound parameters.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from psycopg import sql

from brightcart_world.salesforce.objects import OBJECTS, SObject


class SoqlError(ValueError):
    """A query the emulator cannot run; error_code is the Salesforce errorCode to answer with."""

    def __init__(self, error_code: str, message: str) -> None:
        super().__init__(message)
        self.error_code = error_code


_QUERY = re.compile(
    r"^\s*SELECT\s+(?P<fields>.+?)\s+FROM\s+(?P<object>\w+)"
    r"(?:\s+WHERE\s+(?P<where>.+?))?"
    r"(?:\s+ORDER\s+BY\s+(?P<order>\w+)(?:\s+(?P<direction>ASC|DESC))?)?"
    r"(?:\s+LIMIT\s+(?P<limit>\d+))?\s*$",
    re.IGNORECASE | re.DOTALL,
)
_CONDITION = re.compile(r"^\s*(?P<field>\w+)\s*(?P<op>!=|<=|>=|=|<|>)\s*(?P<value>.+?)\s*$")
_DATETIME = re.compile(r"^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d+)?(Z|[+-]\d{2}:?\d{2})$")
_DATE = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_NUMBER = re.compile(r"^-?\d+(\.\d+)?$")
_SQL_OPS = {"=": "=", "!=": "<>", "<": "<", "<=": "<=", ">": ">", ">=": ">="}


@dataclass(frozen=True)
class Condition:
    field: str
    op: str
    value: Any


@dataclass(frozen=True)
class Query:
    """A parsed SOQL query."""

    sobject: SObject
    fields: tuple[str, ...]
    conditions: tuple[Condition, ...]
    order_by: str | None
    descending: bool
    limit: int | None

    def to_sql(self, include_deleted: bool) -> tuple[sql.Composed, list[Any]]:
        """SQL and bind parameters; query (not queryAll) hides rows with IsDeleted = true."""
        where: list[sql.Composable] = []
        params: list[Any] = []
        for c in self.conditions:
            if c.value is None:
                if c.op not in ("=", "!="):
                    raise SoqlError("MALFORMED_QUERY", f"null needs = or != in {c.field}")
                where.append(
                    sql.SQL("{} IS {}NULL").format(
                        sql.Identifier(c.field), sql.SQL("NOT " if c.op == "!=" else "")
                    )
                )
                continue
            where.append(
                sql.SQL("{} {} %s").format(sql.Identifier(c.field), sql.SQL(_SQL_OPS[c.op]))
            )
            params.append(c.value)
        if not include_deleted:
            where.append(sql.SQL('NOT "IsDeleted"'))
        order = self.order_by or "Id"
        template = "SELECT {fields} FROM sfdc.{table}{where} ORDER BY {order} {dir}, {id}"
        query = sql.SQL(template).format(
            fields=sql.SQL(", ").join(sql.Identifier(f) for f in self.fields),
            table=sql.Identifier(self.sobject.name),
            where=sql.SQL(" WHERE ") + sql.SQL(" AND ").join(where) if where else sql.SQL(""),
            order=sql.Identifier(order),
            dir=sql.SQL("DESC" if self.descending else "ASC"),
            id=sql.Identifier("Id"),
        )
        if self.limit is not None:
            query = query + sql.SQL(" LIMIT %s")
            params.append(self.limit)
        return query, params


def _literal(text: str) -> Any:
    lowered = text.lower()
    if lowered == "null":
        return None
    if lowered in ("true", "false"):
        return lowered == "true"
    if _DATETIME.match(text):
        return datetime.fromisoformat(text)
    if _DATE.match(text):
        return date.fromisoformat(text)
    if len(text) >= 2 and text[0] == text[-1] == "'":
        return text[1:-1].replace("\\'", "'").replace("\\\\", "\\")
    if _NUMBER.match(text):
        return float(text) if "." in text else int(text)
    raise SoqlError("MALFORMED_QUERY", f"unexpected literal {text!r}")


def _field(obj: SObject, name: str) -> str:
    for known in obj.fields:
        if known.lower() == name.lower():
            return known
    raise SoqlError(
        "INVALID_FIELD", f"No such column '{name}' on entity '{obj.name}'. Check the spelling."
    )


def parse(text: str) -> Query:
    """Parse a SOQL query or raise SoqlError with a Salesforce errorCode."""
    m = _QUERY.match(text)
    if m is None:
        raise SoqlError("MALFORMED_QUERY", f"unsupported SOQL (SELECT ... FROM ... only): {text}")
    obj = next((o for n, o in OBJECTS.items() if n.lower() == m["object"].lower()), None)
    if obj is None:
        raise SoqlError(
            "INVALID_TYPE", f"sObject type '{m['object']}' is not supported by this emulator."
        )
    fields = tuple(_field(obj, f.strip()) for f in m["fields"].split(","))
    conditions: list[Condition] = []
    if m["where"]:
        for part in re.split(r"\s+AND\s+", m["where"].strip(), flags=re.IGNORECASE):
            c = _CONDITION.match(part)
            if c is None:
                raise SoqlError("MALFORMED_QUERY", f"unsupported condition {part!r} (use AND only)")
            conditions.append(Condition(_field(obj, c["field"]), c["op"], _literal(c["value"])))
    return Query(
        sobject=obj,
        fields=fields,
        conditions=tuple(conditions),
        order_by=_field(obj, m["order"]) if m["order"] else None,
        descending=(m["direction"] or "").upper() == "DESC",
        limit=int(m["limit"]) if m["limit"] else None,
    )
