"""The figures a benchmark run collects; rendering lives in bench.report."""

from __future__ import annotations

from dataclasses import dataclass, field

from bench.proc import Measured


@dataclass
class Figure:
    """One measured line. ``rows_per_s`` is None when the step failed or was not measured."""

    lane: str
    what: str
    rows: int | None = None
    wall_s: float | None = None
    rows_per_s: float | None = None
    cpu_s: float | None = None
    peak_rss_mib: float | None = None
    note: str = ""
    kind: str = "lane"  # lane | peer | fixed

    @classmethod
    def missing(cls, lane: str, what: str, reason: str, kind: str = "lane") -> Figure:
        return cls(lane, what, note=f"not measured: {reason}", kind=kind)

    @classmethod
    def of(
        cls,
        lane: str,
        what: str,
        measured: Measured,
        rows: int,
        seconds: float | None = None,
        note: str = "",
        kind: str = "lane",
    ) -> Figure:
        seconds = measured.wall_s if seconds is None else seconds
        return cls(
            lane,
            what,
            rows=rows,
            wall_s=seconds,
            rows_per_s=rows / seconds if seconds > 0 else None,
            cpu_s=measured.cpu_s,
            peak_rss_mib=measured.peak_rss_mib,
            note=note,
            kind=kind,
        )


def failure_reason(measured: Measured) -> str:
    """The most telling line of a failed command's output, for the report."""
    lines = [line.strip() for line in measured.tail.splitlines() if line.strip()]
    lines = [line for line in lines if not line.startswith("===")]
    generic = ("Plan application failed", "Failed models", "Traceback")
    for marker in ("Catalog Error", "Binder Error", "Error", "error", "failed"):
        hits = [x for x in lines if marker in x and not any(g in x for g in generic)]
        if hits:
            return hits[0][:200].replace("|", "/")
    return lines[-1][:200].replace("|", "/") if lines else "no output"


# The hourly cycle's last row: `sqlmesh run prod` again once the lanes landed nothing new.
NOTHING_NEW = "after the cycle: sqlmesh run prod again, nothing new landed"
# The cycle less the world's advance: what an hour costs the pipeline.
PIPELINE_CYCLE = "pipeline's cycle (without the advance)"


@dataclass
class Step:
    """A step of the hourly cycle or of the SQLMesh measurements."""

    name: str
    wall_s: float | None
    peak_rss_mib: float | None
    status: str
    note: str = ""

    @classmethod
    def of(cls, name: str, measured: Measured, note: str = "") -> Step:
        if measured.ok:
            return cls(name, measured.wall_s, measured.peak_rss_mib, "ok", note)
        status = f"failed (exit {measured.returncode})"
        return cls(name, measured.wall_s, measured.peak_rss_mib, status, failure_reason(measured))


@dataclass
class Results:
    scale: float
    days: int
    started_at: str
    figures: list[Figure] = field(default_factory=list)
    cycle: list[Step] = field(default_factory=list)
    history: list[Step] = field(default_factory=list)
    restate: list[Step] = field(default_factory=list)
    scale_out: list[dict[str, object]] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)
    world_rows: dict[str, int] = field(default_factory=dict)

    def find(self, lane: str, what_prefix: str) -> Figure | None:
        for fig in self.figures:
            if fig.lane == lane and fig.what.startswith(what_prefix) and fig.rows_per_s:
                return fig
        return None
