"""Throughput of tap-brightcart-events against DuckDB read_json over the same gzip objects.

Writes ~200k Firehose-style events of ~1 KB into a moto S3 server on loopback, runs the real tap
executable to /dev/null (RECORD mode, then BATCH mode into a local folder), then the lane (tap
piped into target-redshift, into a fresh DuckDB file) in both modes, downloads the same objects
and reads them with DuckDB's read_json. Prints rows/s for each. Never asserted on.

    .venv/bin/python bench/events_bench.py [--events 200000] [--per-object 5000]
"""

from __future__ import annotations

import argparse
import gzip
import io
import logging
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import boto3
import duckdb
import orjson
from moto.server import ThreadedMotoServer

logging.getLogger("werkzeug").setLevel(logging.ERROR)

TAP = Path(sys.executable).parent / "tap-brightcart-events"
TARGET = Path(sys.executable).parent / "target-redshift"
EVENT_TYPES = ["page_view", "product_view", "add_to_cart", "checkout_started", "order_completed"]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def make_event(rng: random.Random, n: int, hour: int) -> bytes:
    return orjson.dumps(
        {
            "event_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "event_type": rng.choice(EVENT_TYPES),
            "occurred_at": f"2026-11-01T{hour:02d}:{n % 60:02d}:{n % 59:02d}.123Z",
            "received_at": f"2026-11-01T{hour:02d}:{n % 60:02d}:{n % 59:02d}.456Z",
            "anonymous_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "customer_id": rng.choice([None, rng.randint(1, 10**6)]),
            "session_id": str(uuid.UUID(int=rng.getrandbits(128))),
            "utm_source": "newsletter",
            "utm_medium": "email",
            "utm_campaign": f"campaign_{rng.randint(1, 40)}",
            "utm_content": "hero_banner",
            "utm_term": None,
            "page": {
                "url": f"https://shop.example/p/{rng.randint(1, 99999)}",
                "path": f"/p/{rng.randint(1, 99999)}",
                "referrer": "https://mail.example/inbox",
                "title": "BrightCart product page with a reasonably long descriptive title",
            },
            "context": {
                "user_agent": "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like "
                "Gecko) Chrome/131.0.0.0 Safari/537.36",
                "ip": f"10.{rng.randint(0, 255)}.{rng.randint(0, 255)}.{rng.randint(0, 255)}",
                "locale": "en-GB",
                "device_type": "desktop",
                "app_version": "4.12.3",
            },
            "properties": {
                "product_id": rng.randint(1, 50000),
                "order_id": rng.randint(1, 10**7),
                "revenue": f"{rng.randint(100, 99999) / 100:.2f}",
                "currency": "EUR",
                "quantity": rng.randint(1, 5),
                "sku": f"SKU-{rng.randint(1, 10**6):07d}",
                "category": "home_and_garden",
            },
            "schema_version": 1,
        }
    )


def gz(lines: list[bytes]) -> bytes:
    buf = io.BytesIO()
    with gzip.GzipFile(filename="", fileobj=buf, mode="wb", mtime=0) as out:
        out.write(b"\n".join(lines) + b"\n")
    return buf.getvalue()


def timed_tap(env: dict[str, str], config: dict[str, object], work: Path) -> float:
    cfg = work / f"config-{uuid.uuid4().hex[:6]}.json"
    cfg.write_bytes(orjson.dumps(config))
    start = time.perf_counter()
    with open(os.devnull, "wb") as sink:
        subprocess.run(
            [str(TAP), "--config", str(cfg)],
            env=env,
            stdout=sink,
            stderr=subprocess.DEVNULL,
            check=True,
        )
    return time.perf_counter() - start


