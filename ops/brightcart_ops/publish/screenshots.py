"""Full-page screenshots of the local dashboard pages, taken by headless Chromium.

One Chromium process (a fresh profile, no network: every host name resolves to nothing) opens
each page over the DevTools protocol, waits for it to load, reads the rendered DOM and captures
the whole page as a PNG. Used by `brightcart publish screenshots` and by the dashboard tests, so
what the tests look at is what a person gets.
"""

from __future__ import annotations

import base64
import itertools
import json
import shutil
import subprocess
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from tenacity import retry, retry_if_exception_type, stop_after_delay, wait_fixed

CHROMIUM_CANDIDATES = ("/usr/bin/chromium", "chromium", "chromium-browser")
FLAGS = (
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--no-first-run",
    "--disable-sync",
    "--hide-scrollbars",
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE 127.0.0.1",  # nothing leaves the machine
)
WIDTH = 1400


class ChromiumMissing(RuntimeError):
    """Headless Chromium is not installed."""


def chromium_path() -> str:
    for candidate in CHROMIUM_CANDIDATES:
        found = shutil.which(candidate)
        if found:
            return found
    raise ChromiumMissing(
        "chromium is not installed: `make setup` installs it (apt-get install -y chromium)"
    )


@dataclass
class Shot:
    page: Path
    png: Path
    dom: str
    width: int
    height: int


class DevTools:
    """A minimal DevTools-protocol client for one page target."""

    def __init__(self, url: str) -> None:
        from websockets.sync.client import connect

        self._ws = connect(url, max_size=64 * 1024 * 1024, open_timeout=30)
        self._ids = itertools.count(1)

    def call(self, method: str, timeout: float = 60.0, **params: Any) -> dict[str, Any]:
        ident = next(self._ids)
        self._ws.send(json.dumps({"id": ident, "method": method, "params": params}))
        deadline = time.monotonic() + timeout
        while True:
            message = json.loads(self._ws.recv(timeout=max(0.1, deadline - time.monotonic())))
            if message.get("id") == ident:
                if "error" in message:
                    raise RuntimeError(f"DevTools {method} failed: {message['error']}")
                result: dict[str, Any] = message.get("result", {})
                return result

    def evaluate(self, expression: str) -> Any:
        result = self.call(
            "Runtime.evaluate", expression=expression, returnByValue=True, awaitPromise=True
        )
        return result.get("result", {}).get("value")

    def close(self) -> None:
        self._ws.close()


@retry(
    # IndexError: the port file exists but Chromium has not written it yet
    retry=retry_if_exception_type((FileNotFoundError, IndexError, ValueError, OSError)),
    wait=wait_fixed(0.2),
    stop=stop_after_delay(30),
    reraise=True,
)
def _page_target(profile: Path) -> str:
    """The websocket URL of the first page, once Chromium has written its DevTools port."""
    import urllib.request

    port = int((profile / "DevToolsActivePort").read_text().split()[0])
    with urllib.request.urlopen(f"http://127.0.0.1:{port}/json/list", timeout=5) as response:
        targets = json.load(response)
    pages = [t for t in targets if t.get("type") == "page"]
    if not pages:
        raise ValueError("no page target yet")
    return str(pages[0]["webSocketDebuggerUrl"])


def stop(process: subprocess.Popen[Any], seconds: float = 20) -> None:
    """Terminate a process we started, and kill it if it does not end in time."""
    process.terminate()
    try:
        process.wait(timeout=seconds)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait(timeout=seconds)


@contextmanager
def browser(height: int = 1000) -> Iterator[DevTools]:
    """Headless Chromium with a fresh profile; yields a DevTools client of its one page."""
    profile = Path(tempfile.mkdtemp(prefix="chromium-"))
    process = subprocess.Popen(
        [
            chromium_path(),
            *FLAGS,
            f"--user-data-dir={profile}",
            "--remote-debugging-port=0",
            f"--window-size={WIDTH},{height}",
            "about:blank",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    tools = None
    try:
        tools = DevTools(_page_target(profile))
        tools.call("Page.enable")
        yield tools
    finally:
        if tools is not None:
            tools.close()
        stop(process)
        shutil.rmtree(profile, ignore_errors=True)


def _wait_loaded(tools: DevTools, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if tools.evaluate("document.readyState") == "complete":
            return
        time.sleep(0.1)
    raise TimeoutError("the page did not finish loading in 30 s")


def capture(tools: DevTools, page: Path, png: Path) -> Shot:
    """Open a page file, capture it whole and return its rendered DOM."""
    tools.call("Emulation.clearDeviceMetricsOverride")
    tools.call("Page.navigate", url=page.resolve().as_uri())
    _wait_loaded(tools)
    width = int(tools.evaluate("document.documentElement.scrollWidth"))
    height = int(tools.evaluate("document.body.scrollHeight"))
    tools.call(
        "Emulation.setDeviceMetricsOverride",
        width=WIDTH,
        height=height,
        deviceScaleFactor=1,
        mobile=False,
    )
    data = tools.call("Page.captureScreenshot", format="png", captureBeyondViewport=True)["data"]
    png.parent.mkdir(parents=True, exist_ok=True)
    png.write_bytes(base64.b64decode(data))
    dom = str(tools.evaluate("document.documentElement.outerHTML"))
    return Shot(page, png, dom, width, height)


def screenshot_pages(pages: list[Path], out_dir: Path) -> list[Shot]:
    """A PNG per page (same name, .png) in out_dir, from one headless Chromium."""
    with browser() as tools:
        return [capture(tools, page, out_dir / f"{page.stem}.png") for page in pages]
