"""Connecting and migrating: engine URLs, SQLite pragmas, programmatic Alembic.

SQLite connections get ``journal_mode=WAL`` (readers never block the writer),
``synchronous=NORMAL`` (a commit survives a crash of the process, kill -9 included; the last
commits may be lost on power loss, except those made with ``durable()``, which syncs the WAL at
commit), ``foreign_keys=ON`` and a busy timeout. ``postgresql://`` URLs use psycopg 3.

To write a new migration::

    from alembic import command
    from mevops.engine.store.database import alembic_config
    command.revision(alembic_config("sqlite:///dev.db"), message="...", autogenerate=True)
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

MIGRATIONS = Path(__file__).resolve().parent / "migrations"
BUSY_TIMEOUT_MS = 5000


def normalise_url(url: str) -> str:
    """``postgresql://`` → ``postgresql+psycopg://`` (psycopg 3); other URLs unchanged."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def make_engine(url: str, **kwargs: Any) -> Engine:
    url = normalise_url(url)
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = create_engine(url, **kwargs)
        event.listen(engine, "connect", _sqlite_pragmas)
        return engine
    return create_engine(url, pool_pre_ping=True, **kwargs)


@contextlib.contextmanager
def durable(connection: Connection) -> Iterator[None]:
    """Inside: SQLite syncs the WAL at every commit (``synchronous=FULL``), so that what is
    committed survives a power loss too. PostgreSQL commits are durable already (fsync on)."""
    if connection.dialect.name != "sqlite":
        yield
        return
    raw = connection.connection.driver_connection
    assert raw is not None
    raw.execute("PRAGMA synchronous=FULL")
    try:
        yield
    finally:
        raw.execute("PRAGMA synchronous=NORMAL")


def alembic_config(url_or_connection: str | Connection) -> Any:
    from alembic.config import Config

    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    if isinstance(url_or_connection, str):
        config.set_main_option("sqlalchemy.url", normalise_url(url_or_connection).replace("%", "%%"))
    else:
        config.attributes["connection"] = url_or_connection
    return config


def migrate(engine: Engine, revision: str = "head") -> None:
    """``alembic upgrade head``: creates the tables on an empty database; idempotent."""
    from alembic import command

    with engine.begin() as connection:
        command.upgrade(alembic_config(connection), revision)


def current_revision(engine: Engine) -> str | None:
    from alembic.runtime.migration import MigrationContext

    with engine.connect() as connection:
        return MigrationContext.configure(connection).get_current_revision()


def head_revision() -> str | None:
    from alembic.script import ScriptDirectory

    return ScriptDirectory.from_config(alembic_config("sqlite://")).get_current_head()
