"""`brightcart world ...` commands."""

from __future__ import annotations

import typer

app = typer.Typer(help="Generate BrightCart data and advance its clock.", no_args_is_help=True)
