"""``SignerLease``: whether this replica is the one that signs for a key; the key and the holder's record."""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import math
import os
import socket
import time
from datetime import datetime
from typing import Any, Self

from mevops.engine.lease.locks import Lock, PostgresLock, lock_for
from mevops.engine.store.columns import utcnow
from mevops.engine.store.store import Store

log = logging.getLogger("mevops.engine.lease")
PERSON = b"mevops-signer-v1"  # the hash's namespace (blake2b personalisation, 16 bytes)


class LeaseLost(RuntimeError):
    """This replica is not (or no longer) the active signer: sign nothing, send nothing."""


def lease_key(chain: str, signer_address: str) -> int:
    """The advisory-lock key: a stable signed 64-bit hash of chain and address (any case), namespaced."""
    digest = hashlib.blake2b(f"{chain}\0{signer_address.lower()}".encode(), digest_size=8, person=PERSON).digest()
    return int.from_bytes(digest, "big", signed=True)


def holder_kv_key(chain: str, signer_address: str) -> str:
    return f"signer:{chain}:{signer_address.lower()}"


def active_holder(store: Store, chain: str, signer_address: str) -> dict[str, Any] | None:
    """Who holds the lease, as the holder recorded it: ``holder``, ``pid``, ``host``, ``since``
    (ISO UTC), ``backend``. None when nobody holds it or the last holder released it; a holder
    killed -9 leaves its record until the next one takes over (compare ``since``)."""
    return store.get(holder_kv_key(chain, signer_address))


