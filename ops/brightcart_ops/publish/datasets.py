"""The dataset map (ops/bi_datasets.yaml): BI dataset -> bi view -> dashboard(s), SLAs, limits.

One file says which view backs which dataset, which dashboards read it, how it is refreshed
(``ops-hourly`` or ``exec-daily``) and the limits of the BI tool. Everything that publishes,
traces lineage or checks SLAs reads it through :func:`load`.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from brightcart_ops.publish.page_spec import ChartSpec, PageSpec, PageSpecError, parse_page
from brightcart_ops.settings import PROJECT_ROOT
from brightcart_ops.yamlfile import read_yaml

DEFAULT_PATH = PROJECT_ROOT / "ops" / "bi_datasets.yaml"
REFRESH_MODES = ("ops-hourly", "exec-daily")
TIME_GRAINS = ("hour", "day", "month")


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


Chart = ChartSpec  # a dashboard chart (see brightcart_ops.publish.page_spec)


@dataclass(frozen=True)
class Dashboard:
    name: str
    title: str
    audience: str = ""
    page: PageSpec = field(default_factory=PageSpec)

    @property
    def charts(self) -> tuple[ChartSpec, ...]:
        return self.page.charts

    @property
    def has_page(self) -> bool:
        return bool(self.page.charts or self.page.tiles)


@dataclass(frozen=True)
class Dataset:
    name: str
    view: str  # schema.view in the warehouse
    quicksight_id: str
    dashboards: tuple[str, ...]
    refresh: str  # ops-hourly or exec-daily
    time_column: str | None = None  # the view's business-time column (tiles, charts)
    grain: str | None = None  # hour, day or month: one value of time_column per ...


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
    raw = read_yaml(path) or {}
    limits = Limits(**(raw.get("limits") or {}))
    slas = {mode: Sla(mode=mode, **(spec or {})) for mode, spec in (raw.get("slas") or {}).items()}
    for mode in REFRESH_MODES:
        slas.setdefault(mode, Sla(mode=mode))
    dashboards: dict[str, Dashboard] = {}
    for name, spec in (raw.get("dashboards") or {}).items():
        spec = spec or {}
        try:
            page = parse_page(spec, f"{path}: dashboard {name!r}")
        except PageSpecError as error:
            raise DatasetMapError(str(error)) from error
        dashboards[name] = Dashboard(
            name=name,
            title=str(spec.get("title", name)),
            audience=str(spec.get("audience", "")),
            page=page,
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
        grain = spec.get("grain")
        if grain is not None and grain not in TIME_GRAINS:
            raise DatasetMapError(f"{where}: grain {grain!r} not in {TIME_GRAINS}")
        datasets[name] = Dataset(
            name=name,
            view=view,
            quicksight_id=str(spec.get("quicksight_id") or name),
            dashboards=names,
            refresh=refresh,
            time_column=str(spec["time"]) if spec.get("time") else None,
            grain=str(grain) if grain else None,
        )
    for dashboard in dashboards.values():
        for used in dashboard.page.datasets:
            if used not in datasets:
                raise DatasetMapError(
                    f"{path}: dashboard {dashboard.name!r} reads unknown dataset {used!r}"
                )
            if dashboard.name not in datasets[used].dashboards:
                raise DatasetMapError(
                    f"{path}: dashboard {dashboard.name!r} reads dataset {used!r}; add "
                    f"{dashboard.name!r} to that dataset's dashboards so a refresh re-renders it"
                )
    if raw.get("sources"):
        raise DatasetMapError(
            f"{path}: `sources` (a lane's allowed lag) moved to the lane registry in meltano.yml "
            "(the lane job's `annotations: brightcart: lane: max_lag_minutes`); remove it here"
        )
    return DatasetMap(path, datasets, dashboards, slas, limits)
