"""Remove secret values from log lines."""

from __future__ import annotations

import re
from collections.abc import Iterable

MASK = "***"
# 'refresh_token': 'abc', "client_secret": "abc", access_token=abc, Bearer abc
_KEYED = re.compile(
    r"""(?P<key>['"]?(?:client_secret|refresh_token|access_token|password|client_id)['"]?\s*[:=]\s*)"""
    r"""(?P<quote>['"]?)(?P<value>[^'",}&\s]+)(?P=quote)""",
    re.IGNORECASE,
)
_BEARER = re.compile(r"(Bearer\s+)[A-Za-z0-9._~+/=!-]+", re.IGNORECASE)


class Redactor:
    """Masks known secret values and anything shaped like a credential assignment."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: set[str] = set()
        for secret in secrets:
            self.add(secret)

    def add(self, secret: str | None) -> None:
        if secret and len(secret) >= 4:
            self._secrets.add(secret)

    def __call__(self, line: str) -> str:
        for secret in sorted(self._secrets, key=len, reverse=True):
            line = line.replace(secret, MASK)
        line = _KEYED.sub(lambda m: f"{m['key']}{m['quote']}{MASK}{m['quote']}", line)
        return _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", line)
