"""Database engine and migrations of the read model (SQLite file by default, PostgreSQL by URL)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from alembic import command
from alembic.config import Config
from sqlalchemy import Engine, create_engine, event, make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
NUL, REPLACEMENT = "\x00", "\ufffd"


def without_nul(parameters: Any) -> Any:
    """Statement parameters (a tuple, list or dict, or a list of them for executemany) with every
    NUL character in a string turned into U+FFFD; anything else as it is.
    """
    if isinstance(parameters, str):
        return parameters.replace(NUL, REPLACEMENT) if NUL in parameters else parameters
    if isinstance(parameters, dict):
        return {name: without_nul(value) for name, value in parameters.items()}
    if isinstance(parameters, list | tuple):
        return type(parameters)(without_nul(value) for value in parameters)
    return parameters


def _strip_nul(engine: Engine) -> None:
    # PostgreSQL refuses a NUL in any text, even in a WHERE clause: a comment containing one
    # (valid JSON, valid contract) would fail its every write and read. Both databases get the
    # same replacement, so they hold and find the same rows.
    @event.listens_for(engine, "before_cursor_execute", retval=True)
    def _parameters(_conn, _cursor, statement, parameters, _context, _many):  # type: ignore[no-untyped-def]
        return statement, without_nul(parameters)


def make_engine(url: str) -> Engine:
    """An engine for ``url``; SQLite gets WAL and a busy timeout so the API reads while the
    projection writes; PostgreSQL sessions run in UTC. On both, a NUL character in a string
    parameter is stored and matched as U+FFFD (:func:`without_nul`).
    """
    if url.startswith("sqlite"):
        database = make_url(url).database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).parent.mkdir(parents=True, exist_ok=True)  # a fresh state folder
        engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False})

        @event.listens_for(engine, "connect")
        def _pragmas(dbapi_connection, _record):  # type: ignore[no-untyped-def]
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.close()

        _strip_nul(engine)
        return engine
    # Sessions in UTC: psycopg gives timestamps in the session's time zone, and the earliest or
    # latest time the read model stores (see schema.to_utc) would overflow in any other zone.
    engine = create_engine(url, pool_pre_ping=True, connect_args={"options": "-c timezone=UTC"})
    _strip_nul(engine)
    return engine


def alembic_config() -> Config:
    """Alembic's configuration, pointing at the migrations shipped in the package."""
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


def upgrade(engine: Engine, revision: str = "head") -> None:
    """Bring the database to ``revision`` (the latest by default)."""
    config = alembic_config()
    with engine.begin() as connection:
        config.attributes["connection"] = connection
        command.upgrade(config, revision)
