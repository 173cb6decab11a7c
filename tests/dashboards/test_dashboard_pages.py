"""Every BI dataset has a dashboard page worth opening, with the warehouse's numbers on it.

Headless Chromium photographs every page (PNGs under .local/screenshots/, see the README) and
returns the rendered DOM; the tests read the tiles, charts, freshness and model versions from it
and compare them with figures computed from the warehouse's mart tables by separate SQL
(tests/dashboards/expected.py) and with prod's SQLMesh state.
"""

from __future__ import annotations

import math
import struct
from datetime import datetime, timedelta

import matplotlib.image as mpimg
import numpy as np
import psycopg

from brightcart_ops.publish.figures import floor, shift
from brightcart_ops.publish.screenshots import Shot
from brightcart_ops.publish.state import open_state_reader, state_from_reader

from . import dom, expected
from .conftest import DashboardWorld


def _close(actual: float | None, wanted: float | None, unit: str) -> bool:
    if actual is None or wanted is None:
        return actual is None and wanted is None
    tolerance = 0.006 if unit == "usd" else 1e-6 if unit in ("pct", "ratio") else 1e-9
    return math.isclose(actual, wanted, rel_tol=1e-9, abs_tol=tolerance)


def _number(text: str) -> float | None:
    return float(text) if text else None


def _png_size(path: object) -> tuple[int, int]:
    with open(str(path), "rb") as handle:
        header = handle.read(24)
    assert header[:8] == b"\x89PNG\r\n\x1a\n", f"{path} is not a PNG"
    width, height = struct.unpack(">II", header[16:24])
    return int(width), int(height)


def test_every_dataset_has_a_page_with_tiles_and_drawn_charts(
    dashboard_world: DashboardWorld, shots: dict[str, Shot]
) -> None:
    maps = dashboard_world.maps
    shown = {dataset for board in maps.dashboards.values() for dataset in board.page.datasets}
    assert shown == set(maps.datasets), f"datasets without a page: {set(maps.datasets) - shown}"
    assert set(shots) == {*maps.dashboards, "index"}
    for name, board in maps.dashboards.items():
        shot = shots[name]
        width, height = _png_size(shot.png)
        assert width == 1400 and height > 900, (name, width, height)
        pixels = (mpimg.imread(str(shot.png))[..., :3] * 255).astype(np.uint8).reshape(-1, 3)
        assert len(np.unique(pixels, axis=0)) > 300, f"{shot.png} looks blank"
        page_tiles = dom.tiles(shot.dom)
        assert [t["label"] for t in page_tiles] == [t.label for t in board.page.tiles], name
        assert all(t["data-value"] for t in page_tiles), (name, page_tiles)
        charts = dom.charts(shot.dom)
        assert len(charts) == len(board.page.charts), name
        for spec, chart in zip(board.page.charts, charts, strict=True):
            assert chart.attrs["data-kind"] == spec.kind and chart.attrs["data-unit"] == spec.unit
            assert chart.points > 0, f"{name}: chart {spec.title!r} has no data"
            assert chart.body.lstrip().startswith("<svg"), f"{name}: {spec.title!r} not drawn"
            assert chart.marks > 10, f"{name}: {spec.title!r} draws no marks"
            assert len(chart.table) == chart.points + 1 or spec.kind == "heatmap", spec.title
        assert "<script" not in shot.dom
        assert "http://" not in shot.dom.replace("http://www.w3.org", "")
        assert "https://" not in shot.dom
    index = shots["index"].dom
    for name in maps.dashboards:
        assert f'href="{name}.html"' in index, f"the index does not link {name}"
    assert index.count('class="board"') == len(maps.dashboards)


def _expected_window(through: datetime, period: str) -> tuple[datetime, datetime]:
    end = floor(through, period)
    return shift(end, period, -1), end


