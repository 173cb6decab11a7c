"""Case 5: after every kill, outage and bad input above, no log holds a credential of the world.

The credentials are every one the world issues: the Salesforce connected app's client secret, its
refresh tokens (the current one, the stored one and every rotated one) and every access token the
emulator handed out (its own record, `salesforce/issued-tokens`); the PostgreSQL password; the AWS
key pair the S3 server is called with; the warehouse password (random per run, see conftest.py).

First a crm run is killed with -9 right after Meltano wrote tap-salesforce's config file (client
secret, refresh token) into its run folder: the file is there after the kill, and the next run of
the lane removes it. Then the scan: every file under the world's BRIGHTCART_HOME (lane and
transform logs, captured output of every subprocess, alerts, the ops journal, source server logs,
the private PostgreSQL cluster's folder, the world's Meltano run folder with whatever killed and
timed-out runs left behind, plugin config files included) except the places meant to hold the
secrets (the emulator's credentials and issued-tokens files, the token store and world.env); the
project's Meltano and SQLMesh log folders; the reliability summary files; and the warehouse's ops
tables (failure tails and alert details are logs too).

The scan decodes what it reads: each file as it is, URL-decoded, JSON-unescaped and with every
base64 run decoded; and it looks for each credential URL-encoded, JSON-escaped and base64-encoded
(at each of the three alignments) in the raw bytes, so a large binary file is covered too. A
credential planted base64- and URL-encoded into a log is found before the real scan runs.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
import re
import time
import urllib.parse
from dataclasses import dataclass
from pathlib import Path

from brightcart_ops.runtime import PROJECT_ROOT
from brightcart_world.salesforce.auth import credentials, issued_tokens

from .harness import REL_ROOT, TALLY, WORLD_CREDENTIALS, RelWorld, SqlmeshProd

MEANT_FOR_SECRETS = ("salesforce/credentials.json", "salesforce/issued-tokens", "secrets/")
DECODE_LIMIT = 4 << 20  # files up to 4 MiB are also decoded; larger ones are searched encoded
B64_RUN = re.compile(rb"[A-Za-z0-9+/_-]{16,}={0,2}")
JSON_ESCAPE = re.compile(r"\\(u[0-9a-fA-F]{4}|[\"\\/bfnrt])")


@dataclass(frozen=True)
class Secret:
    what: str
    value: str


def _secrets(rel: RelWorld) -> list[Secret]:
    """Every credential the world issued, named by what it is."""
    creds = credentials(rel.settings.home)  # what the taps are given (environment or file)
    found = [Secret("salesforce client secret", creds.client_secret)]
    found += [Secret("salesforce refresh token", creds.refresh_token)]
    stored = rel.settings.home / "secrets" / "salesforce-refresh-token.json"
    if stored.exists():
        token = str(json.loads(stored.read_text(encoding="utf-8"))["refresh_token"])
        found.append(Secret("stored salesforce refresh token", token))
    found += [Secret("issued salesforce token", t) for t in issued_tokens(rel.settings.home)]
    found += [
        Secret("postgresql password", rel.settings.pg_password),
        Secret("aws access key id", rel.settings.aws_access_key_id),
        Secret("aws secret access key", rel.settings.aws_secret_access_key),
        Secret("warehouse password", os.environ["REDSHIFT_PASSWORD"]),
        Secret("sqlmesh state password", os.environ["SQLMESH_STATE_PASSWORD"]),
    ]
    unique: dict[str, Secret] = {}
    for s in found:
        unique.setdefault(s.value, s)
    return [s for s in unique.values() if len(s.value) >= 8]


def _encodings(value: str) -> dict[str, bytes]:
    """The forms a credential takes in a file: as is, URL-encoded, JSON-escaped, base64."""
    raw = value.encode()
    forms = {
        "plain": raw,
        "url-encoded": urllib.parse.quote(value, safe="").encode(),
        "url-encoded (form)": urllib.parse.quote_plus(value).encode(),
        "json-escaped": json.dumps(value)[1:-1].encode(),
        "json-escaped (ascii)": json.dumps(value, ensure_ascii=True)[1:-1].encode(),
    }
    for shift in range(3):  # the secret may start at any byte offset inside a base64 blob
        encoded = base64.b64encode(b"\0" * shift + raw)
        # drop the characters mixed with the padding bytes and with whatever follows
        core = encoded[(shift * 4 + 2) // 3 : len(encoded) - 4]
        if len(core) >= 8:
            forms[f"base64+{shift}"] = core
            forms[f"base64url+{shift}"] = core.replace(b"+", b"-").replace(b"/", b"_")
    return forms


def _decoded_views(data: bytes) -> list[tuple[str, bytes]]:
    """The file decoded the ways a credential may have been encoded into it."""
    text = data.decode("utf-8", errors="replace")
    views = [
        ("url-decoded", urllib.parse.unquote(text).encode()),
        ("url-decoded (form)", urllib.parse.unquote_plus(text).encode()),
        ("json-unescaped", JSON_ESCAPE.sub(_unescape, text).encode()),
    ]
    blobs = []
    for run in B64_RUN.findall(data):
        body = run.rstrip(b"=")
        for alphabet in (None, b"-_"):
            try:
                padded = body + b"=" * (-len(body) % 4)
                blobs.append(base64.b64decode(padded, altchars=alphabet, validate=False))
            except (binascii.Error, ValueError):
                continue
    if blobs:
        views.append(("base64-decoded", b"\n".join(blobs)))
    return views


def _unescape(match: re.Match[str]) -> str:
    code = match.group(1)
    if code.startswith("u"):
        return chr(int(code[1:], 16))
    return {"b": "\b", "f": "\f", "n": "\n", "r": "\r", "t": "\t"}.get(code, code)


def scan(paths: list[Path], secrets: list[Secret]) -> list[str]:
    """`<file>: <what> (<form>)` for every credential found in any of the files."""
    needles = [(s, form, b) for s in secrets for form, b in _encodings(s.value).items()]
    hits: set[str] = set()
    for path in paths:
        try:
            data = path.read_bytes()
        except OSError:
            continue  # a file of another run removed meanwhile
        for secret, form, needle in needles:
            if needle in data:
                hits.add(f"{path}: {secret.what} ({form})")
        if len(data) <= DECODE_LIMIT:
            for view, decoded in _decoded_views(data):
                for secret in secrets:
                    if secret.value.encode() in decoded:
                        hits.add(f"{path}: {secret.what} ({view})")
    return sorted(hits)


def _walk(root: Path) -> list[Path]:
    """Files under root, not following symbolic links (plugin environments are linked in)."""
    found = []
    for folder, _dirs, names in os.walk(root, followlinks=False):
        found += [Path(folder) / name for name in names]
    return [p for p in found if p.is_file() and not p.is_symlink()]


def _files(rel: RelWorld) -> list[Path]:
    home = rel.settings.home
    out: list[Path] = []
    for path in _walk(home):
        rel_path = path.relative_to(home).as_posix()
        if rel_path.startswith(MEANT_FOR_SECRETS):
            continue
        if path.suffix in (".duckdb", ".wal"):
            continue  # the warehouse; its ops tables are read below
        out.append(path)
    out += _walk(PROJECT_ROOT / ".meltano" / "logs")
    out += _walk(PROJECT_ROOT / "logs")  # SQLMesh's log folder
    out += [p for p in REL_ROOT.glob("*.txt") if p.is_file()]
    return out


def _salesforce_configs(rel: RelWorld) -> set[Path]:
    return set((rel.settings.home / "meltano" / "run" / "tap-salesforce").glob("*.config.json"))


def _holding_a_secret(paths: set[Path], secrets: list[Secret]) -> list[Path]:
    return sorted(p for p in paths if p.exists() and scan([p], secrets))


def test_kill_9_leaves_no_salesforce_secret_after_the_next_run(rel: RelWorld) -> None:
    secrets = _secrets(rel)
    before = _salesforce_configs(rel)
    proc = rel.meltano_popen("crm")
    written: set[Path] = set()
    while proc.poll() is None and not written:
        written = _salesforce_configs(rel) - before
        time.sleep(0.05)
    outcome = rel.kill_at("crm", proc, 0)
    assert outcome.killed and written, "the run ended before its config file was seen"
    left_by_kill = _holding_a_secret(written, secrets)
    assert left_by_kill, "the killed run's config file should hold the secret: nothing to prove"
    rerun = rel.lane("crm")
    assert rerun.status == "succeeded", rerun.error
    run_dir = rel.settings.home / "meltano" / "run"
    after = _holding_a_secret(set(_walk(run_dir)), _secrets(rel))
    TALLY.note(
        f"kill -9 crm with its config written: {len(left_by_kill)} config file left by the kill, "
        f"{len(after)} holding a secret after the next run"
    )
    assert not after, f"secret left on disk after the next run: {after}"


def test_the_scan_finds_a_planted_encoded_secret(rel: RelWorld) -> None:
    secrets = _secrets(rel)
    by_what = {s.what: s.value for s in secrets}
    access = next(s.value for s in secrets if s.what == "issued salesforce token")
    planted = rel.settings.home / "logs" / "planted.log"
    payload = {"detail": "retrying", "auth": base64.b64encode(f"u:{access}".encode()).decode()}
    lines = [
        json.dumps(payload),
        "GET /connect?password=" + urllib.parse.quote(by_what["postgresql password"], safe=""),
        json.dumps({"env": f"REDSHIFT_PASSWORD={by_what['warehouse password']}"}),
        "key=" + base64.urlsafe_b64encode(by_what["aws secret access key"].encode()).decode(),
    ]
    planted.write_text("\n".join(lines) + "\n", encoding="utf-8")
    try:
        found = scan([planted], secrets)
    finally:
        planted.unlink()
    what = {hit.split(": ", 1)[1].split(" (")[0] for hit in found}
    assert what == {
        "issued salesforce token",
        "postgresql password",
        "warehouse password",
        "aws secret access key",
    }, found
    plain = [hit for hit in found if hit.endswith("(plain)")]
    assert plain == [], f"planted only encoded, yet found as is: {plain}"


def test_no_secret_in_any_log(rel: RelWorld, sqlmesh_prod: SqlmeshProd) -> None:
    """`sqlmesh_prod`: SQLMesh has run in this world, so its log folder holds this run's logs."""
    secrets = _secrets(rel)
    kinds = {s.what for s in secrets}
    for needed in (
        "salesforce client secret",
        "salesforce refresh token",
        "issued salesforce token",
        "postgresql password",
        "aws access key id",
        "aws secret access key",
        "warehouse password",
    ):
        assert needed in kinds, f"the {needed} of this world was not found: nothing to scan for"
    assert set(WORLD_CREDENTIALS.values()) <= {s.value for s in secrets}
    files = _files(rel)
    assert any(p.name.endswith(".log") for p in files), "no log was written: nothing scanned"
    for folder in ("pg", "logs", "captured", "meltano"):
        assert any(rel.settings.home / folder in p.parents for p in files), f"{folder}/ not scanned"
    assert any(p.name.startswith("sqlmesh_") for p in files), "no SQLMesh log was scanned"
    hits = scan(files, secrets)
    texts: list[str] = []
    if rel.wh_table_exists("ops", "pipeline_runs"):
        texts += [str(r[0]) for r in rel.wh_rows("SELECT error FROM ops.pipeline_runs")]
    if rel.wh_table_exists("ops", "alerts"):
        texts += [str(r[0]) for r in rel.wh_rows("SELECT detail FROM ops.alerts")]
    table_text = REL_ROOT / f"ops-tables-{os.getpid()}.scan"
    table_text.write_text("\n".join(texts), encoding="utf-8")
    try:
        hits += [h.replace(str(table_text), "ops tables") for h in scan([table_text], secrets)]
    finally:
        table_text.unlink()
    TALLY.note(
        f"secret scan: {len(files)} files and {len(texts)} ops rows for {len(secrets)} "
        f"credentials, {len(hits)} hits"
    )
    assert not hits, "a credential of the world appears in:\n" + "\n".join(hits)
