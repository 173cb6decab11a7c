"""The login proxy reaches only the emulator; the serve command starts, answers and stops."""

from __future__ import annotations

import os
import re
import signal
import socket
import subprocess
import sys
from pathlib import Path

import pytest
import requests

from brightcart_world.salesforce.auth import credentials
from brightcart_world.salesforce.server import Emulator


def _connect(proxy_port: int, target: str) -> bytes:
    with socket.create_connection(("127.0.0.1", proxy_port), timeout=10) as s:
        s.sendall(f"CONNECT {target} HTTP/1.1\r\nHost: {target}\r\n\r\n".encode())
        return s.recv(4096)


OTHER_TARGETS = [
    "example.com:443",
    "login.salesforce.com:8443",
    "127.0.0.1:5432",
    "salesforce.com:443",
]


@pytest.mark.parametrize("target", OTHER_TARGETS)
def test_proxy_refuses_connect_to_any_other_host(emulator: Emulator, target: str) -> None:
    answer = _connect(emulator.proxy_port, target)
    assert answer.startswith(b"HTTP/1.1 403"), answer[:80]


def test_proxy_refuses_plain_http_forwarding(emulator: Emulator) -> None:
    resp = requests.get(
        "http://example.com/",
        proxies={"http": f"http://127.0.0.1:{emulator.proxy_port}"},
        timeout=10,
    )
    assert resp.status_code == 403


@pytest.mark.parametrize("host", ["login.salesforce.com", "test.salesforce.com"])
def test_login_hosts_answer_over_tls_from_the_local_authority(
    emulator: Emulator, host: str
) -> None:
    creds = credentials(emulator.home)
    proxies = {"https": f"http://127.0.0.1:{emulator.proxy_port}"}
    resp = requests.post(
        f"https://{host}/services/oauth2/token",
        data={
            "grant_type": "refresh_token",
            "client_id": creds.client_id,
            "client_secret": creds.client_secret,
            "refresh_token": creds.refresh_token,
        },
        proxies=proxies,
        verify=str(emulator.ca_path),
        timeout=10,
    )
    assert resp.status_code == 200, resp.text
    assert resp.json()["instance_url"] == emulator.instance_url
    wrong = requests.post(
        f"https://{host}/services/oauth2/token",
        data={"grant_type": "refresh_token", "client_id": creds.client_id, "refresh_token": "x"},
        proxies=proxies,
        verify=str(emulator.ca_path),
        timeout=10,
    )
    assert wrong.status_code == 400 and wrong.json()["error"] == "invalid_grant"
    data = requests.get(
        f"https://{host}/services/data/v61.0/sobjects",
        proxies=proxies,
        verify=str(emulator.ca_path),
        timeout=10,
    )
    assert data.status_code == 404  # only the token endpoint is served on the login hosts
    with pytest.raises(requests.exceptions.SSLError):
        requests.get(f"https://{host}/", proxies=proxies, verify=True, timeout=10)


def test_serve_command_prints_ready_serves_health_and_stops_on_sigterm(
    sf_db: str, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    proc = subprocess.Popen(
        [sys.executable, "-m", "brightcart_world.salesforce", "serve",
         "--port", "0", "--proxy-port", "0", "--home", str(home), "--dsn", sf_db],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        env={**os.environ, "BRIGHTCART_SF_FAULTS": '{"api_limit": 777}'},
    )  # fmt: skip
    try:
        assert proc.stdout is not None
        ready = proc.stdout.readline()
        match = re.search(r"instance_url=(\S+) proxy_port=(\d+) ca=(\S+)", ready)
        assert match, ready
        url, proxy_port, ca = match.group(1), int(match.group(2)), Path(match.group(3))
        assert ca == home / "salesforce" / "tls" / "ca.pem" and ca.read_text().startswith(
            "-----BEGIN CERTIFICATE-----"
        )
        assert requests.get(f"{url}/health", timeout=10).json()["status"] == "ok"
        faults = requests.get(f"{url}/__emulator/faults", timeout=10).json()
        assert faults["faults"]["api_limit"] == 777
        assert _connect(proxy_port, "example.com:443").startswith(b"HTTP/1.1 403")
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=20)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 0, err
    assert "salesforce emulator stopped" in out


def test_serve_command_refuses_a_bad_fault_spec(sf_db: str, tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, "-m", "brightcart_world.salesforce", "serve",
         "--port", "0", "--proxy-port", "0", "--home", str(tmp_path), "--dsn", sf_db],
        capture_output=True,
        text=True,
        env={**os.environ, "BRIGHTCART_SF_FAULTS": '{"explode": true}'},
        timeout=60,
        check=False,
    )  # fmt: skip
    assert done.returncode == 2
    assert "unknown fault switch ['explode']" in done.stderr
