"""Read what a rendered dashboard page shows from the DOM headless Chromium returns."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

ATTRIBUTE = re.compile(r'([\w-]+)="([^"]*)"')


def attributes(tag: str) -> dict[str, str]:
    return dict(ATTRIBUTE.findall(tag))


@dataclass
class Chart:
    attrs: dict[str, str]
    body: str
    table: list[list[str]] = field(default_factory=list)  # rows of cell texts (header first)
    values: list[list[str]] = field(default_factory=list)  # rows of data-value (first cell '')

    @property
    def points(self) -> int:
        return int(self.attrs["data-points"])

    @property
    def svg(self) -> str:
        return self.body.split("</svg>")[0] if "<svg" in self.body else ""

    @property
    def marks(self) -> int:
        """Drawn shapes: bars, lines and axes are paths; a heat map is one embedded image."""
        return len(re.findall(r"<path\b", self.svg)) + 10 * len(re.findall(r"<image\b", self.svg))


def _cells(row: str) -> tuple[list[str], list[str]]:
    texts, values = [], []
    for tag, text in re.findall(r"<(t[dh][^>]*)>(.*?)</t[dh]>", row, flags=re.S):
        texts.append(re.sub(r"<[^>]+>", "", text).strip())
        values.append(attributes(tag).get("data-value", ""))
    return texts, values


def charts(dom: str) -> list[Chart]:
    found = []
    for part in dom.split('<figure class="card chart"')[1:]:
        head, _, rest = part.partition(">")
        body = rest.split("</figure>")[0]
        chart = Chart(attributes(head), body)
        table = re.search(r'<table class="chart-data">(.*?)</table>', body, flags=re.S)
        if table:
            for row in re.findall(r"<tr>(.*?)</tr>", table.group(1), flags=re.S):
                texts, values = _cells(row)
                chart.table.append(texts)
                chart.values.append(values)
        found.append(chart)
    return found


def tiles(dom: str) -> list[dict[str, str]]:
    found = []
    for match in re.finditer(r'<div class="tile"([^>]*)>(.*?)</div>\s*</div>', dom, flags=re.S):
        attrs = attributes(match.group(1))
        label = re.search(r'<div class="label">(.*?)</div>', match.group(0), flags=re.S)
        attrs["label"] = label.group(1).strip() if label else ""
        found.append(attrs)
    return found


def freshness(dom: str) -> dict[str, str]:
    match = re.search(r'<div class="fresh[^"]*"([^>]*)>', dom)
    assert match, "the page has no freshness line"
    return attributes(match.group(1))


def dataset_rows(dom: str) -> dict[str, tuple[dict[str, str], str]]:
    """dataset -> (attributes, text) of its row in 'What this page shows'."""
    table = dom.split('<table class="datasets">', 1)[1].split("</table>", 1)[0]
    rows = {}
    for attrs, body in re.findall(r"<tr([^>]*)>(.*?)</tr>", table, flags=re.S):
        parsed = attributes(attrs)
        name = parsed.get("data-dataset")
        if name:
            rows[name] = (parsed, re.sub(r"<[^>]+>", " ", body))
    return rows
