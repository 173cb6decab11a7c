"""``tap-postgres-guard``: run tap-postgres unless it would read heavily in business hours.

A read is heavy when a selected stream replicates FULL_TABLE, or replicates INCREMENTAL or
LOG_BASED with no bookmark yet (the first read scans the whole table; for LOG_BASED it is the
initial copy before the replication slot is read). Light incremental reads always run: they use
the ``updated_at`` index and bounded batches, or the slot. ``BRIGHTCART_ALLOW_HEAVY_READS=1``
overrides the refusal for an emergency; the override is printed so that it shows in the run's log.

Before a LOG_BASED run the source's prerequisites are checked (lane_guards.logical); a missing one
stops the run with what to change, instead of the tap's late failure or silently wrong data. A
LOG_BASED run then goes through lane_guards.tap_fixes, which repairs the tap's records of updates
that leave a TOASTed column unchanged.

Any other run executes ``tap-postgres-bulk`` when it is installed beside the guard (the plugin's
pip_url installs it): tap-postgres itself plus a bulk path for Parquet BATCH files
(extract/tap-postgres-bulk); without it, ``tap-postgres``.
"""

from __future__ import annotations

import os
import sys
from pathlib import Path
from typing import Any

from lane_guards import business_hours, logical, tap_fixes
from lane_guards.common import exec_real, option, read_json

REFUSED_EXIT_CODE = 75  # EX_TEMPFAIL: try again later, outside business hours
CONFIG_EXIT_CODE = 78  # EX_CONFIG: the source is not set up for what the catalog asks
BULK_TAP = "tap-postgres-bulk"


def _stream_method(stream: dict[str, Any]) -> tuple[bool, str | None]:
    selected = False
    method = stream.get("replication_method")
    for entry in stream.get("metadata", []):
        if entry.get("breadcrumb") == []:
            meta = entry.get("metadata", {})
            selected = bool(meta.get("selected", meta.get("selected-by-default", False)))
            method = (
                meta.get("forced-replication-method") or meta.get("replication-method") or method
            )
    return selected, method


def heavy_streams(
    catalog: dict[str, Any], state: dict[str, Any], config: dict[str, Any] | None = None
) -> list[str]:
    """Names of selected streams whose next read would scan a whole table.

    A stream restricted by `stream_options.<stream>.custom_where_clauses` (a reconciliation or
    backfill window on an indexed column) is a bounded read, not a heavy one.
    """
    bookmarks = state.get("bookmarks", {})
    options = (config or {}).get("stream_options") or {}
    heavy = []
    for stream in catalog.get("streams", []):
        selected, method = _stream_method(stream)
        if not selected:
            continue
        name = stream.get("tap_stream_id") or stream.get("stream", "?")
        if (options.get(name) or {}).get("custom_where_clauses"):
            continue
        if method == "FULL_TABLE":
            heavy.append(f"{name} (FULL_TABLE)")
        elif method == "INCREMENTAL" and not bookmarks.get(name, {}).get("replication_key_value"):
            heavy.append(f"{name} (first INCREMENTAL read)")
        elif method == "LOG_BASED" and not bookmarks.get(name, {}).get("replication_key_value"):
            heavy.append(f"{name} (LOG_BASED initial copy)")
    return heavy


def check_log_based(catalog: dict[str, Any], config: dict[str, Any]) -> bool:
    """Stop with what to change when the source is not ready for the LOG_BASED streams.

    True when LOG_BASED streams are selected (and ready).
    """
    streams = logical.log_streams(catalog)
    if not streams:
        return False
    found = logical.problems(config, streams)
    if found:
        sys.stderr.write(
            "tap-postgres-guard: LOG_BASED replication cannot start:\n"
            + "".join(f"  - {problem}\n" for problem in found)
            + "See docs/loader.md (deletes and LOG_BASED) for the source set-up.\n"
        )
        raise SystemExit(CONFIG_EXIT_CODE)
    return True


def main(argv: list[str] | None = None) -> None:
    args = list(sys.argv[1:] if argv is None else argv)
    is_sync = not any(flag in args for flag in ("--discover", "--about", "--help", "--version"))
    if is_sync:
        catalog = read_json(option(args, "--catalog") or option(args, "--properties"))
        state = read_json(option(args, "--state"))
        config = read_json(option(args, "--config"))
        heavy = heavy_streams(catalog, state, config)
        window_text = os.environ.get("BRIGHTCART_BUSINESS_HOURS") or business_hours.DEFAULT_WINDOW
        window = business_hours.parse(window_text)
        moment = business_hours.now()
        if heavy and window is not None and window.contains(moment):
            if os.environ.get("BRIGHTCART_ALLOW_HEAVY_READS") == "1":
                sys.stderr.write(
                    "tap-postgres-guard: BRIGHTCART_ALLOW_HEAVY_READS=1 overrides business hours "
                    f"for: {', '.join(heavy)}\n"
                )
            else:
                sys.stderr.write(
                    f"tap-postgres-guard: refusing to start at {moment.isoformat()}: inside "
                    f"business hours ({window_text}) these reads would scan whole tables of "
                    f"the OLTP database: {', '.join(heavy)}. "
                    "Run it after hours (the daily schedule does), or set "
                    "BRIGHTCART_ALLOW_HEAVY_READS=1 for an emergency.\n"
                )
                raise SystemExit(REFUSED_EXIT_CODE)
        if check_log_based(catalog, config):
            tap_fixes.run_tap(args)  # LOG_BASED: with the unchanged-TOAST fix (tap_fixes.py)
            return
    exec_real(real_tap(), args)


def real_tap() -> str:
    """tap-postgres-bulk when installed beside this interpreter, else tap-postgres."""
    return BULK_TAP if (Path(sys.executable).parent / BULK_TAP).exists() else "tap-postgres"


if __name__ == "__main__":
    main()
