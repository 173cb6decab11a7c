"""The connected app's credentials and the access tokens the emulator has issued.

Credentials come from BRIGHTCART_SF_CLIENT_ID / BRIGHTCART_SF_CLIENT_SECRET /
BRIGHTCART_SF_REFRESH_TOKEN when all three are set, else from <home>/salesforce/credentials.json,
which is created with random values on first use (mode 0600). A tap config takes the same values
from credentials(home). A rotated refresh token is written back to that file.
"""

from __future__ import annotations

import json
import os
import secrets
import threading
from dataclasses import asdict, dataclass
from pathlib import Path

ENV_NAMES = {
    "client_id": "BRIGHTCART_SF_CLIENT_ID",
    "client_secret": "BRIGHTCART_SF_CLIENT_SECRET",
    "refresh_token": "BRIGHTCART_SF_REFRESH_TOKEN",
}


@dataclass
class Credentials:
    client_id: str
    client_secret: str
    refresh_token: str


def credentials_path(home: Path) -> Path:
    return home / "salesforce" / "credentials.json"


def issued_tokens_path(home: Path) -> Path:
    """Every access and refresh token the emulator issued, one a line (mode 0600): the server's
    own record, read by the checks that no issued token leaks into a log."""
    return home / "salesforce" / "issued-tokens"


def issued_tokens(home: Path) -> list[str]:
    path = issued_tokens_path(home)
    return path.read_text(encoding="utf-8").split() if path.exists() else []


def _remember(home: Path, *tokens: str) -> None:
    path = issued_tokens_path(home)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_APPEND, 0o600)
    with os.fdopen(fd, "a", encoding="utf-8") as f:
        f.write("".join(f"{t}\n" for t in tokens))


def _write(path: Path, creds: Credentials) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as f:
        json.dump(asdict(creds), f, indent=2)
    tmp.replace(path)


def credentials(home: Path) -> Credentials:
    """The configured credentials (environment first, then the file, created if missing)."""
    from_env = {k: os.environ.get(v, "") for k, v in ENV_NAMES.items()}
    if all(from_env.values()):
        return Credentials(**from_env)
    path = credentials_path(home)
    if not path.exists():
        _write(
            path,
            Credentials(
                client_id="brightcart-local-" + secrets.token_hex(8),
                client_secret=secrets.token_urlsafe(24),
                refresh_token=secrets.token_urlsafe(32),
            ),
        )
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        return Credentials(**{k: str(data[k]) for k in ENV_NAMES})
    except (ValueError, KeyError, TypeError) as exc:
        raise ValueError(
            f"{path} is not a valid credentials file ({exc}); delete it to have a new one made"
        ) from exc


class TokenDesk:
    """Checks refresh-token grants and remembers the access tokens it issued."""

    def __init__(self, home: Path, creds: Credentials) -> None:
        self._home = home
        self._creds = creds
        self._tokens: set[str] = set()
        self._lock = threading.Lock()

    def grant(self, form: dict[str, str], rotate: bool) -> tuple[str, str | None] | None:
        """(access token, rotated refresh token or None) for a valid grant, else None."""
        with self._lock:
            ok = (
                form.get("grant_type") == "refresh_token"
                and secrets.compare_digest(form.get("client_id", ""), self._creds.client_id)
                and secrets.compare_digest(form.get("client_secret", ""), self._creds.client_secret)
                and secrets.compare_digest(form.get("refresh_token", ""), self._creds.refresh_token)
            )
            if not ok:
                return None
            token = "00D" + secrets.token_urlsafe(40)
            self._tokens.add(token)
            if not rotate:
                _remember(self._home, token)
                return token, None
            self._creds.refresh_token = secrets.token_urlsafe(32)
            _remember(self._home, token, self._creds.refresh_token)
            if not all(os.environ.get(v) for v in ENV_NAMES.values()):
                _write(credentials_path(self._home), self._creds)
            return token, self._creds.refresh_token

    def valid(self, authorization: str | None) -> bool:
        if not authorization or not authorization.startswith("Bearer "):
            return False
        with self._lock:
            return authorization.removeprefix("Bearer ") in self._tokens