def test_headline_tiles_show_the_warehouse_figures_for_the_latest_complete_period(
    dashboard_world: DashboardWorld, shots: dict[str, Shot]
) -> None:
    checked = 0
    with dashboard_world.warehouse() as con:
        for name, board in dashboard_world.maps.dashboards.items():
            page = shots[name].dom
            throughs = {
                dataset: datetime.fromisoformat(attrs["data-data-through"])
                for dataset, (attrs, _) in dom.dataset_rows(page).items()
            }
            for tile in dom.tiles(page):
                label, unit = tile["label"], tile["data-unit"]
                start = datetime.fromisoformat(tile["data-period-start"])
                end = datetime.fromisoformat(tile["data-period-end"])
                assert tile["data-complete"] == "true", (name, label)
                assert (start, end) == _expected_window(
                    throughs[tile["data-dataset"]], board.page.period
                ), (name, label, start, end)
                wanted = expected.figure(con, name, label, start, end)
                shown = _number(tile["data-value"])
                assert _close(shown, wanted, unit), f"{name} / {label}: page {shown}, SQL {wanted}"
                if tile["data-previous"]:
                    before = shift(start, board.page.period, -1)
                    wanted_before = expected.figure(con, name, label, before, start)
                    shown_before = _number(tile["data-previous"])
                    assert _close(shown_before, wanted_before, unit), (name, label, "previous")
                checked += 1
    assert checked == sum(len(b.page.tiles) for b in dashboard_world.maps.dashboards.values())


def _chart(shots: dict[str, Shot], page: str, title_start: str) -> dom.Chart:
    board_charts = dom.charts(shots[page].dom)
    for chart in board_charts:
        if title_start in chart.body.split("</svg>")[-1]:
            return chart
    raise AssertionError(f"{page}: no chart titled {title_start!r}")


def test_ranked_grouped_heatmap_and_funnel_charts_show_the_warehouse_figures(
    dashboard_world: DashboardWorld, shots: dict[str, Shot]
) -> None:
    seller_rows = dom.dataset_rows(shots["revenue_by_seller"].dom)
    # the daily seller figures stop where the day's data is complete; the ledger runs on
    through = datetime.fromisoformat(seller_rows["revenue_by_seller"][0]["data-data-through"])
    with dashboard_world.warehouse() as con:
        # sellers ranked by net revenue, over the whole window
        sellers = con.execute(
            "SELECT s.seller_name, SUM(l.amount) FROM marts_finance.revenue_ledger AS l "
            "JOIN staging.stg_shop__sellers AS s ON s.seller_id = l.seller_id "
            "WHERE l.entry_type IN ('sale', 'discount', 'refund', 'chargeback') "
            "AND l.entry_at < ? GROUP BY 1 ORDER BY 2 DESC, 1 LIMIT 15",
            [through],
        ).fetchall()
        ranked = _chart(shots, "revenue_by_seller", "Sellers ranked by net revenue")
        assert [row[0] for row in ranked.table[1:]] == [name for name, _ in sellers]
        for row, (_, total) in zip(ranked.values[1:], sellers, strict=True):
            assert _close(float(row[1]), float(total), "usd")

        # attribution by channel, the four rules side by side
        rules = ("first_touch", "last_touch", "linear", "position_based")
        by_channel = {
            str(channel).replace("_", " "): [float(v) for v in values]
            for channel, *values in con.execute(
                "SELECT channel, "
                + ", ".join(f"SUM(revenue_{rule})" for rule in rules)
                + " FROM marts_marketing.attribution GROUP BY 1"
            ).fetchall()
        }
        grouped = _chart(shots, "marketing_attribution", "Attributed net revenue by channel")
        assert grouped.table[0][1:] == ["first touch", "last touch", "linear", "position-based"]
        assert {row[0] for row in grouped.table[1:]} == set(by_channel)
        for texts, values in zip(grouped.table[1:], grouped.values[1:], strict=True):
            for shown, wanted in zip(values[1:], by_channel[texts[0]], strict=True):
                assert _close(float(shown), wanted, "usd"), (texts[0], shown, wanted)

        # cohort retention heat map: active customers / cohort size per cohort and month
        cells = {
            (cohort.strftime("%b %Y"), int(months)): float(rate)
            for cohort, months, rate in con.execute(
                "WITH cohort AS (SELECT customer_id, cohort_month FROM marts_customers.customers "
                "WHERE cohort_month IS NOT NULL), size AS (SELECT cohort_month, COUNT(*) AS n "
                "FROM cohort GROUP BY 1) "
                "SELECT c.cohort_month, DATEDIFF('month', c.cohort_month, "
                "CAST(DATE_TRUNC('month', l.entry_at) AS DATE)) AS months, "
                "COUNT(DISTINCT CASE WHEN l.entry_type = 'sale' THEN l.customer_id END) "
                "/ ANY_VALUE(s.n) "
                "FROM marts_finance.revenue_ledger AS l JOIN cohort AS c USING (customer_id) "
                "JOIN size AS s USING (cohort_month) "
                "WHERE l.entry_type IN ('sale', 'discount', 'refund', 'chargeback') GROUP BY 1, 2"
            ).fetchall()
        }
        heat = _chart(shots, "cohorts", "Retention by cohort")
        assert len(cells) >= 3, cells  # two cohorts, the first one seen in its second month
        shown_cells = {}
        for texts, values in zip(heat.table[1:], heat.values[1:], strict=True):
            for column, value in zip(heat.table[0][1:], values[1:], strict=True):
                if value:
                    shown_cells[(texts[0], int(column.rsplit(" ", 1)[1]))] = float(value)
        assert set(shown_cells) == set(cells)
        for key, wanted in cells.items():
            assert _close(shown_cells[key], wanted, "pct"), (key, shown_cells[key], wanted)

        # refunds by reason
        reasons = dict(
            con.execute(
                "SELECT COALESCE(reason, 'unknown'), SUM(amount) FROM marts_refunds.refunds "
                "GROUP BY 1"
            ).fetchall()
        )
        by_reason = _chart(shots, "refunds", "Refunded amount by reason")
        shown_reasons = {
            texts[0]: float(values[1])
            for texts, values in zip(by_reason.table[1:], by_reason.values[1:], strict=True)
        }
        assert set(shown_reasons) == {str(r).replace("_", " ") for r in reasons}
        for reason, total in reasons.items():
            assert _close(shown_reasons[str(reason).replace("_", " ")], float(total), "usd")

        # the funnel's steps over the whole window
        steps = con.execute(
            "SELECT COUNT(*), COUNT(*) FILTER (WHERE has_product_view), "
            "COUNT(*) FILTER (WHERE has_add_to_cart), "
            "COUNT(*) FILTER (WHERE has_checkout_started), "
            "COUNT(*) FILTER (WHERE is_converted) FROM marts_marketing.sessions"
        ).fetchone()
        assert steps is not None
        funnel = _chart(shots, "marketing_funnel", "Funnel from session to order")
        assert [float(v[1]) for v in funnel.values[1:]] == [float(s) for s in steps]


