"""Meltano overrides that bound a job to a window without touching the lane's incremental state.

Reconciliation repairs and backfills narrow an existing job through Meltano's environment
overrides (checked with `meltano config list`):

* `<PLUGIN>__SELECT` (JSON list) narrows the streams, e.g. `TAP_POSTGRES__FINANCE_FULL__SELECT`;
* `<PLUGIN>_STREAM_OPTIONS` (JSON object) gives tap-postgres `custom_where_clauses` per stream;
* `<PLUGIN>_STREAM_MAPS` (JSON object): the inherited aliases of streams that are NOT selected
  get `__key_properties__: []`, because singer-sdk rejects an alias map whose key column is not
  in a deselected stream's (empty) schema.

Both run through the job runner (runner.py: `run_window`) under the job's lock. Backfills also
pass `--full-refresh --state-id-suffix <name>`: Meltano then ignores and writes
a separate state id, so the hourly lane's bookmark is never moved back.

Taps that only know a start (tap-salesforce, tap-s3-csv) are bounded at the loader instead:
`<LOADER>_STREAM_MAPS` with a singer-sdk `__filter__` per stream keeps the records whose bound
column falls in the window (`loader_window`); the others are read but never reach a table.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from datetime import datetime

from brightcart_ops.registry import Lane


def env_prefix(plugin: str) -> str:
    """Meltano's environment prefix of a plugin name: tap-postgres--finance-full -> ..."""
    return plugin.upper().replace("-", "_")


def iso(moment: datetime) -> str:
    return moment.isoformat()


def range_clause(column: str, windows: list[tuple[datetime, datetime]]) -> str:
    """A WHERE clause selecting rows whose `column` falls in any half-open window."""
    return " OR ".join(
        f"({column} >= '{iso(start)}' AND {column} < '{iso(end)}')" for start, end in windows
    )


def postgres_window(plugin: str, lane: Lane, clauses: dict[str, str]) -> dict[str, str]:
    """Overrides that make a tap-postgres plugin read only the given raw tables, filtered.

    `clauses` maps raw table names of `lane` to a WHERE clause; the lane's other streams are
    deselected."""
    prefix = env_prefix(plugin)
    streams = {s.table: s.name for s in lane.streams}
    unknown = sorted(set(clauses) - set(streams))
    if unknown:
        raise ValueError(f"{unknown} are not tables of the {lane.name} lane ({sorted(streams)})")
    options = {streams[t]: {"custom_where_clauses": [clause]} for t, clause in clauses.items()}
    maps = {
        s.name: {"__alias__": s.table}
        if s.table in clauses
        else {"__alias__": s.table, "__key_properties__": []}
        for s in lane.streams
    }
    return {
        f"{prefix}__SELECT": json.dumps([f"{streams[t]}.*" for t in clauses]),
        f"{prefix}_STREAM_OPTIONS": json.dumps(options),
        f"{prefix}_STREAM_MAPS": json.dumps(maps),
    }


def text_range_filter(column: str, start: str, end: str) -> str:
    """A stream-map `__filter__` keeping records whose `column` text sorts in [start, end).

    ISO-8601 UTC text sorts like the time it names, and a bound given to the second (or as a
    date) compares correctly with values carrying fractions or a `Z`. A record without the
    column is kept: it cannot be placed in a window, and landing it again adds no version.
    """
    value = f"record.get({column!r})"
    return f"not {value} or {start!r} <= str({value}) < {end!r}"


def loader_window(plugin: str, columns: dict[str, str], start: str, end: str) -> dict[str, str]:
    """Overrides that make a singer-sdk loader drop records outside [start, end) per stream.

    `columns` maps each stream the tap emits to its bound column. The loader plugin must not
    rely on stream maps of its own in meltano.yml: the override replaces them.
    """
    maps = {
        stream: {"__filter__": text_range_filter(column, start, end)}
        for stream, column in columns.items()
    }
    return {f"{env_prefix(plugin)}_STREAM_MAPS": json.dumps(maps)}


def window_columns(lane: Lane, streams: Iterable[str] | None = None) -> dict[str, str]:
    """Stream name -> the column that bounds a window, for the lane's streams that have one."""
    wanted = set(streams) if streams is not None else None
    return {
        s.name: s.window for s in lane.streams if s.window and (wanted is None or s.name in wanted)
    }
