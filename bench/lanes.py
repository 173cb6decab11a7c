"""Section 1: rows/s per lane (end to end, tap alone, loader alone) and the baselines."""

from __future__ import annotations

import gzip
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import unquote, urlparse

import duckdb
import orjson

from bench.figures import Figure
from bench.proc import Measured, run_measured
from bench.world import World, bin_path
from brightcart_ops.registry import registry
from brightcart_world.generator.events_out import s3_client
from brightcart_world.settings import REPO_ROOT


@dataclass(frozen=True)
class LaneSpec:
    lane: str
    job: str
    tap: str
    schema: str


# From the lane registry (meltano.yml's job annotations), in declaration order.
LANE_SPECS = [
    LaneSpec(lane.name, lane.job, lane.extractor, lane.raw_schema)
    for lane in registry().lanes.values()
]
SHOP_TABLES = list(registry().lane("shop").tables)


def meltano(world: World, label: str, *args: str, **kwargs: object) -> Measured:
    return world.run(label, [bin_path("meltano"), "--environment", "dev", *args], **kwargs)


def meltano_fresh(
    world: World, label: str, scratch: Path, env: dict[str, str], *args: str
) -> Measured:
    """`meltano <args>` as a whole process into a fresh warehouse and Meltano state in `scratch`
    (the world's sources and plugins as they are): the same start for every repeat."""
    scratch.mkdir(parents=True, exist_ok=True)
    fresh = {
        **world.step_env(),
        "BRIGHTCART_WAREHOUSE": str(scratch / "warehouse.duckdb"),
        "MELTANO_DATABASE_URI": f"sqlite:///{scratch / 'meltano.db'}",
        **env,
    }
    argv = [bin_path("meltano"), "--environment", "dev", *args]
    measured = run_measured(label, argv, fresh, REPO_ROOT, world.logs / "bench.log")
    world.steps.append(measured)
    return measured


def count_rows(warehouse: Path, table: str) -> int:
    """Rows of a table in a DuckDB file (0 when the file or the table is missing)."""
    if not warehouse.exists():
        return 0
    try:
        with duckdb.connect(str(warehouse), read_only=True) as con:
            row = con.execute(f"SELECT count(*) FROM {table}").fetchone()
    except duckdb.Error:
        return 0
    return int(row[0]) if row else 0


def count_records(path: Path) -> tuple[int, int]:
    """(records, source objects named) of a recorded Singer stream: RECORD messages plus the
    lines of BATCH files; a BATCH message naming source objects (object manifests) counts its
    objects, whose lines only the loader reads."""
    records = objects = 0
    with path.open("rb") as handle:
        for line in handle:
            if b'"RECORD"' not in line[:40] and b'"BATCH"' not in line[:40]:
                continue
            message = orjson.loads(line)
            if message.get("type") == "RECORD":
                records += 1
            elif message.get("type") == "BATCH" and "objects" in message:
                objects += len(message.get("manifest", []))
            elif message.get("type") == "BATCH":
                records += sum(_batch_file_lines(url) for url in message.get("manifest", []))
    return records, objects


def _batch_file_lines(url: str) -> int:
    """Records of a local (file://) BATCH file: Parquet rows, or lines (gzipped or not)."""
    local = Path(unquote(urlparse(url).path))
    if local.suffix == ".parquet":
        with duckdb.connect() as con:
            row = con.execute("SELECT count(*) FROM read_parquet(?)", [str(local)]).fetchone()
        return int(row[0]) if row else 0
    opener = gzip.open if local.suffix == ".gz" else open
    with opener(local, "rb") as lines:
        return sum(1 for line in lines if line.strip())


