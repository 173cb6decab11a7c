"""The arithmetic behind dashboard tiles and charts, on rows small enough to add up by hand."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from brightcart_ops.publish.figures import chart_data, headline_window, tile_value
from brightcart_ops.publish.formatting import change, format_axis, format_duration, format_value
from brightcart_ops.publish.page_spec import Figure, PageSpecError, parse_chart, parse_page

ROWS = [  # one hour per row pair, two channels
    {
        "revenue_hour": "2026-11-03T10:00:00+00:00",
        "channel": "web",
        "net_sales": 100.0,
        "orders": 1,
    },
    {
        "revenue_hour": "2026-11-03T10:00:00+00:00",
        "channel": "ios",
        "net_sales": 500.0,
        "orders": 3,
    },
    {"revenue_hour": "2026-11-03T11:00:00+00:00", "channel": "web", "net_sales": 50.0, "orders": 1},
    {"revenue_hour": "2026-11-03T13:00:00+00:00", "channel": "web", "net_sales": 90.0, "orders": 2},
]


def at(hour: int, minute: int = 0) -> datetime:
    return datetime(2026, 11, 3, hour, minute, tzinfo=UTC)


def test_tiles_show_the_latest_complete_period_against_the_one_before() -> None:
    aov = Figure("AOV", ratio=("net_sales", "orders"))
    # data complete through 12:30: the latest complete hour is 11:00-12:00
    value = tile_value(aov, ROWS, "revenue_hour", "hour", at(12, 30))
    assert value.window is not None and (value.window.start, value.window.end) == (at(11), at(12))
    assert value.value == 50.0
    assert value.previous == 150.0  # (100 + 500) / (1 + 3): a ratio of sums, not mean(100, 167)
    orders = tile_value(Figure("Orders", column="orders"), ROWS, "revenue_hour", "hour", at(13))
    assert (orders.value, orders.previous) == (0.0, 1.0)  # 12:00 had no orders: zero, not n/a
    young = tile_value(Figure("Orders", column="orders"), ROWS, "revenue_hour", "day", at(14))
    assert young.window is not None and not young.window.complete  # the data starts today
    assert (young.value, young.previous) == (7.0, None)


def test_headline_window_of_months_and_days() -> None:
    times = [datetime(2026, 10, 25, tzinfo=UTC), datetime(2026, 11, 2, tzinfo=UTC)]
    month = headline_window(times, "month", datetime(2026, 11, 4, 6, tzinfo=UTC))
    assert month is not None and month.start == datetime(2026, 10, 1, tzinfo=UTC)
    assert month.previous().start == datetime(2026, 9, 1, tzinfo=UTC)
    day = headline_window(times, "day", datetime(2026, 11, 4, tzinfo=UTC))
    assert day is not None and (day.start, day.end) == (
        datetime(2026, 11, 3, tzinfo=UTC),
        datetime(2026, 11, 4, tzinfo=UTC),
    )


def test_time_series_fill_quiet_hours_and_split_by_channel() -> None:
    spec = parse_chart(
        {"dataset": "ops", "title": "Orders", "unit": "count", "y": "orders", "split": "channel"},
        "test",
    )
    data = chart_data(spec, ROWS, "revenue_hour", "hour")
    assert data.categories == [at(10), at(11), at(12), at(13)]  # 12:00 is on the axis, as 0
    assert data.series == [("web", [1.0, 1.0, 0.0, 2.0]), ("ios", [3.0, 0.0, 0.0, 0.0])]
    assert data.stacked
    recent = parse_chart(
        {"dataset": "ops", "title": "Orders", "unit": "count", "y": "orders", "last": 3}, "test"
    )
    recent_data = chart_data(recent, ROWS, "revenue_hour", "hour")
    assert recent_data.categories == [at(11), at(12), at(13)]  # the latest 3 hours of the data
    assert recent_data.series == [("Orders", [1.0, 0.0, 2.0])]
    rate = parse_chart(
        {
            "dataset": "ops",
            "title": "AOV",
            "unit": "usd",
            "style": "line",
            "y": {"ratio": ["net_sales", "orders"], "label": "AOV"},
        },
        "test",
    )
    assert chart_data(rate, ROWS, "revenue_hour", "hour").series == [
        ("AOV", [150.0, 50.0, None, 45.0])  # no orders at 12:00: no AOV, not 0
    ]


def test_ranked_and_grouped_orders() -> None:
    rows = [
        {"band": "7-13 days", "n": 2},
        {"band": "0-6 days", "n": 1},
        {"band": "30+ days", "n": 5},
        {"band": "14-29 days", "n": 3},
    ]
    by_label = parse_chart(
        {
            "dataset": "r",
            "title": "Lag",
            "kind": "grouped",
            "by": "band",
            "order": "label",
            "y": "n",
        },
        "test",
    )
    assert chart_data(by_label, rows, None, None).categories == [
        "0-6 days",
        "7-13 days",
        "14-29 days",
        "30+ days",
    ]
    ranked = parse_chart(
        {"dataset": "r", "title": "Top", "kind": "ranked", "by": "band", "top": 2, "y": "n"}, "t"
    )
    assert chart_data(ranked, rows, None, None).series == [("N", [5.0, 3.0])]


def test_page_declarations_fail_with_the_entry_named() -> None:
    with pytest.raises(PageSpecError, match="unknown keys \\['first touch'\\]"):
        # an unquoted label with a comma in a YAML flow mapping becomes a key of its own
        parse_page(
            {"tiles": [{"dataset": "a", "label": "Net revenue", "first touch": None, "sum": "x"}]},
            "dashboard 'a'",
        )
    with pytest.raises(PageSpecError, match="unit 'eur'"):
        parse_chart({"dataset": "a", "title": "t", "y": "x", "unit": "eur"}, "chart")
    with pytest.raises(PageSpecError, match="needs 'rows'"):
        parse_chart({"dataset": "a", "title": "t", "kind": "heatmap", "y": "x"}, "chart")


def test_figures_read_as_people_write_them() -> None:
    assert format_value(34108.71, "usd") == "$34,109"
    assert format_value(173.4229, "usd") == "$173.42"
    assert format_value(0.0049, "pct") == "0.5%"
    assert format_value(1234, "count") == "1,234"
    assert format_value(26.95, "ratio") == "26.95x"
    assert format_axis(12_000, "usd") == "$12k" and format_axis(2_500, "usd") == "$2.5k"
    assert [format_axis(v, "usd") for v in (0, 2.5, 7.5, 10)] == ["$0", "$2.5", "$7.5", "$10"]
    assert format_axis(0.125, "pct") == "12.5%" and format_axis(0.2, "pct") == "20%"
    assert change(0.0049, 0.0046, "pct")[1] == "+0.03 pp"
    assert change(110.0, 100.0, "usd")[1] == "+10.0%"
    assert change(5.0, None, "count") == (None, "no earlier period")
    assert format_duration(timedelta(hours=2, minutes=10)) == "2 h 10 min"
    assert format_duration(timedelta(days=1, hours=2)) == "1 d 2 h"
