"""Rows per second of target-redshift alone: 200k ~0.5 KB Singer records into DuckDB, sent as
RECORD messages and as one BATCH message naming a gzip JSON-lines file of the same records.

Run: .venv/bin/python bench/loader_bench.py [--rows N] [--batch-size N] [--mode record|batch|both]
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import gzip
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import duckdb

SCHEMA = {
    "type": "SCHEMA",
    "stream": "orders",
    "key_properties": ["order_id"],
    "bookmark_properties": ["updated_at"],
    "schema": {
        "properties": {
            "order_id": {"type": "integer"},
            "customer_id": {"type": "integer"},
            "status": {"type": "string"},
            "channel": {"type": "string"},
            "currency": {"type": "string"},
            "shipping_amount": {"type": "number"},
            "tax_amount": {"type": "number"},
            "placed_at": {"type": "string", "format": "date-time"},
            "paid_at": {"type": ["null", "string"], "format": "date-time"},
            "updated_at": {"type": "string", "format": "date-time"},
            "note": {"type": ["null", "string"]},
            "attributes": {"type": ["null", "object"]},
        }
    },
}


def make_record(i: int) -> dict[str, object]:
    return {
        "order_id": i,
        "customer_id": i % 9973,
        "status": "paid",
        "channel": ("web", "ios", "android")[i % 3],
        "currency": "EUR",
        "shipping_amount": round(4.99 + (i % 7), 2),
        "tax_amount": round(1.19 * (i % 50), 2),
        "placed_at": f"2026-11-01T{i % 24:02d}:{i % 60:02d}:00+00:00",
        "paid_at": f"2026-11-01T{i % 24:02d}:{i % 60:02d}:30+00:00",
        "updated_at": f"2026-11-01T{i % 24:02d}:{i % 60:02d}:45+00:00",
        "note": "x" * 180,
        "attributes": {"gift": i % 2 == 0, "coupon": f"C{i % 100}"},
    }


def write_input(path: Path, rows: int, mode: str = "record") -> int:
    """Singer messages for `rows` records; returns the size of the message file in bytes."""
    with path.open("w") as handle:
        handle.write(json.dumps(SCHEMA) + "\n")
        if mode == "batch":
            batch = path.with_suffix(".json.gz")
            with gzip.open(batch, "wt", compresslevel=1) as out:
                for i in range(rows):
                    out.write(json.dumps(make_record(i)) + "\n")
            encoding = {"format": "jsonl", "compression": "gzip"}
            message = {"type": "BATCH", "stream": "orders", "encoding": encoding}
            handle.write(json.dumps(message | {"manifest": [batch.as_uri()]}) + "\n")
        else:
            for i in range(rows):
                message = {"type": "RECORD", "stream": "orders", "record": make_record(i)}
                handle.write(json.dumps(message) + "\n")
        handle.write(json.dumps({"type": "STATE", "value": {"done": rows}}) + "\n")
    return path.stat().st_size


def run_once(
    exe: Path, folder: Path, rows: int, batch_size: int, mode: str = "record"
) -> tuple[float, float, int]:
    """(wall seconds, CPU seconds of the loader process, rows landed) for one run."""
    messages = folder / f"in-{mode}-{rows}.jsonl"
    write_input(messages, rows, mode)
    warehouse = folder / f"w-{mode}-{rows}.duckdb"
    config = folder / f"config-{mode}-{rows}.json"
    config.write_text(
        json.dumps(
            {
                "backend": "duckdb",
                "path": str(warehouse),
                "lane": "bench",
                "default_target_schema": "raw_bench",
                "batch_size_rows": batch_size,
                "staging_dir": str(folder / "stage"),
            }
        )
    )
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    with messages.open() as stdin:
        started = time.perf_counter()
        subprocess.run(
            [str(exe), "--config", str(config)],
            stdin=stdin,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
            check=True,
        )
        elapsed = time.perf_counter() - started
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    with duckdb.connect(str(warehouse)) as con:
        row = con.execute("SELECT count(*) FROM raw_bench.orders").fetchone()
    return elapsed, cpu, int(row[0]) if row else 0


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--rows", type=int, default=200_000)
    parser.add_argument("--batch-size", type=int, default=100_000)
    parser.add_argument("--mode", choices=["record", "batch", "both"], default="both")
    args = parser.parse_args()
    exe = Path(sys.executable).with_name("target-redshift")
    modes = ["record", "batch"] if args.mode == "both" else [args.mode]
    with tempfile.TemporaryDirectory(prefix="loader-bench-") as tmp:
        folder = Path(tmp)
        size = write_input(folder / "size.jsonl", 1000) / 1000
        print(f"records: {args.rows}  avg RECORD message: {size:.0f} bytes")
        for mode in modes:
            base_wall, base_cpu, _ = run_once(exe, folder, 1, args.batch_size, mode)
            wall, cpu, landed = run_once(exe, folder, args.rows, args.batch_size, mode)
            steady = max(cpu - base_cpu, 1e-9)
            print(
                f"{mode.upper()} messages: rows landed {landed}; start-up alone (1 record) "
                f"{base_wall:.2f} s wall, {base_cpu:.2f} s CPU"
            )
            print(f"  wall time: {wall:.2f} s -> {args.rows / wall:,.0f} rows/s end to end")
            print(f"  loader CPU: {cpu:.2f} s -> {args.rows / cpu:,.0f} rows per CPU second")
            print(f"  without start-up: {args.rows / steady:,.0f} rows per CPU second")
    print(f"machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")


if __name__ == "__main__":
    main()
