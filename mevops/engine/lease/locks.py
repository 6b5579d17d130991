"""The lease backends behind one small Protocol: a session-level advisory lock on PostgreSQL, an
exclusive ``flock`` next to a SQLite database. ``lock_for`` picks one from the store URL."""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import importlib.util
import logging
import os
import socket
import tempfile
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy.engine import make_url

from mevops.errors import MevopsError

log = logging.getLogger("mevops.engine.lease")
U64 = 2**64 - 1
CONNECT_TIMEOUT_S = 5
HELD_SQL = ("SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND pid = pg_backend_pid() AND granted"
            " AND classid = %s AND objid = %s AND objsubid = 1")


class Lock(Protocol):
    ttl_s: float | None  # the server gives the lock away after this much silence (None: never)

    async def try_acquire(self) -> bool: ...
    async def check(self, timeout: float) -> str | None: ...  # None: still held; else why not
    async def release(self) -> None: ...


class PostgresLock:
    """A session-level advisory lock on a dedicated autocommit connection (psycopg 3, async)."""

    def __init__(self, conninfo: str, key: int, ttl_s: float) -> None:
        self.conninfo, self.key, self.ttl_s = conninfo, key, ttl_s
        self.conn: Any = None
        self._ids = ((key & U64) >> 32, key & 0xFFFFFFFF)  # how pg_locks shows a bigint key

    async def try_acquire(self) -> bool:
        import psycopg

        for attempt in (1, 2):  # the server may have closed a standby's idle connection: reconnect once
            try:
                if self.conn is None or self.conn.closed:
                    await self._connect()
                return bool(await _value(self.conn, "SELECT pg_try_advisory_lock(%s)", (self.key,), CONNECT_TIMEOUT_S))
            except (psycopg.Error, OSError, TimeoutError) as exc:
                await self.release()  # closing the session frees a lock granted on an answer we did not get
                if attempt == 2:
                    log.warning("signer lease: the database did not answer (%s); trying again", exc)
        return False

    async def check(self, timeout: float) -> str | None:
        import psycopg

        if self.conn is None or self.conn.closed:
            return "the lease connection is closed"
        try:
            held = await _value(self.conn, HELD_SQL, self._ids, timeout)
        except TimeoutError:
            return f"the database did not confirm the lock within {timeout:.1f} s"
        except (psycopg.Error, OSError) as exc:
            return f"the lease connection failed: {type(exc).__name__}: {str(exc).strip()}"
        return None if held == 1 else "this session no longer holds the advisory lock"

    async def release(self) -> None:
        """Unlock (best effort) and close: ending the session frees the lock in any case."""
        conn, self.conn = self.conn, None
        if conn is None or conn.closed:
            return
        with contextlib.suppress(Exception):
            await _value(conn, "SELECT pg_advisory_unlock_all()", (), 1.0)
        with contextlib.suppress(Exception):
            await conn.close()

    async def _connect(self) -> None:
        import psycopg

        self.conn = await psycopg.AsyncConnection.connect(self.conninfo, autocommit=True, connect_timeout=CONNECT_TIMEOUT_S,
                                                          application_name="mevops signer lease")
        try:  # the server ends a session silent for ttl_s: a frozen holder's lock goes with it
            await _value(self.conn, "SELECT set_config('idle_session_timeout', %s, false)",
                         (str(max(1, round(self.ttl_s * 1000))),), CONNECT_TIMEOUT_S)
        except psycopg.Error as exc:
            log.warning("signer lease: idle_session_timeout refused (%s; PostgreSQL < 14?): a frozen holder keeps "
                        "the lock until TCP keepalives end its session", exc)


async def _value(conn: Any, sql: str, params: tuple[Any, ...], timeout: float) -> Any:
    """The first column of the first row; past ``timeout`` the socket is shut down (psycopg's own
    cancellation can wait seconds on a dead peer) and TimeoutError raised."""

    async def run() -> Any:
        cursor = await conn.execute(sql, params)
        row = await cursor.fetchone()
        return row[0] if row else None

    task = asyncio.ensure_future(run())
    task.add_done_callback(_retrieve)
    done, _ = await asyncio.wait({task}, timeout=timeout)
    if not done:
        _shutdown(conn)
        await asyncio.wait({task}, timeout=1.0)
        raise TimeoutError(f"no answer within {timeout:.1f} s")
    return task.result()


def _retrieve(task: asyncio.Task) -> None:
    if not task.cancelled():
        task.exception()  # abandoned queries fail quietly


def _shutdown(conn: Any) -> None:
    with contextlib.suppress(Exception):
        sock = socket.socket(fileno=os.dup(conn.pgconn.socket))
        try:
            sock.shutdown(socket.SHUT_RDWR)
        finally:
            sock.close()


class FileLock:
    """An exclusive, non-blocking ``flock`` on a lock file: processes on one host."""

    ttl_s = None

    def __init__(self, path: Path) -> None:
        self.path = path
        self.fd: int | None = None

    async def try_acquire(self) -> bool:
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
        except OSError as exc:
            raise MevopsError(f"cannot open the signer lock file: {exc.strerror}", file=str(self.path)) from None
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(fd)
            return False
        if not self._same_file(fd):  # removed or replaced between open and flock
            os.close(fd)
            return False
        self.fd = fd
        return True

    async def check(self, timeout: float) -> str | None:
        if self.fd is None:
            return "the lock file is closed"
        return None if self._same_file(self.fd) else f"the lock file {self.path} was removed or replaced"

    async def release(self) -> None:
        fd, self.fd = self.fd, None
        if fd is not None:
            os.close(fd)  # closing the last descriptor drops the flock

    def _same_file(self, fd: int) -> bool:
        try:
            here, there = os.fstat(fd), os.stat(self.path)
        except FileNotFoundError:
            return False
        return (here.st_dev, here.st_ino) == (there.st_dev, there.st_ino)


def lock_for(store_url: str, key: int, ttl_s: float) -> PostgresLock | FileLock:
    """The lease backend the store URL calls for."""
    url = make_url(store_url)
    backend = url.get_backend_name()
    if backend == "postgresql":
        if importlib.util.find_spec("psycopg") is None:
            raise MevopsError("a PostgreSQL store needs psycopg: pip install 'mevops[postgres]'", key="mev_engine.store.url")
        return PostgresLock(url.set(drivername="postgresql").render_as_string(hide_password=False), key, ttl_s)
    if backend == "sqlite":
        database = (url.database or "").removeprefix("file:")
        base = Path(tempfile.gettempdir()) / "mevops-memory.db" if database in ("", ":memory:") else Path(database).expanduser()
        return FileLock(base.with_name(f"{base.name}.signer-{key & U64:016x}.lock"))
    raise MevopsError(f"the signer lease needs a PostgreSQL or SQLite store, not {backend}", key="mev_engine.store.url")
