"""The dataset map (ops/bi_datasets.yaml): BI dataset -> bi view -> dashboard(s), SLAs, limits.

One file says which view backs which dataset, which dashboards read it, how it is refreshed
(``ops-hourly`` or ``exec-daily``) and the limits of the BI tool. Everything that publishes,
traces lineage or checks SLAs reads it through :func:`load`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from brightcart_ops.settings import PROJECT_ROOT

DEFAULT_PATH = PROJECT_ROOT / "ops" / "bi_datasets.yaml"
REFRESH_MODES = ("ops-hourly", "exec-daily")


class DatasetMapError(ValueError):
    """The dataset map is malformed; the message names the file and the entry."""


@dataclass(frozen=True)
class Limits:
    max_refreshes_per_hour: int = 40
    daily_quota_per_dataset: int = 32
    coalesce_minutes: float = 5.0


@dataclass(frozen=True)
class Sla:
    mode: str
    max_age_minutes: float = 90.0  # ops-hourly
    at_risk_ratio: float = 0.75  # ops-hourly
    due_utc: str = "06:00"  # exec-daily
    at_risk_minutes: float = 60.0  # exec-daily

    @property
    def due_hour_minute(self) -> tuple[int, int]:
        hour, minute = self.due_utc.split(":")
        return int(hour), int(minute)


@dataclass(frozen=True)
class Chart:
    dataset: str
    x: str
    y: str
    title: str
    kind: str = "line"  # line or bar


@dataclass(frozen=True)
class Dashboard:
    name: str
    title: str
    audience: str = ""
    charts: tuple[Chart, ...] = ()


@dataclass(frozen=True)
class Dataset:
    name: str
    view: str  # schema.view in the warehouse
    quicksight_id: str
    dashboards: tuple[str, ...]
    refresh: str  # ops-hourly or exec-daily


@dataclass(frozen=True)
class DatasetMap:
    path: Path
    datasets: dict[str, Dataset]
    dashboards: dict[str, Dashboard]
    slas: dict[str, Sla]
    limits: Limits = Limits()

    def sla(self, dataset: Dataset) -> Sla:
        return self.slas[dataset.refresh]

    def datasets_of(self, dashboard: str) -> list[Dataset]:
        if dashboard not in self.dashboards:
            raise KeyError(f"unknown dashboard {dashboard!r}; known: {sorted(self.dashboards)}")
        return [d for d in self.datasets.values() if dashboard in d.dashboards]

    def by_view(self) -> dict[str, Dataset]:
        return {d.view: d for d in self.datasets.values()}


def default_path() -> Path:
    return Path(os.environ.get("BRIGHTCART_BI_DATASETS") or DEFAULT_PATH)


def _require(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise DatasetMapError(f"{where}: missing {key!r}")
    return entry[key]


def load(path: Path | None = None) -> DatasetMap:
    """Read and validate the map; errors name the file and the offending entry."""
    path = path or default_path()
    if not path.exists():
        raise DatasetMapError(f"{path}: dataset map not found (set BRIGHTCART_BI_DATASETS)")
    raw = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    limits = Limits(**(raw.get("limits") or {}))
    slas = {mode: Sla(mode=mode, **(spec or {})) for mode, spec in (raw.get("slas") or {}).items()}
    for mode in REFRESH_MODES:
        slas.setdefault(mode, Sla(mode=mode))
    dashboards: dict[str, Dashboard] = {}
    for name, spec in (raw.get("dashboards") or {}).items():
        spec = spec or {}
        charts = tuple(
            Chart(**{k: str(v) for k, v in chart.items()}) for chart in spec.get("charts") or []
        )
        dashboards[name] = Dashboard(
            name=name,
            title=str(spec.get("title", name)),
            audience=str(spec.get("audience", "")),
            charts=charts,
        )
    datasets: dict[str, Dataset] = {}
    for name, spec in (raw.get("datasets") or {}).items():
        where = f"{path}: dataset {name!r}"
        refresh = str(_require(spec, "refresh", where))
        if refresh not in REFRESH_MODES:
            raise DatasetMapError(f"{where}: refresh {refresh!r} not in {REFRESH_MODES}")
        view = str(_require(spec, "view", where)).lower()
        if view.count(".") != 1:
            raise DatasetMapError(f"{where}: view {view!r} must be schema.view")
        names = tuple(str(d) for d in _require(spec, "dashboards", where))
        for board in names:
            if board not in dashboards:
                raise DatasetMapError(f"{where}: dashboard {board!r} is not declared")
        datasets[name] = Dataset(
            name=name,
            view=view,
            quicksight_id=str(spec.get("quicksight_id") or name),
            dashboards=names,
            refresh=refresh,
        )
    for dashboard in dashboards.values():
        for chart in dashboard.charts:
            if chart.dataset not in datasets:
                raise DatasetMapError(
                    f"{path}: dashboard {dashboard.name!r} charts unknown dataset {chart.dataset!r}"
                )
    if raw.get("sources"):
        raise DatasetMapError(
            f"{path}: `sources` (a lane's allowed lag) moved to the lane registry in meltano.yml "
            "(the lane job's `annotations: brightcart: lane: max_lag_minutes`); remove it here"
        )
    return DatasetMap(path, datasets, dashboards, slas, limits)
