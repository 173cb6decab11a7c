"""Where a rotated Salesforce refresh token is kept between runs.

Salesforce may return a new refresh token at login and revoke the old one. tap-salesforce writes
the new one back to its config file, which Meltano deletes after the run, so the guard saves it:

- ``secretsmanager:<secret id>``: AWS Secrets Manager (production; the Fargate task role may put
  a new value on that one secret only);
- ``file:<path>``: a file readable by its owner only (local runs).

``BRIGHTCART_SF_TOKEN_STORE`` names the store; by default it is a file under ``BRIGHTCART_HOME``.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Protocol


class TokenStore(Protocol):
    def load(self) -> str | None: ...

    def save(self, token: str) -> None: ...


class FileTokenStore:
    def __init__(self, path: Path) -> None:
        self.path = path

    def load(self) -> str | None:
        if not self.path.exists():
            return None
        token = json.loads(self.path.read_text(encoding="utf-8")).get("refresh_token")
        return str(token) if token else None

    def save(self, token: str) -> None:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        tmp = self.path.with_suffix(".tmp")
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump({"refresh_token": token}, handle)
        os.replace(tmp, self.path)


class SecretsManagerTokenStore:
    def __init__(self, secret_id: str) -> None:
        import boto3

        self.secret_id = secret_id
        self.client = boto3.client("secretsmanager")

    def load(self) -> str | None:
        try:
            value = self.client.get_secret_value(SecretId=self.secret_id)["SecretString"]
        except self.client.exceptions.ResourceNotFoundException:
            return None
        token = json.loads(value).get("refresh_token")
        return str(token) if token else None

    def save(self, token: str) -> None:
        body = json.dumps({"refresh_token": token})
        try:
            self.client.put_secret_value(SecretId=self.secret_id, SecretString=body)
        except self.client.exceptions.ResourceNotFoundException:
            self.client.create_secret(Name=self.secret_id, SecretString=body)


def from_environment() -> TokenStore:
    spec = os.environ.get("BRIGHTCART_SF_TOKEN_STORE", "")
    if spec.startswith("secretsmanager:"):
        return SecretsManagerTokenStore(spec.split(":", 1)[1])
    if spec.startswith("file:"):
        return FileTokenStore(Path(spec.split(":", 1)[1]))
    home = Path(os.environ.get("BRIGHTCART_HOME") or Path.cwd() / ".local")
    return FileTokenStore(home / "secrets" / "salesforce-refresh-token.json")
