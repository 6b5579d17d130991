"""Nonces that survive restarts and errors.

The next nonce is max(the node's pending count, the last nonce this signer used + 1) — the
latter persisted by the caller (the store) — so a restart never reuses a nonce of a transaction
that was signed and maybe sent before a crash. A "nonce too low" error resynchronises.
"""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable


class NonceManager:
    def __init__(self, address: str, pending_count: Callable[[str], Awaitable[int]], last_used: int | None = None) -> None:
        self.address = address
        self._pending_count = pending_count
        self._last_used = last_used
        self._next: int | None = None
        self._lock = asyncio.Lock()

    async def sync(self) -> int:
        chain = await self._pending_count(self.address)
        floor = (self._last_used + 1) if self._last_used is not None else 0
        self._next = max(chain, floor)
        return self._next

    async def take(self) -> int:
        async with self._lock:
            if self._next is None:
                await self.sync()
            assert self._next is not None
            nonce = self._next
            self._next += 1
            self._last_used = nonce
            return nonce

    async def release(self, nonce: int) -> None:
        """A signed transaction with ``nonce`` was never sent: reuse the nonce if it was the last one."""
        async with self._lock:
            if self._next == nonce + 1:
                self._next = nonce
                self._last_used = nonce - 1 if nonce > 0 else None

    async def resync(self) -> int:
        async with self._lock:
            self._next = None
            self._last_used = None
            return await self.sync()
