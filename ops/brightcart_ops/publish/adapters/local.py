"""Local BI: each refresh snapshots a bi view to JSON; dashboards render from the snapshots.

Like SPICE, a dataset that is not refreshed keeps its last snapshot, so a failed run never changes
what a dashboard shows. Pages go to $BRIGHTCART_HOME/dashboards/: index.html links one page per
dashboard (executive.html, operations.html, ...), each with headline tiles against the previous
period, inline SVG charts with their numbers in a table, how old its data is on the business
clock, the model versions behind each dataset and the freshness of every source lane.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from brightcart_ops.landed import high_water_mark as lane_high_water_mark
from brightcart_ops.opslog import business_clock, business_now, utcnow
from brightcart_ops.publish.datasets import Dataset, DatasetMap
from brightcart_ops.publish.formatting import UNIT_NAME, format_duration, format_moment
from brightcart_ops.publish.log import Decision, LastRefresh
from brightcart_ops.publish.pages import PageView, build_page, window_label
from brightcart_ops.registry import registry
from brightcart_ops.warehouse import Warehouse

# A local snapshot holds the whole view (newest rows first if a view ever outgrows this); the
# page says so when rows were left out.
MAX_ROWS = 200_000


def _jsonable(value: Any) -> Any:
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, Decimal):
        return float(value)
    return value


@dataclass
class Snapshot:
    dataset: str
    view: str
    snapshot_id: str
    refreshed_at: str
    versions: dict[str, Any]
    data_through: str | None
    columns: list[str]
    rows: list[dict[str, Any]]
    truncated: bool = False


class LocalSnapshotAdapter:
    name = "local"

    def __init__(self, maps: DatasetMap, warehouse: Warehouse, out_dir: Path) -> None:
        self.maps = maps
        self.warehouse = warehouse
        self.out_dir = out_dir
        self.data_dir = out_dir / "data"

    def _read_view(self, dataset: Dataset) -> tuple[list[str], list[dict[str, Any]], bool]:
        order = f" ORDER BY {dataset.time_column} DESC" if dataset.time_column else ""
        with self.warehouse.connect() as con:
            cur = con.cursor()
            cur.execute(f"SELECT * FROM {dataset.view}{order} LIMIT {MAX_ROWS + 1}")
            columns = [d[0] for d in cur.description]
            rows = [
                {c: _jsonable(v) for c, v in zip(columns, row, strict=True)}
                for row in cur.fetchall()
            ]
        return columns, rows[:MAX_ROWS], len(rows) > MAX_ROWS

    def refresh(self, dataset: Dataset, decision: Decision, ingestion_id: str) -> str:
        columns, rows, truncated = self._read_view(dataset)
        snapshot = Snapshot(
            dataset=dataset.name,
            view=dataset.view,
            snapshot_id=ingestion_id,
            refreshed_at=utcnow().isoformat(),
            versions=decision.versions or {},
            data_through=decision.data_through.isoformat() if decision.data_through else None,
            columns=columns,
            rows=rows,
            truncated=truncated,
        )
        self.data_dir.mkdir(parents=True, exist_ok=True)
        target = self.data_dir / f"{dataset.name}.json"
        tmp = target.with_suffix(".json.tmp")
        tmp.write_text(json.dumps(snapshot.__dict__, default=str), encoding="utf-8")
        tmp.replace(target)
        return "succeeded"

    def in_flight(self, dataset: Dataset, last: LastRefresh) -> bool:
        return False  # local refreshes complete before refresh() returns

    def load_snapshot(self, dataset: str) -> Snapshot | None:
        path = self.data_dir / f"{dataset}.json"
        if not path.exists():
            return None
        return Snapshot(**json.loads(path.read_text(encoding="utf-8")))

    def finish(self, refreshed: list[Decision]) -> None:
        touched = {d for decision in refreshed for d in decision.dashboards}
        self.render(touched or None)

    def lane_freshness(self, now: datetime) -> list[dict[str, Any]]:
        rows = []
        for lane in registry().lanes.values():
            hwm = lane_high_water_mark(self.warehouse, lane.name)
            limit = lane.max_lag_minutes
            lag = now - hwm if hwm else None
            rows.append(
                {
                    "lane": lane.name,
                    "source": lane.source,
                    "high_water_mark": hwm.isoformat() if hwm else "",
                    "landed_to": format_moment(hwm) if hwm else "never loaded",
                    "lag": format_duration(lag) if lag is not None else "no load",
                    "late": lag is None or (limit is not None and lag.total_seconds() / 60 > limit),
                    "allowed": format_duration(timedelta(minutes=limit)) if limit else "no SLA",
                }
            )
        return rows

    def pages(self, now: datetime, drawn: set[str] | None = None) -> list[PageView]:
        """Every page; charts are drawn only for the `drawn` ones (all when None)."""
        clock = business_clock()
        return [
            build_page(
                self.maps,
                dashboard,
                self.load_snapshot,
                now,
                clock,
                with_charts=drawn is None or dashboard.name in drawn,
            )
            for dashboard in self.maps.dashboards.values()
            if dashboard.has_page
        ]

    def render(self, dashboards: set[str] | None = None) -> list[Path]:
        """Write the pages of the given dashboards (all when None) and the index."""
        env = Environment(
            loader=PackageLoader("brightcart_ops.publish", "templates"),
            autoescape=select_autoescape(["html", "j2"]),
        )
        env.filters["moment"] = format_moment
        env.filters["window_label"] = window_label
        env.filters["unit_name"] = UNIT_NAME.get
        self.out_dir.mkdir(parents=True, exist_ok=True)
        now = business_now()
        freshness = self.lane_freshness(now)
        written: list[Path] = []
        views = self.pages(now, dashboards)
        for view in views:
            if dashboards is not None and view.name not in dashboards:
                continue
            page = self.out_dir / f"{view.name}.html"
            html = env.get_template("dashboard.html.j2").render(
                page=view, pages=views, freshness=freshness, rendered_at=utcnow()
            )
            _write(page, html)
            written.append(page)
        index_page = self.out_dir / "index.html"
        html = env.get_template("index.html.j2").render(
            pages=[v for v in views if (self.out_dir / f"{v.name}.html").exists()],
            missing=[v for v in views if not (self.out_dir / f"{v.name}.html").exists()],
            snapshots=[(d, self.load_snapshot(n)) for n, d in self.maps.datasets.items()],
            freshness=freshness,
            now=now,
            clock=business_clock(),
            rendered_at=utcnow(),
        )
        _write(index_page, html)
        written.append(index_page)
        return written


def _write(path: Path, text: str) -> None:
    """Replace a page whole: a reader never sees half of one."""
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text, encoding="utf-8")
    tmp.replace(path)
