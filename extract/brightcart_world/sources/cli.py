"""`brightcart sources ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Start, stop and check the local sources.", no_args_is_help=True)
