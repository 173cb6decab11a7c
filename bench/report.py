"""Render results: the markdown report, the bar chart, the machine's description."""

from __future__ import annotations

import platform
import subprocess
import sys
from pathlib import Path

import psutil

from bench.figures import NOTHING_NEW, PIPELINE_CYCLE, Figure, Results, Step
from bench.world import bin_path


def _version(argv: list[str]) -> str:
    try:
        out = subprocess.run(argv, capture_output=True, text=True, timeout=60, check=False)
    except OSError as error:
        return f"unknown ({error.strerror})"
    text = (out.stdout or out.stderr).strip().splitlines()
    return text[-1].strip() if text else "unknown"


def machine(pg_dsn: str) -> list[tuple[str, str]]:
    import duckdb
    import psycopg

    cpu = "unknown"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    try:
        with psycopg.connect(pg_dsn) as con:
            row = con.execute("SHOW server_version").fetchone()
            postgres = str(row[0]) if row else "unknown"
    except psycopg.Error:
        postgres = "unreachable"
    return [
        ("CPU", cpu),
        ("cores (logical)", str(psutil.cpu_count())),
        ("memory", f"{psutil.virtual_memory().total / 2**30:.1f} GiB"),
        ("OS", platform.platform()),
        ("python", sys.version.split()[0]),
        ("duckdb", duckdb.__version__),
        ("postgres", postgres),
        ("meltano", _version([bin_path("meltano"), "--version"])),
        ("sqlmesh", _version([bin_path("sqlmesh"), "--version"])),
        ("load average at the end (1 min)", f"{psutil.getloadavg()[0]:.1f}"),
    ]


def _num(value: float | None, fmt: str = ",.0f") -> str:
    return "–" if value is None else format(value, fmt)


def lane_table(figures: list[Figure]) -> list[str]:
    lines = [
        "| lane | what | rows | seconds | rows/s | CPU s | peak RSS MiB | note |",
        "|---|---|---:|---:|---:|---:|---:|---|",
    ]
    for f in figures:
        lines.append(
            f"| {f.lane} | {f.what} | {_num(f.rows)} | {_num(f.wall_s, '.1f')} | "
            f"{_num(f.rows_per_s)} | {_num(f.cpu_s, '.1f')} | {_num(f.peak_rss_mib)} | {f.note} |"
        )
    return lines


def _parse_num(text: str) -> float | None:
    text = text.strip().replace(",", "")
    return None if text in ("", "–") else float(text)


def parse_lane_table(markdown_text: str) -> list[Figure]:
    """Section 1 figures back from an earlier results.md (for --reuse-lanes)."""
    figures: list[Figure] = []
    section = markdown_text.split("## 1.", 1)[-1].split("\n## ", 1)[0]
    for line in section.splitlines():
        cells = [c.strip() for c in line.strip().strip("|").split("|")]
        if len(cells) != 8 or cells[0] in ("lane", "---") or cells[0].startswith("-"):
            continue
        lane, what, rows, wall, rate, cpu, rss, note = cells
        kind = "peer" if what.startswith("peer:") else "fixed" if "fixed" in what else "lane"
        n_rows = _parse_num(rows)
        figures.append(
            Figure(
                lane,
                what,
                rows=None if n_rows is None else int(n_rows),
                wall_s=_parse_num(wall),
                rows_per_s=_parse_num(rate),
                cpu_s=_parse_num(cpu),
                peak_rss_mib=_parse_num(rss),
                note=note,
                kind=kind,
            )
        )
    return figures


def step_table(steps: list[Step]) -> list[str]:
    lines = ["| step | seconds | peak RSS MiB | status | note |", "|---|---:|---:|---|---|"]
    for s in steps:
        lines.append(
            f"| {s.name} | {_num(s.wall_s, '.1f')} | {_num(s.peak_rss_mib)} | {s.status} | "
            f"{s.note} |"
        )
    return lines


def _ratio_line(name: str, ours: Figure | None, peer: Figure | None, goal: float) -> str:
    """One goal line: our whole-process rate over a peer's, against a ratio."""
    if not (ours and peer and ours.rows_per_s and peer.rows_per_s):
        return f"- {name}: not measured (one side missing)"
    ratio = ours.rows_per_s / peer.rows_per_s
    verdict = "met" if ratio >= goal else "not met"
    return (
        f"- {name} (goal ≥ {goal:g}): {ours.rows_per_s:,.0f} vs {peer.rows_per_s:,.0f} rows/s = "
        f"{ratio:.2f} — {verdict}"
    )


