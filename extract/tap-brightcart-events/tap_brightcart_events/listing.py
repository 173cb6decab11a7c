"""List the events objects under the prefix, partition by partition.

Keys look like `<prefix>dt=YYYY-MM-DD/hour=HH/<name>`. A partition is named `dt=YYYY-MM-DD/hour=HH`
and partitions sort by time as strings. Keys under the prefix that do not fit that layout are
reported so that someone can look at them; they are never read.
"""

from __future__ import annotations

import re
import typing as t
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

PARTITION_RE = re.compile(r"^dt=(\d{4}-\d{2}-\d{2})/hour=(\d{2})/([^/]+)$")


@dataclass(frozen=True, slots=True)
class S3Object:
    """One listed object: full key, its partition, file name, size and LastModified."""

    key: str
    partition: str
    name: str
    size: int
    last_modified: str


def partition_name(moment: datetime) -> str:
    """The partition holding a UTC moment, e.g. `dt=2026-11-01/hour=03`."""
    return moment.astimezone(UTC).strftime("dt=%Y-%m-%d/hour=%H")


def partition_start(partition: str) -> datetime:
    """The UTC start of a partition named `dt=YYYY-MM-DD/hour=HH`."""
    return datetime.strptime(partition, "dt=%Y-%m-%d/hour=%H").replace(tzinfo=UTC)


def shift_partition(partition: str, hours: int) -> str:
    """The partition `hours` earlier (negative) or later (positive) than `partition`."""
    return partition_name(partition_start(partition) + timedelta(hours=hours))


def _iso(moment: datetime) -> str:
    return moment.astimezone(UTC).isoformat()


def list_objects(
    client: t.Any, bucket: str, prefix: str, from_partition: str | None
) -> tuple[list[S3Object], list[str]]:
    """All objects in partitions >= from_partition (all when None), sorted by key.

    Returns (objects, keys that do not follow the partition layout).
    """
    kwargs: dict[str, t.Any] = {"Bucket": bucket, "Prefix": prefix}
    if from_partition is not None:
        # Every key of `from_partition` sorts after `<prefix><from_partition>`.
        kwargs["StartAfter"] = prefix + from_partition
    objects: list[S3Object] = []
    strays: list[str] = []
    for page in client.get_paginator("list_objects_v2").paginate(**kwargs):
        for item in page.get("Contents", []):
            key: str = item["Key"]
            match = PARTITION_RE.match(key[len(prefix) :])
            if match is None:
                strays.append(key)
                continue
            day, hour, name = match.groups()
            try:
                partition_start(f"dt={day}/hour={hour}")
            except ValueError:
                strays.append(key)
                continue
            objects.append(
                S3Object(
                    key=key,
                    partition=f"dt={day}/hour={hour}",
                    name=name,
                    size=int(item.get("Size", 0)),
                    last_modified=_iso(item["LastModified"]),
                )
            )
    objects.sort(key=lambda o: o.key)
    return objects, strays
