"""Where a dataset refresh goes: QuickSight SPICE ingestions, or a local HTML snapshot."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from brightcart_ops.publish.datasets import Dataset, DatasetMap
from brightcart_ops.publish.log import Decision, LastRefresh
from brightcart_ops.warehouse import Warehouse


class RefreshError(RuntimeError):
    """The BI tool refused a refresh; the message says why and what to check."""


class Adapter(Protocol):
    name: str

    def refresh(self, dataset: Dataset, decision: Decision, ingestion_id: str) -> str:
        """Start or perform the refresh; return its status (started or succeeded)."""
        ...

    def in_flight(self, dataset: Dataset, last: LastRefresh) -> bool:
        """True when the last refresh of the dataset is still running."""
        ...

    def finish(self, refreshed: list[Decision]) -> None:
        """Called once after all refreshes of a publish call."""
        ...


def choose(maps: DatasetMap, warehouse: Warehouse, kind: str | None = None) -> Adapter:
    """BRIGHTCART_BI=local (default) or quicksight."""
    kind = (kind or os.environ.get("BRIGHTCART_BI") or "local").lower()
    if kind == "quicksight":
        from brightcart_ops.publish.adapters.quicksight import QuickSightAdapter

        return QuickSightAdapter()
    if kind == "local":
        from brightcart_ops.publish.adapters.local import LocalSnapshotAdapter

        home = Path(os.environ.get("BRIGHTCART_HOME") or warehouse.settings.home)
        return LocalSnapshotAdapter(maps, warehouse, home / "dashboards")
    raise ValueError(f"BRIGHTCART_BI={kind!r}: expected 'local' or 'quicksight'")
