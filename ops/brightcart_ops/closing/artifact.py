"""A finance mart's month as a CSV artifact in a fixed row order, stored and recorded at close.

Rows are the mart's rows whose time column falls in the month, every column in the mart's order,
sorted by all columns (NULLs first); values are written the same way every time (decimals as the
warehouse returns them, timestamps in UTC ISO 8601, NULL as an empty field). The same rows thus
give the same bytes, and the sha256 of the file is the month's checksum for that mart.

Artifacts live in $BRIGHTCART_HOME/month-close/<month>/<close id>/<schema>.<table>.csv and, with
BRIGHTCART_AUDIT_BUCKET set, in that Object Lock bucket under month-close/ (COMPLIANCE mode for
BRIGHTCART_AUDIT_RETAIN_DAYS, 7 years by default), where the recorded location then points.
"""

from __future__ import annotations

import csv
import hashlib
import io
import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from brightcart_ops.opslog import SCHEMA, ensure, utcnow
from brightcart_ops.warehouse import Warehouse

ARTIFACTS_DDL = f"""
CREATE TABLE IF NOT EXISTS {SCHEMA}.month_close_artifacts (
    close_id VARCHAR NOT NULL,
    month VARCHAR NOT NULL,
    model VARCHAR NOT NULL,                 -- schema.table of the finance mart
    fingerprint VARCHAR NOT NULL,           -- its SQLMesh fingerprint at close
    version VARCHAR NOT NULL,               -- its SQLMesh version at close
    time_column VARCHAR NOT NULL,
    grain VARCHAR NOT NULL,                 -- comma-separated key columns
    row_count BIGINT NOT NULL,
    sha256 VARCHAR NOT NULL,                -- of the CSV bytes
    location VARCHAR(1024) NOT NULL,        -- file path or s3:// URL
    exported_at TIMESTAMPTZ NOT NULL
)
"""
BATCH_ROWS = 10_000


@dataclass
class Artifact:
    model: str
    data: bytes
    row_count: int

    @property
    def sha256(self) -> str:
        return hashlib.sha256(self.data).hexdigest()


def cell(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, datetime):
        return value.astimezone(UTC).isoformat() if value.tzinfo else value.isoformat()
    if isinstance(value, date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    return str(value)


def month_window(month: str) -> tuple[date, date]:
    year, mon = (int(p) for p in month.split("-"))
    first = date(year, mon, 1)
    return first, (first + timedelta(days=32)).replace(day=1)


def export(
    warehouse: Warehouse, relation: str, time_column: str, month: str, model: str
) -> Artifact:
    """The month of `relation` (a table or view) as CSV bytes."""
    first, nxt = month_window(month)
    where = (
        f" WHERE {time_column} >= CAST('{first.isoformat()} 00:00:00' AS TIMESTAMP) AND "
        f"{time_column} < CAST('{nxt.isoformat()} 00:00:00' AS TIMESTAMP)"
    )
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    rows = 0
    with warehouse.connect() as con:
        cur = con.cursor()
        cur.execute(f"SELECT * FROM {relation} WHERE 1 = 0")
        header = [str(d[0]) for d in cur.description]
        order = ", ".join(f"{i} NULLS FIRST" for i in range(1, len(header) + 1))
        cur.execute(f"SELECT * FROM {relation}{where} ORDER BY {order}")
        writer.writerow(header)
        while batch := cur.fetchmany(BATCH_ROWS):
            writer.writerows([cell(v) for v in row] for row in batch)
            rows += len(batch)
    return Artifact(model, buffer.getvalue().encode("utf-8"), rows)


def store(artifact: Artifact, month: str, close_id: str, home: Path) -> str:
    """Write the artifact where closes keep theirs; returns its location."""
    name = f"{artifact.model}.csv"
    bucket = os.environ.get("BRIGHTCART_AUDIT_BUCKET")
    if bucket:
        import boto3

        key = f"month-close/{month}/{close_id}/{name}"
        retain = int(os.environ.get("BRIGHTCART_AUDIT_RETAIN_DAYS", "2557"))
        boto3.client("s3").put_object(
            Bucket=bucket,
            Key=key,
            Body=artifact.data,
            ContentType="text/csv",
            ObjectLockMode="COMPLIANCE",
            ObjectLockRetainUntilDate=utcnow() + timedelta(days=retain),
            ChecksumAlgorithm="SHA256",
        )
        return f"s3://{bucket}/{key}"
    folder = home / "month-close" / month / close_id
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_bytes(artifact.data)
    return str(path)


def load(location: str) -> bytes:
    if location.startswith("s3://"):
        import boto3

        bucket, _, key = location[len("s3://") :].partition("/")
        body: bytes = boto3.client("s3").get_object(Bucket=bucket, Key=key)["Body"].read()
        return body
    return Path(location).read_bytes()


@dataclass
class RecordedArtifact:
    close_id: str
    month: str
    model: str
    fingerprint: str
    version: str
    time_column: str
    grain: tuple[str, ...]
    row_count: int
    sha256: str
    location: str


def record(warehouse: Warehouse, item: RecordedArtifact) -> None:
    ensure(warehouse, [ARTIFACTS_DDL])
    warehouse.execute(
        f"INSERT INTO {SCHEMA}.month_close_artifacts VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        (
            item.close_id,
            item.month,
            item.model,
            item.fingerprint,
            item.version,
            item.time_column,
            ",".join(item.grain),
            item.row_count,
            item.sha256,
            item.location,
            utcnow(),
        ),
    )