def goals(results: Results) -> list[str]:
    """Whole process against whole process, from the same run."""
    lines = [
        _ratio_line(
            "events lane / DuckDB read_json",
            results.find("events", "lane end to end"),
            results.find("events", "peer: DuckDB read_json, whole process"),
            0.5,
        ),
        _ratio_line(
            "events lane / DuckDB read_json from S3 (httpfs, as the lane reads)",
            results.find("events", "lane end to end"),
            results.find("events", "peer: DuckDB read_json from S3"),
            0.5,
        ),
        _ratio_line(
            "shop lane / dlt + connectorx (all shop tables)",
            results.find("shop", "lane end to end"),
            results.find("shop", "peer: dlt sql_database (connectorx)"),
            0.8,
        ),
    ]
    big = "shop (one table)"
    for label in ("cold", "warm"):
        lines.append(
            _ratio_line(
                f"shop lane / dlt + connectorx, one large table ({label})",
                results.find(big, f"lane, whole process ({label})"),
                results.find(big, f"peer: dlt + connectorx, whole process ({label})"),
                1.0,
            )
        )
    for lane in ["shop", "events", "marketing", "crm"]:
        fixed = next(
            (f for f in results.figures if f.lane == lane and f.kind == "fixed" and f.cpu_s),
            None,
        )
        if fixed and fixed.cpu_s is not None:
            verdict = "met" if fixed.cpu_s < 3.0 else "not met"
            lines.append(
                f"- {lane} lane run with nothing new < 3 CPU s: {fixed.cpu_s:.1f} CPU s, "
                f"{fixed.wall_s or 0:.1f} s wall — {verdict}"
            )
    return lines + cycle_goals(results.cycle, results.scale)


def cycle_goals(steps: list[Step], scale: float) -> list[str]:
    """The hourly cycle's goals (section 2): at 1:100 of production (scale 1.0) its wall time and
    the run's peak memory; at any scale the run with nothing new."""
    by_name = {s.name: s for s in steps}
    checks = [
        (NOTHING_NEW, "`sqlmesh run prod` with nothing new < 5 s", lambda s: s.wall_s, 5.0, "s"),
    ]
    if scale >= 1.0:
        checks = [
            (
                PIPELINE_CYCLE,
                "hourly cycle at 1:100 < 60 s (the pipeline's: lanes, run, publish)",
                lambda s: s.wall_s,
                60.0,
                "s",
            ),
            (
                "sqlmesh run prod",
                "`sqlmesh run prod` at 1:100 peak < 1,536 MiB",
                lambda s: s.peak_rss_mib,
                1536.0,
                "MiB",
            ),
            *checks,
        ]
    lines = []
    for name, goal, value_of, limit, unit in checks:
        step = by_name.get(name)
        value = value_of(step) if step and step.status == "ok" else None
        if value is None:
            continue
        verdict = "met" if value < limit else "not met"
        lines.append(f"- {goal}: {value:,.1f} {unit} — {verdict}")
    return lines


def scale_out_table(rows: list[dict[str, object]]) -> list[str]:
    lines = [
        "| lane | production rows/day | peak-hour rows | rows per CPU-s (measured) | "
        "fixed start-up s | vCPUs for 10 min | basis |",
        "|---|---:|---:|---:|---:|---:|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r['lane']} | {r['per_day']} | {r['peak']} | {r['rate']} | {r['startup']} | "
            f"{r['vcpus']} | {r['basis']} |"
        )
    return lines


def markdown(results: Results, machine_rows: list[tuple[str, str]]) -> str:
    out = [
        "# BrightCart benchmark results",
        "",
        f"Run started {results.started_at} UTC; scale {results.scale} "
        f"(1.0 = 1:100 of production), {results.days} day(s) of generated data in the main world.",
        "",
    ]
    if results.world_rows:
        out.append(
            "Generated: " + ", ".join(f"{k} {v:,}" for k, v in results.world_rows.items()) + "."
        )
        out.append("")
    out += ["## 1. Rows per second per lane and baselines", "", *lane_table(results.figures), ""]
    out += ["Goals:", "", *goals(results), ""]
    out += ["## 2. Hourly cycle", "", *step_table(results.cycle), ""]
    out += ["## 3. Hourly sqlmesh run against history length", "", *step_table(results.history)]
    out += ["", "## 4. Restating one day", "", *step_table(results.restate), ""]
    out += ["## 5. Scale-out model", "", *scale_out_table(results.scale_out), ""]
    if results.notes:
        out += ["## Notes", "", *[f"- {n}" for n in results.notes], ""]
    out += ["## Machine", "", "| | |", "|---|---|"]
    out += [f"| {k} | {v} |" for k, v in machine_rows]
    return "\n".join(out) + "\n"


def chart(results: Results, path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    bars = [f for f in results.figures if f.rows_per_s and f.kind in ("lane", "peer")]
    if not bars:
        return
    labels = [f"{f.lane}: {f.what}" for f in bars]
    colours = ["#1f77b4" if f.kind == "lane" else "#ff7f0e" for f in bars]
    fig, ax = plt.subplots(figsize=(10, 0.38 * len(bars) + 1.6))
    ax.barh(labels, [f.rows_per_s or 0.0 for f in bars], color=colours)
    ax.axvline(15_000, color="grey", linestyle="--", linewidth=1)
    ax.text(15_000, -0.8, " 15k goal", color="grey", fontsize=8)
    ax.invert_yaxis()
    ax.set_xscale("log")
    ax.set_xlabel("rows/s (log scale); blue = our lanes, orange = baselines")
    ax.set_title(f"BrightCart lanes vs baselines, scale {results.scale}")
    ax.tick_params(axis="y", labelsize=8)
    fig.tight_layout()
    path.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(path, dpi=110)
    plt.close(fig)
