"""Helpers for the events tap tests: fixture objects, the tap runner, output parsing."""

from __future__ import annotations

import gzip
import io
import socket
import subprocess
import sys
import typing as t
import uuid
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import orjson

TAP = Path(sys.executable).parent / "tap-brightcart-events"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@dataclass
class S3Env:
    """A running moto S3 server and the environment that points AWS clients at it."""

    env: dict[str, str]
    client: t.Any


def gz(lines: list[bytes], stored_name: str | None = None) -> bytes:
    """Gzip the lines; Firehose style (no stored file name) unless stored_name is given."""
    buf = io.BytesIO()
    with gzip.GzipFile(filename=stored_name or "", fileobj=buf, mode="wb", mtime=0) as out:
        out.write(b"".join(line + b"\n" for line in lines))
    return buf.getvalue()


def event(event_id: str, received_at: str, occurred_at: str | None = None, **extra: t.Any) -> bytes:
    doc: dict[str, t.Any] = {
        "event_id": event_id,
        "event_type": "page_view",
        "occurred_at": occurred_at or received_at,
        "received_at": received_at,
        "anonymous_id": f"anon-{event_id}",
        "customer_id": 7,
        "session_id": f"sess-{event_id}",
        "page": {"path": "/"},
        "properties": {"revenue": "12.50"},
        "schema_version": 1,
    }
    doc.update(extra)
    return orjson.dumps(doc)


@dataclass
class TapOutput:
    """Parsed Singer output of one tap run; BATCH files are read back into records."""

    records: dict[str, list[dict[str, t.Any]]] = field(default_factory=dict)
    states: list[dict[str, t.Any]] = field(default_factory=list)
    batches: int = 0
    manifest: list[str] = field(default_factory=list)
    schemas: dict[str, dict[str, t.Any]] = field(default_factory=dict)

    def keys(self, stream: str) -> list[tuple[str, int]]:
        return [(r["s3_key"], r["line_number"]) for r in self.records.get(stream, [])]

    @property
    def last_state(self) -> dict[str, t.Any] | None:
        return self.states[-1] if self.states else None


def read_batch_file(url: str, s3_client: t.Any = None) -> list[dict[str, t.Any]]:
    """Records of one batch file named by a file:// or s3:// URL."""
    parsed = urlparse(url)
    if parsed.scheme == "s3":
        assert s3_client is not None, "an s3:// batch file needs an S3 client to read it"
        body = s3_client.get_object(Bucket=parsed.netloc, Key=parsed.path.lstrip("/"))["Body"]
        data = gzip.decompress(body.read())
    else:
        data = gzip.decompress(Path(parsed.path).read_bytes())
    return [orjson.loads(line) for line in data.splitlines() if line.strip()]


def parse_output(lines: t.Iterable[bytes], s3_client: t.Any = None) -> TapOutput:
    out = TapOutput()
    for raw in lines:
        if not raw.strip():
            continue
        try:
            msg = orjson.loads(raw)
        except orjson.JSONDecodeError:
            break  # a line cut by kill -9
        kind = msg["type"]
        if kind == "SCHEMA":
            out.schemas[msg["stream"]] = msg
        elif kind == "RECORD":
            out.records.setdefault(msg["stream"], []).append(msg["record"])
        elif kind == "BATCH":
            out.batches += 1
            assert msg["encoding"] == {"format": "jsonl", "compression": "gzip"}
            for url in msg["manifest"]:
                out.manifest.append(url)
                out.records.setdefault(msg["stream"], []).extend(read_batch_file(url, s3_client))
        elif kind == "STATE":
            out.states.append(msg["value"])
    return out


def tap_command(
    workdir: Path, config: dict[str, t.Any], state: dict[str, t.Any] | None
) -> list[str]:
    workdir.mkdir(parents=True, exist_ok=True)
    tag = uuid.uuid4().hex[:8]
    config_path = workdir / f"config-{tag}.json"
    config_path.write_bytes(orjson.dumps(config))
    cmd = [str(TAP), "--config", str(config_path)]
    if state is not None:
        state_path = workdir / f"state-{tag}.json"
        state_path.write_bytes(orjson.dumps(state))
        cmd += ["--state", str(state_path)]
    return cmd


def run_tap(
    s3: S3Env, workdir: Path, config: dict[str, t.Any], state: dict[str, t.Any] | None = None
) -> TapOutput:
    """Run the real tap executable once and parse what it wrote."""
    done = subprocess.run(
        tap_command(workdir, config, state), env=s3.env, capture_output=True, check=False
    )
    assert done.returncode == 0, done.stderr.decode()[-3000:]
    return parse_output(done.stdout.splitlines(), s3.client)


def batch_config(folder: Path, batch_size: int = 4) -> dict[str, t.Any]:
    return {
        "encoding": {"format": "jsonl", "compression": "gzip"},
        "storage": {"root": folder.as_uri(), "prefix": "events-"},
        "batch_size": batch_size,
    }
