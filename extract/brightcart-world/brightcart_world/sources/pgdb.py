"""The OLTP source database: reach it, create it, apply the source DDL to it, drop it."""

from __future__ import annotations

import re
from pathlib import Path

import psycopg
from psycopg import sql

from brightcart_world.settings import Settings
from brightcart_world.sources.model import SourcesError

SQL_DIR = Path(__file__).resolve().parents[1] / "sql"
# DDL files applied first, in this order; any other *.sql file follows in name order.
DDL_ORDER = ("shop", "sfdc")
MAINTENANCE_DB = "postgres"
_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_$-]{0,62}$")


def connect(
    settings: Settings, dbname: str | None = None, timeout: int = 5
) -> psycopg.Connection[tuple[object, ...]]:
    return psycopg.connect(
        host=settings.pg_host,
        port=settings.pg_port,
        user=settings.pg_user,
        dbname=dbname or settings.pg_db,
        connect_timeout=timeout,
        autocommit=True,
    )


def probe(settings: Settings, timeout: int = 3) -> str | None:
    """None when PostgreSQL at the settings' address accepts us, else why not."""
    try:
        with connect(settings, MAINTENANCE_DB, timeout=timeout) as conn:
            conn.execute("SELECT 1")
    except psycopg.Error as exc:
        return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return None


def check_name(name: str) -> str:
    if not _NAME.match(name):
        raise SourcesError(
            f"database name {name!r} is not usable: use letters, digits and underscores, "
            "at most 63 characters (set BRIGHTCART_PG_DB)"
        )
    return name


def database_exists(settings: Settings) -> bool:
    with connect(settings, MAINTENANCE_DB) as conn:
        row = conn.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings.pg_db,)
        ).fetchone()
    return row is not None


def ddl_files(sql_dir: Path = SQL_DIR) -> list[Path]:
    """The source DDL files that exist now, shop.sql before sfdc.sql before the rest."""
    files = {path.stem: path for path in sorted(sql_dir.glob("*.sql"))}
    first = [files.pop(stem) for stem in DDL_ORDER if stem in files]
    return first + list(files.values())


def apply_ddl(settings: Settings, sql_dir: Path = SQL_DIR) -> list[str]:
    """Apply each `<schema>.sql` whose schema is missing, one transaction per file.

    A file is keyed by the schema it creates (its name), so `up` never re-runs DDL over tables
    that already hold data, and a file added later is applied by the next `up`.
    """
    applied = []
    with connect(settings) as conn:
        for path in ddl_files(sql_dir):
            exists = conn.execute(
                "SELECT 1 FROM pg_namespace WHERE nspname = %s", (path.stem,)
            ).fetchone()
            if exists:
                continue
            try:
                with conn.transaction():
                    conn.execute(path.read_bytes())
            except psycopg.Error as exc:
                raise SourcesError(
                    f"applying {path} to database {settings.pg_db} failed: {exc}; "
                    "fix the file and run `brightcart sources up` again"
                ) from exc
            applied.append(path.name)
    return applied


def ensure_database(settings: Settings, sql_dir: Path = SQL_DIR) -> bool:
    """Create the database when missing and apply the source DDL; True when created."""
    check_name(settings.pg_db)
    created = False
    if not database_exists(settings):
        with connect(settings, MAINTENANCE_DB) as conn:
            try:
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(settings.pg_db)))
                created = True
            except psycopg.errors.DuplicateDatabase:
                pass  # created concurrently by another `up`: fine
    apply_ddl(settings, sql_dir)
    return created


def drop_database(settings: Settings) -> None:
    """Drop the database (closing its connections). Safe when it does not exist."""
    check_name(settings.pg_db)
    with connect(settings, MAINTENANCE_DB) as conn:
        conn.execute(
            sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(
                sql.Identifier(settings.pg_db)
            )
        )


def clone_database(settings: Settings, name: str) -> Settings:
    """A new database `name`, a copy of the settings' database (PostgreSQL's TEMPLATE: nothing
    may be connected to it meanwhile); returns the settings pointing at the copy."""
    copy = with_database(settings, name)
    with connect(settings, MAINTENANCE_DB) as conn:
        conn.execute(
            sql.SQL("CREATE DATABASE {} TEMPLATE {}").format(
                sql.Identifier(copy.pg_db), sql.Identifier(check_name(settings.pg_db))
            )
        )
    return copy


def with_database(settings: Settings, name: str) -> Settings:
    """The same settings pointing at another database."""
    return settings.model_copy(update={"pg_db": check_name(name)})
