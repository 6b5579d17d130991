"""``Store``: the engine's database behind a small synchronous API.

Each call is one transaction (its own session); calls are fast, and safe from several threads
(the connection pool is). The engine may call them from a worker thread to keep the event loop
free. Reads return frozen records, never live ORM objects.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Self

from sqlalchemy import Engine
from sqlalchemy.orm import Session, sessionmaker

from mevops.engine.store.admin import AdminBook
from mevops.engine.store.database import current_revision, durable, head_revision, make_engine, migrate
from mevops.engine.store.trades import TradeBook


class Store(TradeBook, AdminBook):
    def __init__(self, url: str, *, engine: Engine | None = None) -> None:
        self.url = url
        self.engine = engine or make_engine(url)
        self._sessions = sessionmaker(self.engine, expire_on_commit=False)

    def __repr__(self) -> str:
        return f"Store({self.engine.url.render_as_string(hide_password=True)})"

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        self.engine.dispose()

    # -- schema ------------------------------------------------------------------------------
    def migrate(self) -> None:
        """``alembic upgrade head``, programmatically; safe to run at every start."""
        migrate(self.engine)

    def revision(self) -> str | None:
        return current_revision(self.engine)

    def up_to_date(self) -> bool:
        return self.revision() == head_revision()

    # -- sessions ----------------------------------------------------------------------------
    @contextlib.contextmanager
    def _session(self) -> Iterator[Session]:
        with self._sessions.begin() as session:
            yield session

    @contextlib.contextmanager
    def _durable_session(self) -> Iterator[Session]:
        """A transaction that is on disk when the block exits (see ``database.durable``)."""
        with self.engine.connect() as connection, durable(connection):
            with Session(bind=connection, expire_on_commit=False) as session:
                yield session
                session.commit()
            connection.commit()
