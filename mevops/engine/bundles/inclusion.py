"""Did a bundle land? Watch each new block for the bundle's transaction hashes.

One polling loop serves every outstanding bundle: a new head is fetched once (hashes only) and
checked against all of them. A bundle is included when its first transaction is in a block
(``complete`` says whether all of them are, in order and back to back, as a relay promises); it
is given up when its last target block passes without it. The loop stops when nothing is watched.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

log = logging.getLogger("mevops.engine.bundles")


@dataclass(frozen=True)
class Inclusion:
    block: int
    block_hash: str
    position: int           # index of the bundle's first transaction in the block
    complete: bool          # every transaction of the bundle, in order, contiguous


@dataclass
class _Watch:
    tx_hashes: tuple[str, ...]
    last_block: int
    future: asyncio.Future


def find(tx_hashes: tuple[str, ...], block_txs: list[str]) -> tuple[int, bool] | None:
    """(position, complete) of a bundle in a block's transaction hashes, or None if its first is absent."""
    lowered = [h.lower() for h in block_txs]
    try:
        start = lowered.index(tx_hashes[0].lower())
    except ValueError:
        return None
    wanted = [h.lower() for h in tx_hashes]
    return start, lowered[start:start + len(wanted)] == wanted


class BlockWatcher:
    def __init__(self, rpc: Any, poll: float = 0.05) -> None:
        self.rpc, self.poll = rpc, poll
        self.watches: list[_Watch] = []
        self.seen: int | None = None     # highest block number already checked
        self._task: asyncio.Task | None = None

    def watch(self, tx_hashes: tuple[str, ...], last_block: int, after_block: int) -> asyncio.Future:
        """A future resolving to an ``Inclusion``, or None once ``last_block`` is mined without the bundle.
        Blocks up to ``after_block`` (mined before the bundle was sent) are not searched."""
        future = asyncio.get_running_loop().create_future()
        self.watches.append(_Watch(tuple(tx_hashes), last_block, future))
        self.seen = after_block if self.seen is None else min(self.seen, after_block)
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self._run(), name="bundle-inclusion")
        return future

    async def _run(self) -> None:
        while self.watches:
            try:
                head = int(await self.rpc.call("eth_blockNumber"), 16)
                while self.seen is not None and self.seen < head and self.watches:
                    number = self.seen + 1
                    block = await self.rpc.call("eth_getBlockByNumber", [hex(number), False])
                    if block is None:
                        break
                    self._check(number, block)
                    self.seen = number
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - a failed poll is retried; the node may be restarting
                log.debug("inclusion poll failed: %s", exc)
            await asyncio.sleep(self.poll)
        self.seen = None

    def _check(self, number: int, block: dict[str, Any]) -> None:
        left = []
        for w in self.watches:
            if w.future.done():
                continue
            found = find(w.tx_hashes, block.get("transactions") or [])
            if found is not None:
                w.future.set_result(Inclusion(number, block["hash"], *found))
            elif number >= w.last_block:
                w.future.set_result(None)
            else:
                left.append(w)
        self.watches = left

    async def close(self) -> None:
        if self._task is not None:
            self._task.cancel()
            try:
                await self._task
            except asyncio.CancelledError:
                pass
        for w in self.watches:
            if not w.future.done():
                w.future.cancel()
        self.watches = []
