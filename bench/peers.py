"""Baseline ("peer") loads on the same data as the lanes, one per process so RSS and CPU count.

    python -m bench.peers pg-copy --dsn DSN --tables shop.orders,...
    python -m bench.peers duckdb-json --files DIR
    python -m bench.peers duckdb-json-s3 --bucket BUCKET [--prefix events/]
    python -m bench.peers dlt --url postgresql+psycopg2://... --backend connectorx --duckdb PATH
        --pipelines-dir DIR --tables orders,...

Each prints one JSON line: {"rows": n, "seconds": s} timed inside the process (start-up excluded).
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path


def pg_copy(dsn: str, tables: list[str]) -> tuple[int, float]:
    """Binary COPY of whole tables to the client; rows counted from the source afterwards."""
    import psycopg

    total_rows = 0
    started = time.perf_counter()
    with psycopg.connect(dsn) as con, con.cursor() as cur:
        for table in tables:
            with cur.copy(f"COPY (SELECT * FROM {table}) TO STDOUT (FORMAT binary)") as copy:
                for _block in copy:
                    pass
            total_rows += cur.rowcount if cur.rowcount >= 0 else 0
    elapsed = time.perf_counter() - started
    if total_rows == 0:
        with psycopg.connect(dsn) as con:
            for table in tables:
                row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
                total_rows += int(row[0]) if row else 0
    return total_rows, elapsed


def duckdb_json(folder: str) -> tuple[int, float]:
    """DuckDB read_json of every downloaded gzip object into an in-memory table."""
    import duckdb

    con = duckdb.connect()
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE ev AS SELECT * FROM read_json(?, format = 'newline_delimited', "
        "compression = 'gzip', ignore_errors = true)",
        [str(Path(folder) / "*.gz")],
    )
    elapsed = time.perf_counter() - started
    row = con.execute("SELECT count(*) FROM ev").fetchone()
    return (int(row[0]) if row else 0), elapsed


def duckdb_json_s3(bucket: str, prefix: str) -> tuple[int, float]:
    """DuckDB read_json of the same gzip objects straight from S3 (httpfs, the endpoint and
    credentials of the environment: moto's server here), into an in-memory table."""
    import duckdb

    from target_redshift.s3read import enable_s3

    con = duckdb.connect()
    enable_s3(con)
    started = time.perf_counter()
    con.execute(
        "CREATE TABLE ev AS SELECT * FROM read_json(?, format = 'newline_delimited', "
        "compression = 'gzip', ignore_errors = true, hive_partitioning = false)",
        [f"s3://{bucket}/{prefix}**/*.gz"],
    )
    elapsed = time.perf_counter() - started
    row = con.execute("SELECT count(*) FROM ev").fetchone()
    return (int(row[0]) if row else 0), elapsed


def dlt_load(
    url: str, backend: str, duckdb_path: str, pipelines_dir: str, tables: list[str]
) -> tuple[int, float]:
    """dlt's sql_database source for the shop tables into a DuckDB file."""
    import dlt
    from dlt.sources.sql_database import sql_database

    source = sql_database(
        credentials=url,
        schema="shop",
        table_names=tables,
        backend=backend,  # type: ignore[arg-type]
    )
    pipeline = dlt.pipeline(
        pipeline_name=f"bench_{backend}",
        destination=dlt.destinations.duckdb(duckdb_path),
        dataset_name=f"dlt_{backend}",
        pipelines_dir=pipelines_dir,
        dev_mode=True,
    )
    started = time.perf_counter()
    pipeline.run(source)
    elapsed = time.perf_counter() - started
    trace = pipeline.last_trace
    counts = trace.last_normalize_info.row_counts if trace and trace.last_normalize_info else {}
    return sum(int(counts.get(t, 0)) for t in tables), elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="kind", required=True)
    p = sub.add_parser("pg-copy")
    p.add_argument("--dsn", required=True)
    p.add_argument("--tables", required=True)
    d = sub.add_parser("duckdb-json")
    d.add_argument("--files", required=True)
    d3 = sub.add_parser("duckdb-json-s3")
    d3.add_argument("--bucket", required=True)
    d3.add_argument("--prefix", default="events/")
    t = sub.add_parser("dlt")
    t.add_argument("--url", required=True)
    t.add_argument("--backend", default="connectorx")
    t.add_argument("--duckdb", required=True)
    t.add_argument("--pipelines-dir", required=True)
    t.add_argument("--tables", required=True)
    args = parser.parse_args()
    if args.kind == "pg-copy":
        rows, seconds = pg_copy(args.dsn, args.tables.split(","))
    elif args.kind == "duckdb-json":
        rows, seconds = duckdb_json(args.files)
    elif args.kind == "duckdb-json-s3":
        rows, seconds = duckdb_json_s3(args.bucket, args.prefix)
    else:
        rows, seconds = dlt_load(
            args.url, args.backend, args.duckdb, args.pipelines_dir, args.tables.split(",")
        )
    print(json.dumps({"rows": rows, "seconds": seconds}), flush=True)


if __name__ == "__main__":
    main()
