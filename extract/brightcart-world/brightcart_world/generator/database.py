"""PostgreSQL access for the generator: (re)create the source database, clock and id counters."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from importlib import resources

import psycopg
from psycopg import sql

from brightcart_world.settings import Settings


class SourceDatabaseError(RuntimeError):
    """The source database is missing, unreachable or not initialised."""


@dataclass(frozen=True)
class Clock:
    seed: int
    scale: float
    window_start: datetime
    now: datetime


def schema_sql() -> list[str]:
    """The DDL scripts in order: shop and generator bookkeeping, then the Salesforce store."""
    base = resources.files("brightcart_world") / "sql"
    return [(base / name).read_text(encoding="utf-8") for name in ("shop.sql", "sfdc.sql")]


def connect(settings: Settings, dbname: str | None = None) -> psycopg.Connection:
    """Open a connection; say what to check when PostgreSQL does not answer."""
    dsn = (
        settings.pg_dsn
        if dbname is None
        else settings.pg_dsn.replace(f"dbname={settings.pg_db}", f"dbname={dbname}")
    )
    try:
        return psycopg.connect(dsn, autocommit=False)
    except psycopg.OperationalError as exc:
        raise SourceDatabaseError(
            f"cannot connect to PostgreSQL ({dsn}): {exc}. Start the sources with "
            "`brightcart sources up` or set BRIGHTCART_PG_HOST/_PORT/_USER/_DB."
        ) from exc


def apply_schema(conn: psycopg.Connection) -> None:
    """Create every schema object that is missing (safe to run again)."""
    with conn.cursor() as cur:
        for script in schema_sql():
            cur.execute(script.encode())
    conn.commit()


def recreate_database(settings: Settings) -> None:
    """Drop the source database if it exists and create it empty with the full schema."""
    admin = connect(settings, "postgres")
    admin.autocommit = True
    try:
        name = sql.Identifier(settings.pg_db)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
        admin.execute(sql.SQL("CREATE DATABASE {}").format(name))
    finally:
        admin.close()
    with connect(settings) as conn:
        apply_schema(conn)


def reset_schemas(settings: Settings) -> None:
    """Empty the world without dropping the database: drop and recreate shop, sfdc and
    generator (servers connected to the database, such as the Salesforce emulator, stay
    connected). Creates the database when it is missing."""
    if not database_exists(settings):
        recreate_database(settings)
        return
    with connect(settings) as conn:
        conn.execute("DROP SCHEMA IF EXISTS shop, sfdc, generator CASCADE")
        apply_schema(conn)


def drop_database(settings: Settings) -> None:
    admin = connect(settings, "postgres")
    admin.autocommit = True
    try:
        name = sql.Identifier(settings.pg_db)
        admin.execute(sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(name))
    finally:
        admin.close()


def database_exists(settings: Settings) -> bool:
    admin = connect(settings, "postgres")
    try:
        row = admin.execute(
            "SELECT 1 FROM pg_database WHERE datname = %s", (settings.pg_db,)
        ).fetchone()
        return row is not None
    finally:
        admin.close()


def read_clock(conn: psycopg.Connection) -> Clock:
    try:
        row = conn.execute(
            "SELECT seed, scale, window_start, now FROM generator.clock WHERE id = 1"
        ).fetchone()
    except psycopg.errors.UndefinedTable as exc:
        raise SourceDatabaseError(
            "the source database has no generator schema; run `brightcart world generate` first"
        ) from exc
    if row is None:
        raise SourceDatabaseError(
            "the generator clock is not set; run `brightcart world generate` first"
        )
    return Clock(seed=row[0], scale=row[1], window_start=row[2], now=row[3])


def write_clock(conn: psycopg.Connection, clock: Clock) -> None:
    conn.execute(
        "INSERT INTO generator.clock (id, seed, scale, window_start, now) "
        "VALUES (1, %s, %s, %s, %s) ON CONFLICT (id) DO UPDATE SET now = EXCLUDED.now",
        (clock.seed, clock.scale, clock.window_start, clock.now),
    )


class Sequences:
    """Id counters kept in generator.sequence (ids never repeat, even after hard deletes)."""

    def __init__(self, conn: psycopg.Connection) -> None:
        self._next: dict[str, int] = dict(
            conn.execute("SELECT name, next_value FROM generator.sequence").fetchall()
        )

    def take(self, name: str) -> int:
        value = self._next.get(name, 1)
        self._next[name] = value + 1
        return value

    def save(self, conn: psycopg.Connection) -> None:
        with conn.cursor() as cur:
            cur.executemany(
                "INSERT INTO generator.sequence (name, next_value) VALUES (%s, %s) "
                "ON CONFLICT (name) DO UPDATE SET next_value = EXCLUDED.next_value",
                sorted(self._next.items()),
            )


def set_clock_setting(conn: psycopg.Connection, stamp: datetime) -> None:
    """Make the shop triggers stamp updated_at with simulated time for this transaction."""
    conn.execute("SELECT set_config('brightcart.now', %s, true)", (stamp.isoformat(),))