class SignerLease:
    """Whether this replica is the one that signs for ``signer_address`` on ``chain``.

    ``await acquire()`` stands by until it is; ``is_active`` says whether it still is (check it, or
    use ``take_over``'s fenced nonces, before every signature); ``lost`` is set the moment the lease
    is known to be gone — stop sending at once, then ``acquire()`` again to stand by. ``release()``
    gives it up (and closes a standby's connection). Also ``async with SignerLease(...) as lease:``.
    ``ttl_s`` (PostgreSQL): how long a silent holder keeps the lock; default ``max(3, 3 * poll_s)``.
    """

    def __init__(self, store_url: str, chain: str, signer_address: str, *, holder: str, poll_s: float = 1.0,
                 ttl_s: float | None = None, store: Store | None = None) -> None:
        ttl_s = max(3.0, 3 * poll_s) if ttl_s is None else ttl_s
        if poll_s <= 0 or ttl_s < 2 * poll_s:
            raise ValueError(f"need poll_s > 0 and ttl_s >= 2 * poll_s (poll_s={poll_s}, ttl_s={ttl_s})")
        self.store_url, self.chain, self.signer_address, self.holder = store_url, chain, signer_address, holder
        self.poll_s, self.ttl_s = poll_s, ttl_s
        self.key = lease_key(chain, signer_address)
        self._lock: Lock = lock_for(store_url, self.key, ttl_s)
        self.backend = "postgresql" if isinstance(self._lock, PostgresLock) else "flock"
        self.lost = asyncio.Event()
        self.lost_reason = ""
        self.since: datetime | None = None
        self._held = False
        self._valid_until = 0.0
        self._keeper: asyncio.Task | None = None
        self._trying = asyncio.Lock()
        self._store, self._own_store = store, store is None

    async def __aenter__(self) -> Self:
        await self.acquire()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.release()

    @property
    def is_active(self) -> bool:
        return self._held and not self.lost.is_set() and time.monotonic() < self._valid_until

    def state(self) -> dict[str, Any]:
        """For ``status``: this replica's role (``active``, ``standby`` or ``lost``); who is active is
        ``active_holder(store, chain, signer)``."""
        role = "active" if self.is_active else "lost" if self.lost.is_set() else "standby"
        return {"replica": self.holder, "role": role, "chain": self.chain, "signer": self.signer_address,
                "backend": self.backend, "since": self.since.isoformat() if self.since and role == "active" else None,
                "lost_reason": self.lost_reason}

    async def try_acquire(self) -> bool:
        """One try: True when this replica is (now) the active signer."""
        async with self._trying:  # one try at a time (PostgreSQL advisory locks are re-entrant per session)
            return await self._try_acquire()

    async def _try_acquire(self) -> bool:
        if self._held:
            return self.is_active
        started = time.monotonic()
        if not await self._lock.try_acquire():
            return False
        self._held, self.since, self.lost_reason = True, utcnow(), ""
        self.lost.clear()
        self._extend(started)
        await self._write_holder(self._record())
        self._keeper = asyncio.create_task(self._keep_alive(), name=f"signer-lease:{self.chain}")
        log.info("signer lease for %s on %s: %s is active (%s)", self.signer_address, self.chain, self.holder, self.backend)
        return True

    async def acquire(self, timeout: float | None = None) -> None:
        """Stand by (one try every ``poll_s``) until this replica is the active signer."""
        deadline = None if timeout is None else time.monotonic() + timeout
        while not await self.try_acquire():
            if deadline is not None and time.monotonic() + self.poll_s > deadline:
                raise TimeoutError(f"{self.holder} did not become the active signer within {timeout} s")
            await asyncio.sleep(self.poll_s)

    async def confirm(self) -> bool:
        """Ask the database now (one round trip): True when this replica still holds the lease."""
        if not self._held or self.lost.is_set():
            return False
        return await self._check(self.poll_s)

    async def release(self) -> None:
        keeper, self._keeper = self._keeper, None
        if keeper is not None and keeper is not asyncio.current_task():
            keeper.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await keeper
        if self.is_active:  # clear the record while nobody else can write it
            await self._write_holder(None)
        self._held, self._valid_until = False, 0.0
        await self._lock.release()
        if self._own_store and self._store is not None:
            self._store.close()
            self._store = None

    # -- inside ------------------------------------------------------------------------------
    def _extend(self, check_started: float) -> None:
        ttl = self._lock.ttl_s
        self._valid_until = math.inf if ttl is None else check_started + ttl - self.poll_s

    async def _keep_alive(self) -> None:
        while True:
            await asyncio.sleep(self.poll_s)
            if not await self._check(max(self._valid_until - time.monotonic(), self.poll_s)):
                return

    async def _check(self, timeout: float) -> bool:
        """Still held: extend the local validity from the check's start. Not: lose the lease."""
        started = time.monotonic()
        try:
            reason = await self._lock.check(timeout)
        except Exception as exc:  # noqa: BLE001 (a check that cannot tell has lost the lease)
            reason = f"the lock check failed: {type(exc).__name__}: {exc}"
        if reason is not None:
            await self._lose(reason)
            return False
        self._extend(started)
        return True

    async def _lose(self, reason: str) -> None:
        if self.lost.is_set():
            return
        self.lost_reason = reason
        self.lost.set()
        self._held = False
        log.error("signer lease for %s on %s lost by %s: %s — stop sending", self.signer_address, self.chain,
                  self.holder, reason)
        keeper, self._keeper = self._keeper, None
        if keeper is not None and keeper is not asyncio.current_task():
            keeper.cancel()
        await self._lock.release()  # a replica that stopped signing must not keep the lock

    def _record(self) -> dict[str, Any]:
        return {"holder": self.holder, "pid": os.getpid(), "host": socket.gethostname(),
                "since": self.since.isoformat() if self.since else None}

    async def _write_holder(self, record: dict[str, Any] | None) -> None:
        """Best effort: the record is for ``status``; the lock alone decides who signs."""
        try:
            if self._store is None:
                self._store = Store(self.store_url)
            value = None if record is None else {**record, "backend": self.backend}
            await asyncio.to_thread(self._store.set, holder_kv_key(self.chain, self.signer_address), value)
        except Exception as exc:  # noqa: BLE001 (an unmigrated store, a dropped connection)
            log.warning("signer lease: could not record the holder in the store's kv: %s", exc)
