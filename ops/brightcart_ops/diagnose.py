"""Why a job did not succeed, in one line: read from the last lines of its output.

A lane fails for a handful of reasons an operator acts on differently: its source is unreachable
(at which address), the source refused the credentials, a quota ran out, an attempt ran past its
time, the warehouse stayed locked, a rule refused the run, or another run of the job holds its
lock. The runner keeps the last lines of each failed attempt; this names the reason they show.
"""

from __future__ import annotations

import re

from brightcart_ops.runtime import TIMED_OUT_EXIT_CODE

# Addresses as psycopg, botocore and requests/urllib3 print them.
_ADDRESS = (
    re.compile(r'server at "(?P<host>[^"]+)", port (?P<port>\d+)'),
    re.compile(r"host='(?P<host>[^']+)', port=(?P<port>\d+)"),
    re.compile(r"endpoint URL: \"?[a-z]+://(?P<host>[^:/\"]+):(?P<port>\d+)"),
    re.compile(r"[a-z]+://(?P<host>[\w.-]+):(?P<port>\d+)"),
)
_UNREACHABLE = re.compile(
    r"connection refused|could not connect|failed to establish a new connection|"
    r"max retries exceeded|endpointconnectionerror|name or service not known|"
    r"no route to host|connection reset",
    re.IGNORECASE,
)
_AUTH = re.compile(
    r"password authentication failed|invalid_grant|invalid_client|authentication failed|"
    r"invalidaccesskeyid|signaturedoesnotmatch|accessdenied|\b401\b|unauthorized",
    re.IGNORECASE,
)
_QUOTA = re.compile(
    r"request_limit_exceeded|too many requests|\b429\b|quota|throttl|rate limit", re.IGNORECASE
)
_LOCKED_WAREHOUSE = re.compile(r"could not set lock on file|warehouse.*locked", re.IGNORECASE)


def address(text: str) -> str | None:
    """The first host:port the text names."""
    for pattern in _ADDRESS:
        found = pattern.search(text)
        if found:
            return f"{found['host']}:{found['port']}"
    return None


_EXCEPTION = re.compile(r"\b[A-Z]\w*(Error|Exception)\b:.*")


def _last_error(text: str) -> str:
    """The last exception line (`KeyError: 'Contents'`), else the last line that is not one of
    Meltano's closing notes."""
    lines = [line.strip() for line in text.splitlines() if line.strip()]
    for line in reversed(lines):
        found = _EXCEPTION.search(line)
        if found:
            return found.group(0)
    closing = ("Run completed", "Block run completed", "Extractor failed", "Loader failed")
    useful = [line for line in lines if not line.endswith(closing)]
    return useful[-1] if useful else ""


def reason(status: str, error: str | None, source: str = "the source") -> str:
    """One line saying why a job ended as it did (an empty string for a success)."""
    text = error or ""
    if status == "succeeded":
        return ""
    if status == "skipped":
        return f"skipped: {text.strip() or 'another run holds the lock'}"
    last = _last_error(text)
    if status == "refused":
        return f"refused by a rule: {last}"
    if "timed out after" in text or f"exit code {TIMED_OUT_EXIT_CODE}" in text:
        return f"timed out: {last}"
    if _LOCKED_WAREHOUSE.search(text):
        return "the warehouse stayed locked by another process; the run is journaled, retry later"
    if _UNREACHABLE.search(text):
        where = address(text)
        return f"{source} unreachable" + (f" at {where}" if where else "") + "; is it up?"
    if _AUTH.search(text):
        return f"{source} refused the credentials; check the lane's secrets"
    if _QUOTA.search(text):
        return f"{source}'s API quota or rate limit ran out; retry after it resets"
    return f"failed: {last}" if last else "failed"