def recorded(warehouse: Warehouse, close_id: str) -> list[RecordedArtifact]:
    ensure(warehouse, [ARTIFACTS_DDL])
    rows = warehouse.query(
        "SELECT close_id, month, model, fingerprint, version, time_column, grain, row_count, "
        f"sha256, location FROM {SCHEMA}.month_close_artifacts WHERE close_id = ? ORDER BY model",
        (close_id,),
    )
    return [
        RecordedArtifact(
            str(r[0]),
            str(r[1]),
            str(r[2]),
            str(r[3]),
            str(r[4]),
            str(r[5]),
            tuple(g for g in str(r[6]).split(",") if g),
            int(r[7]),
            str(r[8]),
            str(r[9]),
        )
        for r in rows
    ]


def _rows(data: bytes) -> tuple[list[str], list[tuple[str, ...]]]:
    reader = csv.reader(io.StringIO(data.decode("utf-8")))
    header = next(reader, [])
    return header, [tuple(r) for r in reader]


def _describe(header: Sequence[str], row: Sequence[str], columns: Sequence[str]) -> str:
    return ", ".join(f"{c}={row[header.index(c)]}" for c in columns if c in header)


def differing_rows(before: bytes, after: bytes, grain: Sequence[str]) -> list[str]:
    """The rows that differ, paired by the mart's grain: changed values, rows only on one side."""
    header, old = _rows(before)
    new_header, new = _rows(after)
    if header != new_header:
        return [f"columns differ: at close {','.join(header)}; now {','.join(new_header)}"]
    removed = Counter(old) - Counter(new)
    added = Counter(new) - Counter(old)
    keys = [c for c in grain if c in header] or list(header)

    def key(row: tuple[str, ...]) -> tuple[str, ...]:
        return tuple(row[header.index(c)] for c in keys)

    added_by_key = {key(r): r for r in added.elements()}
    lines = []
    for row in sorted(removed.elements()):
        other = added_by_key.pop(key(row), None)
        if other is None:
            lines.append(f"only at close: {_describe(header, row, header)}")
            continue
        changes = [f"{c} {a} -> {b}" for c, a, b in zip(header, row, other, strict=True) if a != b]
        lines.append(f"changed {_describe(header, row, keys)}: {'; '.join(changes)}")
    for row in sorted(added_by_key.values()):
        lines.append(f"only now: {_describe(header, row, header)}")
    return lines
