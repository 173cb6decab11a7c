"""The `brightcart` command: one entry point for running the pipeline."""

from __future__ import annotations

import typer

from brightcart_world.generator.cli import app as world_app
from brightcart_world.sources.cli import app as sources_app

app = typer.Typer(help="BrightCart analytics pipeline.", no_args_is_help=True)
app.add_typer(sources_app, name="sources")
app.add_typer(world_app, name="world")

if __name__ == "__main__":
    app()
