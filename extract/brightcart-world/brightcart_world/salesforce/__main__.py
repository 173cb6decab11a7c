"""python -m brightcart_world.salesforce serve --port P --proxy-port Q --home DIR --dsn DSN"""

from __future__ import annotations

import json
import logging
import os
import signal
import sys
import threading
from pathlib import Path
from types import FrameType
from typing import Annotated

import typer

from brightcart_world.salesforce.faults import FaultSpecError
from brightcart_world.salesforce.server import Emulator
from brightcart_world.settings import load

app = typer.Typer(add_completion=False, help="Salesforce REST API emulator for local runs.")


@app.callback()
def main() -> None:
    """Salesforce REST API emulator."""


@app.command()
def serve(
    port: Annotated[int | None, typer.Option(help="emulator port (the instance_url)")] = None,
    proxy_port: Annotated[int | None, typer.Option(help="TLS proxy port (login hosts)")] = None,
    home: Annotated[Path | None, typer.Option(help="runtime folder (BRIGHTCART_HOME)")] = None,
    dsn: Annotated[str | None, typer.Option(help="libpq DSN of the source database")] = None,
    page_size: Annotated[int, typer.Option(help="records per query page")] = 2000,
    log_level: Annotated[str, typer.Option(help="DEBUG, INFO or WARNING")] = "INFO",
) -> None:
    """Serve until SIGTERM or SIGINT; prints one ready line with both ports."""
    settings = load()
    logging.basicConfig(
        level=log_level.upper(), format="%(asctime)s %(levelname)s %(name)s %(message)s"
    )
    try:
        faults = json.loads(os.environ.get("BRIGHTCART_SF_FAULTS") or "{}")
        emulator = Emulator(
            dsn=dsn or settings.pg_dsn,
            home=home or settings.home,
            port=settings.sf_port if port is None else port,
            proxy_port=settings.sf_proxy_port if proxy_port is None else proxy_port,
            page_size=page_size,
            faults=faults,
        )
    except (OSError, ValueError, FaultSpecError) as exc:
        typer.echo(f"salesforce emulator cannot start: {exc}", err=True)
        raise typer.Exit(2) from exc
    stop = threading.Event()

    def _on_signal(signum: int, frame: FrameType | None) -> None:
        stop.set()

    signal.signal(signal.SIGTERM, _on_signal)
    signal.signal(signal.SIGINT, _on_signal)
    emulator.start()
    print(
        f"salesforce emulator ready instance_url={emulator.instance_url} "
        f"proxy_port={emulator.proxy_port} ca={emulator.ca_path}",
        flush=True,
    )
    stop.wait()
    emulator.stop()
    print("salesforce emulator stopped", flush=True)
    sys.exit(0)


if __name__ == "__main__":
    app()