def test_every_page_says_how_fresh_it_is_and_which_model_versions_it_shows(
    dashboard_world: DashboardWorld, shots: dict[str, Shot]
) -> None:
    reader = open_state_reader("local")
    try:
        state = state_from_reader(reader)
    finally:
        reader.engine_adapter.close()
    assert state is not None
    with psycopg.connect(dashboard_world.settings.pg_dsn) as con:
        row = con.execute("SELECT now FROM generator.clock").fetchone()
    assert row is not None
    world_now = row[0]
    for name, board in dashboard_world.maps.dashboards.items():
        page = shots[name].dom
        fresh = dom.freshness(page)
        assert fresh["data-clock"] == "world"
        assert datetime.fromisoformat(fresh["data-now"]) == world_now, name
        rows = dom.dataset_rows(page)
        throughs = []
        for dataset in board.page.datasets:
            upstream = state.upstream(dashboard_world.maps.datasets[dataset].view)
            assert upstream is not None and upstream.data_through is not None
            attrs, text = rows[dataset]
            assert datetime.fromisoformat(attrs["data-data-through"]) == upstream.data_through
            throughs.append(upstream.data_through)
            for model in upstream.models:
                assert f"{model.model}@{model.fingerprint}" in text, (name, model.model)
                assert f"v{model.version}" in text, (name, model.model)
        assert datetime.fromisoformat(fresh["data-data-through"]) == min(throughs)
        age = world_now - min(throughs)
        assert timedelta(0) <= age < timedelta(days=1), (name, age)