def timed_lane(env: dict[str, str], config: dict[str, object], work: Path) -> tuple[float, int]:
    """tap | target-redshift into a fresh DuckDB file: (wall seconds, rows landed)."""
    tag = uuid.uuid4().hex[:6]
    tap_cfg = work / f"tap-{tag}.json"
    tap_cfg.write_bytes(orjson.dumps(config))
    warehouse = work / f"lane-{tag}.duckdb"
    target_cfg = work / f"target-{tag}.json"
    target_cfg.write_bytes(
        orjson.dumps(
            {
                "backend": "duckdb",
                "path": str(warehouse),
                "lane": "events",
                "default_target_schema": "raw_events",
                "staging_dir": str(work / "staging"),
                "version_key_properties": {"events": ["s3_key", "line_number"]},
            }
        )
    )
    start = time.perf_counter()
    tap = subprocess.Popen(
        [str(TAP), "--config", str(tap_cfg)],
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
    )
    subprocess.run(
        [str(TARGET), "--config", str(target_cfg)],
        env=env,
        stdin=tap.stdout,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        check=True,
    )
    if tap.stdout is not None:
        tap.stdout.close()
    tap.wait()
    elapsed = time.perf_counter() - start
    with duckdb.connect(str(warehouse), read_only=True) as con:
        (rows,) = con.execute("select count(*) from raw_events.events").fetchone() or (0,)
    return elapsed, int(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--events", type=int, default=200_000)
    parser.add_argument("--per-object", type=int, default=5_000)
    args = parser.parse_args()

    root = Path(os.environ.get("EVT_BENCH_DIR", Path(tempfile.gettempdir()) / "evt" / "bench"))
    shutil.rmtree(root, ignore_errors=True)
    (root / "files").mkdir(parents=True)
    port = free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port)
    server.start()
    aws = {
        "AWS_ENDPOINT_URL": f"http://127.0.0.1:{port}",
        "AWS_ACCESS_KEY_ID": "testing",
        "AWS_SECRET_ACCESS_KEY": "testing",
        "AWS_DEFAULT_REGION": "us-east-1",
    }
    env = {k: v for k, v in os.environ.items() if not k.startswith("AWS_")} | aws
    os.environ.update(aws)
    try:
        s3 = boto3.client("s3")
        s3.create_bucket(Bucket="bench")
        rng = random.Random(42)
        written = 0
        raw_bytes = 0
        obj = 0
        while written < args.events:
            hour = obj % 24
            count = min(args.per_object, args.events - written)
            lines = [make_event(rng, written + i, hour) for i in range(count)]
            raw_bytes += sum(len(line) + 1 for line in lines)
            body = gz(lines)
            name = f"brightcart-events-1-2026-11-01-{hour:02d}-00-00-{obj:06d}.gz"
            s3.put_object(
                Bucket="bench", Key=f"events/dt=2026-11-01/hour={hour:02d}/{name}", Body=body
            )
            written += count
            obj += 1
        print(f"{written} events in {obj} objects, {raw_bytes / written:.0f} B/event raw")

        # DuckDB over the same objects, downloaded to local files.
        for page in s3.get_paginator("list_objects_v2").paginate(Bucket="bench", Prefix="events/"):
            for item in page.get("Contents", []):
                s3.download_file("bench", item["Key"], str(root / "files" / Path(item["Key"]).name))
        # In memory: DuckDB parses and materialises every column, nothing is written to disk.
        con = duckdb.connect()
        source = "read_json(?, format = 'newline_delimited', compression = 'gzip')"
        files = [str(root / "files" / "*.gz")]
        start = time.perf_counter()
        con.execute(f"create table ev as select * from {source}", files)
        duck_s = time.perf_counter() - start
        (duck_rows,) = con.execute("select count(*) from ev").fetchone() or (0,)
        start = time.perf_counter()
        con.execute(f"select count(*) from {source}", files).fetchall()
        count_s = time.perf_counter() - start
        threads = con.execute("select current_setting('threads')").fetchone()
        con.close()
        print(
            f"duckdb read_json -> table ({threads[0] if threads else '?'} threads): {duck_rows} "
            f"rows in {duck_s:.2f}s = {duck_rows / duck_s:,.0f} rows/s "
            f"(count(*) only: {duck_rows / count_s:,.0f} rows/s)"
        )

        base = {"bucket": "bench", "download_concurrency": 4}
        with tempfile.TemporaryDirectory(dir=root) as work:
            rec_s = timed_tap(env, base, Path(work))
            print(
                f"tap RECORD to /dev/null: {written} rows in {rec_s:.2f}s = "
                f"{written / rec_s:,.0f} rows/s"
            )
            # The lane's earlier mode: plain files of two DuckDB row groups.
            batch = base | {
                "batch_config": {
                    "encoding": {"format": "jsonl", "compression": "none"},
                    "storage": {"root": (Path(work) / "batches").as_uri()},
                    "batch_size": 245_760,
                }
            }
            bat_s = timed_tap(env, batch, Path(work))
            print(
                f"tap BATCH (plain jsonl files) to /dev/null: {written} rows in {bat_s:.2f}s = "
                f"{written / bat_s:,.0f} rows/s"
            )
            lane_rec_s, lane_rec_rows = timed_lane(env, base, Path(work))
            print(
                f"lane RECORD (tap | target-redshift → DuckDB file): {lane_rec_rows} rows in "
                f"{lane_rec_s:.2f}s = {lane_rec_rows / lane_rec_s:,.0f} rows/s"
            )
            lane_bat_s, lane_bat_rows = timed_lane(env, batch, Path(work))
            print(
                f"lane BATCH (tap | target-redshift → DuckDB file): {lane_bat_rows} rows in "
                f"{lane_bat_s:.2f}s = {lane_bat_rows / lane_bat_s:,.0f} rows/s"
            )
            # As the events lane runs (meltano.yml): the tap names the objects, the loader
            # reads them from S3 itself (ADR 0010).
            manifests = base | {"object_manifests": True, "manifest_bytes": 32 << 20}
            lane_obj_s, lane_obj_rows = timed_lane(env, manifests, Path(work))
            print(
                f"lane object manifests (tap names objects | target-redshift reads them → DuckDB "
                f"file): {lane_obj_rows} rows in {lane_obj_s:.2f}s = "
                f"{lane_obj_rows / lane_obj_s:,.0f} rows/s"
            )
        start = time.perf_counter()
        subprocess.run([str(TAP), "--about"], stdout=subprocess.DEVNULL, check=True)
        startup = time.perf_counter() - start
        print(
            f"tap start-up (--about): {startup:.2f}s; "
            f"RECORD excluding start-up: {written / (rec_s - startup):,.0f} rows/s"
        )
        duck_rate = duck_rows / duck_s
        print(
            f"ratio tap RECORD / duckdb: {(written / rec_s) / duck_rate:.2f}; "
            f"BATCH / duckdb: {(written / bat_s) / duck_rate:.2f}; "
            f"lane RECORD / duckdb: {(lane_rec_rows / lane_rec_s) / duck_rate:.2f}; "
            f"lane BATCH / duckdb: {(lane_bat_rows / lane_bat_s) / duck_rate:.2f}; "
            f"lane object manifests / duckdb: {(lane_obj_rows / lane_obj_s) / duck_rate:.2f}"
        )
        print(f"machine load average (1 min): {os.getloadavg()[0]:.1f} on {os.cpu_count()} cores")
    finally:
        server.stop()
        shutil.rmtree(root, ignore_errors=True)


if __name__ == "__main__":
    main()
