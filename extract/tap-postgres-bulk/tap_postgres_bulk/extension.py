"""DuckDB's postgres extension, loaded from its pinned wheel (nothing is downloaded at run time).

The wheel `duckdb-extension-postgres` ships the file as `postgres.duckdb_extension`, but DuckDB
accepts it only under the extension's own name, `postgres_scanner`: the file is linked under that
name in a private folder and loaded by path.
"""

from __future__ import annotations

import importlib.util
import os
import tempfile
from pathlib import Path

import duckdb

EXTENSION_PACKAGE = "duckdb_extension_postgres"
LOADABLE_NAME = "postgres_scanner.duckdb_extension"


class ExtensionMissingError(RuntimeError):
    """The postgres extension for this DuckDB version is not installed."""


def extension_file(version: str | None = None) -> Path:
    """The postgres extension built for this DuckDB version, from its wheel."""
    version = version or duckdb.__version__
    spec = importlib.util.find_spec(EXTENSION_PACKAGE)
    folders = list(spec.submodule_search_locations or []) if spec else []
    for folder in folders:
        found = Path(folder) / "extensions" / f"v{version}" / "postgres.duckdb_extension"
        if found.is_file():
            return found
    msg = (
        f"the DuckDB postgres extension for duckdb {version} is not installed: install "
        f"duckdb-extension-postgres=={version} beside duckdb=={version} (meltano install)"
    )
    raise ExtensionMissingError(msg)


def load_postgres(con: duckdb.DuckDBPyConnection, workdir: Path | None = None) -> None:
    """LOAD the postgres extension into `con` by path."""
    folder = Path(workdir or tempfile.mkdtemp(prefix="duckdb-ext-"))
    folder.mkdir(parents=True, exist_ok=True)
    link = folder / LOADABLE_NAME
    if not link.exists():
        os.symlink(extension_file(), link)
    path = str(link).replace("'", "''")
    con.execute(f"LOAD '{path}'")