def lane_end_to_end(world: World, spec: LaneSpec) -> list[Figure]:
    """`meltano run <lane>-lane` on the generated data, then again with nothing new (fixed cost)."""
    figures: list[Figure] = []
    known = world.load_ids()
    full = meltano(world, f"{spec.lane} lane", "run", spec.job)
    received, inserted = world.landed_since(spec.lane, known)
    if not full.ok:
        return [Figure.missing(spec.lane, "lane end to end (meltano run)", _reason(full))]
    figures.append(
        Figure.of(
            spec.lane,
            "lane end to end (meltano run)",
            full,
            inserted,
            note=f"{received:,} rows received",
        )
    )
    known = world.load_ids()
    empty = meltano(world, f"{spec.lane} lane rerun", "run", spec.job)
    received_again, _ = world.landed_since(spec.lane, known)
    if empty.ok:
        figures.append(
            Figure(
                spec.lane,
                "fixed cost: rerun, nothing new",
                rows=received_again,
                wall_s=empty.wall_s,
                cpu_s=empty.cpu_s,
                peak_rss_mib=empty.peak_rss_mib,
                note="start-up of meltano, tap and loader; boundary re-sends only",
                kind="fixed",
            )
        )
        marginal_wall = full.wall_s - empty.wall_s
        marginal_cpu = full.cpu_s - empty.cpu_s
        if marginal_wall > 0.5 and inserted > 0:
            figures.append(
                Figure(
                    spec.lane,
                    "lane marginal (minus fixed cost)",
                    rows=inserted,
                    wall_s=marginal_wall,
                    rows_per_s=inserted / marginal_wall,
                    cpu_s=marginal_cpu,
                    note=(
                        f"{inserted / marginal_cpu:,.0f} rows per CPU-second"
                        if marginal_cpu > 0
                        else ""
                    ),
                )
            )
    else:
        figures.append(Figure.missing(spec.lane, "fixed cost: rerun", _reason(empty), "fixed"))
    # The same whole window again, warm (files in the page cache), into a fresh warehouse and
    # Meltano state: the first figure above is the cold one.
    scratch = world.home / "warm" / spec.lane
    warm = meltano_fresh(world, f"{spec.lane} lane warm", scratch, {}, "run", spec.job)
    if warm.ok:
        rows = _inserted(scratch / "warehouse.duckdb", spec.lane)
        what = "lane end to end, warm (fresh warehouse and state)"
        figures.append(Figure.of(spec.lane, what, warm, rows))
    else:
        figures.append(Figure.missing(spec.lane, "lane end to end, warm", _reason(warm)))
    return figures


def _inserted(warehouse: Path, lane: str) -> int:
    """rows_inserted of a lane in a warehouse's load log."""
    if not warehouse.exists():
        return 0
    with duckdb.connect(str(warehouse), read_only=True) as con:
        row = con.execute(
            "SELECT coalesce(sum(rows_inserted), 0) FROM raw_meta.load_log WHERE lane = ?", [lane]
        ).fetchone()
    return int(row[0]) if row else 0


def tap_and_loader(world: World, spec: LaneSpec) -> list[Figure]:
    """Tap alone (meltano invoke, messages recorded to a file), then the loader alone on them."""
    recorded = world.home / "recorded" / f"{spec.lane}.singer.jsonl"
    recorded.parent.mkdir(parents=True, exist_ok=True)
    with recorded.open("wb") as out:
        tap = meltano(world, f"{spec.lane} tap alone", "invoke", spec.tap, stdout=out)
    if not tap.ok:
        return [
            Figure.missing(spec.lane, "tap alone", _reason(tap)),
            Figure.missing(spec.lane, "loader alone", "no recorded messages"),
        ]
    records, objects = count_records(recorded)
    size = f"{recorded.stat().st_size / 2**20:,.1f} MiB of messages"
    if objects:
        what = "tap alone (meltano invoke → file): names objects, reads no line"
        figures = [
            Figure(
                spec.lane,
                what,
                rows=0,
                wall_s=tap.wall_s,
                cpu_s=tap.cpu_s,
                peak_rss_mib=tap.peak_rss_mib,
                note=f"{objects:,} objects named; {size}",
            )
        ]
    else:
        figures = [
            Figure.of(spec.lane, "tap alone (meltano invoke → file)", tap, records, note=size)
        ]
    scratch = world.home / "loader-alone" / f"{spec.lane}.duckdb"
    scratch.parent.mkdir(parents=True, exist_ok=True)
    scratch.unlink(missing_ok=True)
    config = scratch.with_suffix(".json")
    config.write_text(
        json.dumps(
            {
                "backend": "duckdb",
                "path": str(scratch),
                "lane": spec.lane,
                "default_target_schema": spec.schema,
                "staging_dir": str(scratch.parent / "staging"),
            }
        )
    )
    with recorded.open("rb") as stdin:
        loader = world.run(
            f"{spec.lane} loader alone",
            [bin_path("target-redshift"), "--config", str(config)],
            stdin=stdin,
        )
    if loader.ok:
        rows = _inserted(scratch, spec.lane) if objects else records
        figures.append(Figure.of(spec.lane, "loader alone (recorded messages)", loader, rows))
    else:
        figures.append(Figure.missing(spec.lane, "loader alone", _reason(loader)))
    return figures


