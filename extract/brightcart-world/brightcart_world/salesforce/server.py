"""The emulator (plain HTTP, the instance_url) and its login proxy, in one process.

The proxy answers CONNECT only for login.salesforce.com:443 and test.salesforce.com:443, ends TLS
with a certificate from the local authority (tls.py) and hands the decrypted request to the
emulator's handler, which serves only /services/oauth2/token on that path. Every other CONNECT or
proxy request is refused with 403, so nothing leaves the machine.
"""

from __future__ import annotations

import json
import logging
import re
import secrets
import socket
import ssl
import threading
import time
from collections import OrderedDict, deque
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

from brightcart_world.salesforce import objects, soql, store, tls
from brightcart_world.salesforce.auth import TokenDesk, credentials
from brightcart_world.salesforce.faults import FaultBoard, FaultSpecError

LOG = logging.getLogger("brightcart_world.salesforce")
_DATA_PATH = re.compile(r"^/services/data/v(\d+\.\d)/(.+?)/?$")
_MAX_CURSORS = 100


@dataclass
class EmulatorState:
    """What every request thread shares."""

    dsn: str
    home: Path
    page_size: int
    board: FaultBoard
    desk: TokenDesk
    port: int = 0
    cursors: OrderedDict[str, list[dict[str, Any]]] = field(default_factory=OrderedDict)
    soql_log: deque[str] = field(default_factory=lambda: deque(maxlen=1000))
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def instance_url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class _Server(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(self, address: tuple[str, int], handler: type, state: EmulatorState) -> None:
        super().__init__(address, handler)
        self.state = state


def _sf_error(code: str, message: str) -> list[dict[str, str]]:
    return [{"message": message, "errorCode": code}]


class EmulatorHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "BrightCartSalesforceEmulator/1"
    login_only = False  # True when reached through the TLS proxy
    server: _Server

    # --- plumbing -------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("%s " + format, self.address_string(), *args)

    def _send(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        payload = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json;charset=UTF-8")
        self.send_header("Content-Length", str(len(payload)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        self.wfile.write(payload)

    def _body(self) -> bytes:
        return self.rfile.read(int(self.headers.get("Content-Length") or 0))

    def _faults_before_api_call(self) -> bool:
        """Apply drop/delay/503 switches; True when the request was answered (or dropped)."""
        board = self.server.state.board
        if board.take("drop_connection"):
            self.close_connection = True
            self.connection.shutdown(socket.SHUT_RDWR)
            return True
        if board.take("delay_calls"):
            time.sleep(board.faults.delay_seconds)
        if board.take("unavailable"):
            self._send(503, _sf_error("SERVER_UNAVAILABLE", "Service Unavailable (emulated)"))
            return True
        return False

    # --- verbs ----------------------------------------------------------------------------
    def do_GET(self) -> None:
        url = urlsplit(self.path)
        if self.login_only:
            self._send(404, _sf_error("NOT_FOUND", "only the OAuth token endpoint is served here"))
        elif url.path == "/health":
            self._send(200, {"status": "ok", "instance_url": self.server.state.instance_url})
        elif url.path == "/__emulator/faults":
            self._send(200, self.server.state.board.snapshot())
        elif url.path == "/__emulator/soql":
            self._send(200, list(self.server.state.soql_log))
        else:
            self._data(url.path, parse_qs(url.query))

    def do_POST(self) -> None:
        path = urlsplit(self.path).path
        if path == "/services/oauth2/token":
            self._token({k: v[-1] for k, v in parse_qs(self._body().decode()).items()})
        elif path == "/__emulator/faults" and not self.login_only:
            try:
                self._send(200, self.server.state.board.update(json.loads(self._body() or b"{}")))
            except (FaultSpecError, ValueError) as exc:
                self._send(400, {"error": str(exc)})
        else:
            self._send(404, _sf_error("NOT_FOUND", f"no POST endpoint {path}"))

    def do_DELETE(self) -> None:
        if urlsplit(self.path).path == "/__emulator/faults" and not self.login_only:
            self._send(200, self.server.state.board.reset())
        else:
            self._send(404, _sf_error("NOT_FOUND", "no such endpoint"))

    # --- OAuth ----------------------------------------------------------------------------
    def _token(self, form: dict[str, str]) -> None:
        state = self.server.state
        if self._faults_before_api_call():
            return
        granted = None
        if not state.board.take("invalid_grant"):
            granted = state.desk.grant(form, state.board.faults.rotate_refresh_token)
        if granted is None:
            LOG.warning("token call refused: invalid_grant")
            self._send(
                400, {"error": "invalid_grant", "error_description": "expired access/refresh token"}
            )
            return
        access_token, new_refresh = granted
        body = {
            "access_token": access_token,
            "instance_url": state.instance_url,
            "id": f"{state.instance_url}/id/00D000000000001EAA/005000000000001AAA",
            "token_type": "Bearer",
            "issued_at": str(int(time.time() * 1000)),
            "signature": secrets.token_urlsafe(32),
        }
        if new_refresh:
            body["refresh_token"] = new_refresh
        self._send(200, body)

    # --- data API -------------------------------------------------------------------------
    def _data(self, path: str, params: dict[str, list[str]]) -> None:
        state = self.server.state
        match = _DATA_PATH.match(path)
        if match is None:
            self._send(404, _sf_error("NOT_FOUND", f"no such resource: {path}"))
            return
        if self._faults_before_api_call():
            return
        if state.board.take("invalid_session") or not state.desk.valid(
            self.headers.get("Authorization")
        ):
            self._send(401, _sf_error("INVALID_SESSION_ID", "Session expired or invalid"))
            return
        allowed, limit_info = state.board.count_call()
        headers = {"Sforce-Limit-Info": limit_info}
        if not allowed:
            self._send(
                403,
                _sf_error("REQUEST_LIMIT_EXCEEDED", "TotalRequests Limit exceeded."),
                headers,
            )
            return
        status, body = self._route(match.group(2), params)
        self._send(status, body, headers)

    def _route(self, resource: str, params: dict[str, list[str]]) -> tuple[int, Any]:
        state = self.server.state
        parts = resource.split("/")
        if parts == ["sobjects"]:
            return 200, objects.sobjects_list()
        if len(parts) == 3 and parts[0] == "sobjects" and parts[2] == "describe":
            obj = objects.OBJECTS.get(parts[1])
            if obj is None:
                return 404, _sf_error("NOT_FOUND", f"no such sObject: {parts[1]}")
            return 200, objects.describe(obj)
        if parts == ["limits"]:
            used = state.board.usage.get(time.strftime("%Y-%m-%d", time.gmtime()), 0)
            limit = state.board.faults.api_limit
            return 200, {"DailyApiRequests": {"Max": limit, "Remaining": max(limit - used, 0)}}
        if len(parts) == 2 and parts[0] in ("query", "queryAll"):
            return self._next_page(parts[1])
        if parts in (["query"], ["queryAll"]) and params.get("q"):
            return self._query(params["q"][-1], include_deleted=parts[0] == "queryAll")
        return 404, _sf_error("NOT_FOUND", f"The requested resource does not exist: {resource}")

    def _query(self, text: str, include_deleted: bool) -> tuple[int, Any]:
        state = self.server.state
        if state.board.query_unavailable():
            return 503, _sf_error("SERVER_UNAVAILABLE", "Service Unavailable (emulated)")
        state.soql_log.append(text)
        LOG.info("SOQL (%s): %s", "queryAll" if include_deleted else "query", text)
        try:
            records = store.fetch_records(state.dsn, soql.parse(text), include_deleted)
        except soql.SoqlError as exc:
            return 400, _sf_error(exc.error_code, str(exc))
        except store.SourceUnavailableError as exc:
            LOG.error("%s", exc)
            return 500, _sf_error("UNKNOWN_EXCEPTION", str(exc))
        locator = "01g" + secrets.token_hex(8).upper()
        with state.lock:
            state.cursors[locator] = records
            while len(state.cursors) > _MAX_CURSORS:
                state.cursors.popitem(last=False)
        return self._page(locator, 0)

    def _next_page(self, cursor: str) -> tuple[int, Any]:
        locator, _, offset = cursor.rpartition("-")
        if not offset.isdigit() or locator not in self.server.state.cursors:
            return 400, _sf_error("INVALID_QUERY_LOCATOR", f"invalid query locator {cursor}")
        return self._page(locator, int(offset))

    def _page(self, locator: str, offset: int) -> tuple[int, Any]:
        state = self.server.state
        with state.lock:
            records = state.cursors[locator]
            end = offset + state.page_size
            done = end >= len(records)
            if done:
                del state.cursors[locator]
        body: dict[str, Any] = {
            "totalSize": len(records),
            "done": done,
            "records": records[offset:end],
        }
        if not done:
            body["nextRecordsUrl"] = f"/services/data/v{objects.API_VERSION}/query/{locator}-{end}"
        return 200, body


class _ProxiedHandler(EmulatorHandler):
    login_only = True


class ProxyHandler(BaseHTTPRequestHandler):
    """CONNECT to the Salesforce login hosts only; TLS ends here with the local authority."""

    server: _ProxyServer
    protocol_version = "HTTP/1.1"
    server_version = "BrightCartSalesforceProxy/1"
    timeout = 120

    def log_message(self, format: str, *args: Any) -> None:
        LOG.debug("proxy %s " + format, self.address_string(), *args)

    def _refuse(self) -> None:
        LOG.warning("proxy refused %s %s", self.command, self.path)
        self.send_error(403, "this proxy only reaches the local Salesforce emulator")
        self.close_connection = True

    do_GET = do_POST = do_PUT = do_DELETE = do_HEAD = _refuse

    def do_CONNECT(self) -> None:
        host, _, port = self.path.rpartition(":")
        if host.lower() not in tls.LOGIN_HOSTS or port != "443":
            self._refuse()
            return
        self.send_response(200, "Connection established")
        self.end_headers()
        self.close_connection = True
        try:
            conn = self.server.tls_context.wrap_socket(self.connection, server_side=True)
        except (ssl.SSLError, OSError) as exc:
            LOG.warning("proxy TLS handshake for %s failed: %s", host, exc)
            return
        try:
            _ProxiedHandler(conn, self.client_address, self.server.emulator)
        finally:
            conn.close()


class _ProxyServer(ThreadingHTTPServer):
    daemon_threads = True

    def __init__(
        self, address: tuple[str, int], context: ssl.SSLContext, emulator: _Server
    ) -> None:
        super().__init__(address, ProxyHandler)
        self.tls_context = context
        self.emulator = emulator


class Emulator:
    """Emulator and proxy on loopback, served from background threads.

    >>> with Emulator(dsn, home, port=0, proxy_port=0) as sf:
    ...     env = sf.tap_env()
    """

    def __init__(
        self,
        dsn: str,
        home: Path,
        port: int = 0,
        proxy_port: int = 0,
        page_size: int = 2000,
        faults: dict[str, Any] | None = None,
        host: str = "127.0.0.1",
    ) -> None:
        if page_size < 1:
            raise ValueError("page_size must be at least 1")
        self.home = Path(home)
        board = FaultBoard()
        board.update(faults or {})
        self.state = EmulatorState(
            dsn=dsn,
            home=self.home,
            page_size=page_size,
            board=board,
            desk=TokenDesk(self.home, credentials(self.home)),
        )
        self._api = _Server((host, port), EmulatorHandler, self.state)
        self.state.port = self._api.server_address[1]
        self._proxy = _ProxyServer((host, proxy_port), tls.server_context(self.home), self._api)
        self._threads: list[threading.Thread] = []

    @property
    def port(self) -> int:
        return self.state.port

    @property
    def proxy_port(self) -> int:
        return int(self._proxy.server_address[1])

    @property
    def instance_url(self) -> str:
        return self.state.instance_url

    @property
    def ca_path(self) -> Path:
        return tls.ca_path(self.home)

    def tap_env(self) -> dict[str, str]:
        from brightcart_world.salesforce.client import proxy_env

        return proxy_env(self.proxy_port, self.ca_path)

    def start(self) -> Emulator:
        for server in (self._api, self._proxy):
            thread = threading.Thread(target=server.serve_forever, daemon=True)
            thread.start()
            self._threads.append(thread)
        return self

    def stop(self) -> None:
        for server in (self._proxy, self._api):
            if self._threads:
                server.shutdown()
            server.server_close()
        for thread in self._threads:
            thread.join(timeout=10)

    def __enter__(self) -> Emulator:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
