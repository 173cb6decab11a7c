"""Local BI: each refresh snapshots a bi view to JSON; dashboards render from the snapshots.

Like SPICE, a dataset that is not refreshed keeps its last snapshot, so a failed run never changes
what a dashboard shows. Pages go to $BRIGHTCART_HOME/dashboards/: index.html links one page per
dashboard (executive.html, operations.html, ...), each with inline SVG charts, the freshness of
every source lane (high-water marks) and the model versions behind each chart.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import date, datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

from jinja2 import Environment, PackageLoader, select_autoescape

from brightcart_ops.landed import high_water_mark as lane_high_water_mark
from brightcart_ops.opslog import business_now, utcnow
from brightcart_ops.publish.charts import series, svg_chart
from brightcart_ops.publish.datasets import Dataset, DatasetMap
from brightcart_ops.publish.log import Decision, LastRefresh
from brightcart_ops.registry import registry
from brightcart_ops.warehouse import Warehouse

MAX_ROWS = 5000


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


class LocalSnapshotAdapter:
    name = "local"

    def __init__(self, maps: DatasetMap, warehouse: Warehouse, out_dir: Path) -> None:
        self.maps = maps
        self.warehouse = warehouse
        self.out_dir = out_dir
        self.data_dir = out_dir / "data"

    def _read_view(self, view: str) -> tuple[list[str], list[dict[str, Any]]]:
        with self.warehouse.connect() as con:
            cur = con.cursor()
            cur.execute(f"SELECT * FROM {view} LIMIT {MAX_ROWS}")
            columns = [d[0] for d in cur.description]
            rows = [
                {c: _jsonable(v) for c, v in zip(columns, row, strict=True)}
                for row in cur.fetchall()
            ]
        return columns, rows

    def refresh(self, dataset: Dataset, decision: Decision, ingestion_id: str) -> str:
        columns, rows = self._read_view(dataset.view)
        snapshot = Snapshot(
            dataset=dataset.name,
            view=dataset.view,
            snapshot_id=ingestion_id,
            refreshed_at=utcnow().isoformat(),
            versions=decision.versions or {},
            data_through=decision.data_through.isoformat() if decision.data_through else None,
            columns=columns,
            rows=rows,
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

    def lane_freshness(self) -> list[dict[str, Any]]:
        now = business_now()
        rows = []
        for lane in registry().lanes.values():
            hwm = lane_high_water_mark(self.warehouse, lane.name)
            limit = lane.max_lag_minutes
            lag = (now - hwm).total_seconds() / 60 if hwm else None
            rows.append(
                {
                    "lane": lane.name,
                    "source": lane.source,
                    "high_water_mark": hwm.isoformat() if hwm else "never loaded",
                    "max_lag_minutes": limit,
                }
                | ({"lag_minutes": round(lag)} if lag is not None else {})
            )
        return rows

    def render(self, dashboards: set[str] | None = None) -> list[Path]:
        """Write the pages of the given dashboards (all when None) and the index."""
        env = Environment(
            loader=PackageLoader("brightcart_ops.publish", "templates"),
            autoescape=select_autoescape(["html", "j2"]),
        )
        self.out_dir.mkdir(parents=True, exist_ok=True)
        freshness = self.lane_freshness()
        written: list[Path] = []
        names = [
            n
            for n in self.maps.dashboards
            if self.maps.dashboards[n].charts and (dashboards is None or n in dashboards)
        ]
        for name in names:
            dashboard = self.maps.dashboards[name]
            charts = []
            for index, chart in enumerate(dashboard.charts):
                snapshot = self.load_snapshot(chart.dataset)
                points = series(snapshot.rows, chart.x, chart.y) if snapshot else []
                charts.append(
                    {
                        "chart": chart,
                        "points": len(points),
                        "svg": svg_chart(points, chart.title, chart.kind, index) if points else "",
                        "snapshot": snapshot,
                    }
                )
            page = self.out_dir / f"{name}.html"
            page.write_text(
                env.get_template("dashboard.html.j2").render(
                    dashboard=dashboard, charts=charts, freshness=freshness, now=utcnow()
                ),
                encoding="utf-8",
            )
            written.append(page)
        index_page = self.out_dir / "index.html"
        pages = [
            {"name": n, "dashboard": d, "exists": (self.out_dir / f"{n}.html").exists()}
            for n, d in self.maps.dashboards.items()
            if d.charts
        ]
        index_page.write_text(
            env.get_template("index.html.j2").render(
                pages=pages,
                freshness=freshness,
                snapshots=[self.load_snapshot(n) for n in self.maps.datasets],
                now=utcnow(),
            ),
            encoding="utf-8",
        )
        written.append(index_page)
        return written