def peer(world: World, label: str, args: list[str], lane: str, note: str = "") -> Figure:
    """A peer as a whole process, like our lanes: its rate counts its start-up too. The seconds
    it spent inside its process (start-up excluded) go to the note."""
    out = world.home / "peers" / f"{label.replace(' ', '_')}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    with out.open("wb") as handle:
        measured = world.run(label, [sys.executable, "-m", "bench.peers", *args], stdout=handle)
    if not measured.ok:
        return Figure.missing(lane, label, _reason(measured), kind="peer")
    result = json.loads(out.read_text().strip().splitlines()[-1])
    rows, seconds = int(result["rows"]), float(result["seconds"])
    inside = f"{rows / seconds:,.0f} rows/s inside its process ({seconds:.1f} s)" if seconds else ""
    note = "; ".join(n for n in (note, inside) if n)
    return Figure.of(lane, label + ", whole process", measured, rows, note=note, kind="peer")


def shop_peers(world: World, quick: bool) -> list[Figure]:
    s = world.settings
    tables = ",".join(f"shop.{t}" for t in SHOP_TABLES)
    figures = [
        peer(
            world,
            "peer: PostgreSQL binary COPY",
            ["pg-copy", "--dsn", s.pg_dsn, "--tables", tables],
            "shop",
            "COPY (SELECT *) TO STDOUT (FORMAT binary) via psycopg; extract only",
        )
    ]
    url = f"postgresql+psycopg2://{s.pg_user}@{s.pg_host}:{s.pg_port}/{s.pg_db}"
    for backend in ["connectorx"] if quick else ["connectorx", "pyarrow"]:
        figures.append(
            peer(
                world,
                f"peer: dlt sql_database ({backend})",
                [
                    "dlt",
                    "--url",
                    url,
                    "--backend",
                    backend,
                    "--duckdb",
                    str(world.home / "peers" / f"dlt_{backend}.duckdb"),
                    "--pipelines-dir",
                    str(world.home / "peers" / "dlt"),
                    "--tables",
                    ",".join(SHOP_TABLES),
                ],
                "shop",
                "PostgreSQL → DuckDB file, same 8 tables",
            )
        )
    return figures


def download_events(world: World) -> Path:
    folder = world.home / "peers" / "events"
    folder.mkdir(parents=True, exist_ok=True)
    s3 = s3_client(world.settings)
    bucket = world.settings.s3_bucket
    for page in s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix="events/"):
        for item in page.get("Contents", []):
            key = str(item["Key"])
            s3.download_file(bucket, key, str(folder / key.replace("/", "_")))
    return folder


def events_peers(world: World) -> list[Figure]:
    """DuckDB read_json on the same objects: downloaded first (the goal's reference), and
    straight from S3 through httpfs, as the lane's loader reads them."""
    folder = download_events(world)
    return [
        peer(
            world,
            "peer: DuckDB read_json",
            ["duckdb-json", "--files", str(folder)],
            "events",
            "same gzip objects, downloaded first (not timed); parsed into an in-memory table",
        ),
        peer(
            world,
            "peer: DuckDB read_json from S3",
            ["duckdb-json-s3", "--bucket", world.settings.s3_bucket],
            "events",
            "same gzip objects read through httpfs from moto's server, as the lane reads them",
        ),
    ]


def _reason(measured: Measured) -> str:
    last = [line for line in measured.tail.splitlines() if line.strip()]
    detail = last[-1][:160] if last else ""
    return f"{measured.label} exited {measured.returncode}: {detail}"
