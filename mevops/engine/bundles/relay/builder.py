"""Build the next block of an anvil (automine off) with the bundles that target it, all or nothing.

For block N: bundles for N are simulated (``eth_simulateV1``: nonces, fee cap, reverts) and
ranked by what they pay coinbase; a bundle joins the block only if it still succeeds on top of
the better ones. Then, for real: the public transactions waiting in the pool are set aside
(``anvil_dropTransaction``, their raw bytes kept), ``evm_snapshot``, the chosen bundles' raw
transactions are sent in order, ``evm_mine``, and the block is checked: every bundle's
transactions present, in order, back to back, and none reverted unless listed in
``revertingTxHashes``. If a bundle fails, ``evm_revert`` undoes the block (nothing of the bundle
remains, nonces included), that bundle is dropped and the block is built again without it. The
set-aside transactions go back into the pool afterwards: a block with bundles holds only the
bundles (and whatever arrived meanwhile), the public transactions land in the next block.

Blocks without bundles are plain ``evm_mine``. Each snapshot anvil keeps costs memory (anvil has
no call to free one without reverting): fine for a devnet, which this is.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from typing import Any

from mevops.engine.bundles.inclusion import find
from mevops.engine.bundles.relay.pool import BundlePool, StoredBundle
from mevops.engine.bundles.relay.simulation import simulate
from mevops.engine.collectors.rpc import JsonRpcError

log = logging.getLogger("mevops.relay")


@dataclass
class BuiltBlock:
    number: int
    timestamp: int
    included: list[StoredBundle] = field(default_factory=list)
    failed: list[StoredBundle] = field(default_factory=list)


class BlockBuilder:
    def __init__(self, rpc: Any, pool: BundlePool, chain_id: int, coinbase: str) -> None:
        self.rpc, self.pool, self.chain_id, self.coinbase = rpc, pool, chain_id, coinbase
        self._restore: list[tuple[str, list[Any]]] = []

    # -- owning block production -----------------------------------------------------------------------
    async def take_over(self) -> None:
        """Stop anvil's own mining (automine, interval) and set its coinbase; ``give_back`` restores both."""
        automine, interval, coinbase = await self.rpc.batch([("anvil_getAutomine", []), ("anvil_getIntervalMining", []),
                                                             ("eth_coinbase", [])])
        self._restore = [("anvil_setCoinbase", [coinbase])]
        if automine:
            self._restore.append(("evm_setAutomine", [True]))
        if interval:
            self._restore.append(("evm_setIntervalMining", [interval]))
        await self.rpc.batch([("evm_setAutomine", [False]), ("evm_setIntervalMining", [0]),
                              ("anvil_setCoinbase", [self.coinbase])])

    async def give_back(self) -> None:
        for method, params in self._restore:
            await self.rpc.call(method, params)
        self._restore = []

    # -- one block ---------------------------------------------------------------------------------------
    async def build(self) -> BuiltBlock:
        head = await self.rpc.call("eth_getBlockByNumber", ["latest", False])
        parent = int(head["number"], 16)
        built = BuiltBlock(parent + 1, max(int(time.time()), int(head["timestamp"], 16) + 1))
        self.pool.expire(parent)
        chosen = await self._select(self.pool.due(built.number, built.timestamp), built)
        if chosen:
            await self._include(chosen, built)
        else:
            await self._mine(built.timestamp)
        return built

    async def _select(self, due: list[StoredBundle], built: BuiltBlock) -> list[StoredBundle]:
        """The bundles for this block, best payers first, each still succeeding after the ones before it."""
        scored = []
        for stored in due:
            sim = await simulate(self.rpc, stored.txs, built.number, built.timestamp, self.coinbase, self.chain_id)
            why = sim.failure(set(stored.bundle.reverting_tx_hashes))
            if why:
                self._fail(stored, built, f"simulation: {why}")
            else:
                scored.append((sim.coinbase_diff, stored))
        scored.sort(key=lambda item: (-item[0], item[1].received))
        chosen: list[StoredBundle] = []
        for _, stored in scored:
            if chosen:
                sim = await simulate(self.rpc, [tx for s in chosen + [stored] for tx in s.txs], built.number,
                                     built.timestamp, self.coinbase, self.chain_id)
                why = sim.failure({h for s in chosen + [stored] for h in s.bundle.reverting_tx_hashes})
                if why:
                    self._fail(stored, built, f"conflicts with a better-paying bundle: {why}")
                    continue
            chosen.append(stored)
        return chosen

    async def _include(self, chosen: list[StoredBundle], built: BuiltBlock) -> None:
        aside = await self._set_aside_pool()
        snapshot = await self.rpc.call("evm_snapshot")
        try:
            while chosen:
                failed, why, others = await self._attempt(chosen, built)
                if failed is None:
                    for stored in chosen:
                        self.pool.settle(stored, "included", "", built.number)
                        built.included.append(stored)
                    log.info("block %d: %d bundle(s) included", built.number, len(chosen))
                    return
                aside += others
                await self.rpc.call("evm_revert", [snapshot])
                snapshot = await self.rpc.call("evm_snapshot")
                chosen = [s for s in chosen if s is not failed]
                self._fail(failed, built, why)
            await self._mine(built.timestamp)  # every bundle failed: an ordinary block
        finally:
            await self._return_to_pool(aside)

    async def _attempt(self, chosen: list[StoredBundle], built: BuiltBlock) -> tuple[StoredBundle | None, str, list[str]]:
        """Send and mine; (the failing bundle, why, raw bytes of others' transactions in the block) or (None, "", [])."""
        for stored in chosen:
            for tx in stored.txs:
                try:
                    await self.rpc.call("eth_sendRawTransaction", ["0x" + tx.raw.hex()])
                except JsonRpcError as exc:
                    await self._drop([t.hash for s in chosen for t in s.txs])
                    return stored, f"the node refused {tx.hash}: {exc}", []
        await self._mine(built.timestamp)
        block = await self.rpc.call("eth_getBlockByNumber", [hex(built.number), False])
        hashes = [h.lower() for h in block.get("transactions") or []]
        ours = {h.lower() for s in chosen for h in s.bundle.tx_hashes}
        receipts = await self.rpc.batch([("eth_getTransactionReceipt", [h]) for h in hashes if h in ours])
        status = {r["transactionHash"].lower(): r["status"] == "0x1" for r in receipts if r}
        for stored in chosen:
            why = _check(stored, hashes, status)
            if why:
                others = [h for h in hashes if h not in ours]
                raws = await self.rpc.batch([("eth_getRawTransactionByHash", [h]) for h in others]) if others else []
                return stored, why, [r for r in raws if r]
        return None, "", []

    # -- the public pool -----------------------------------------------------------------------------------
    async def _set_aside_pool(self) -> list[str]:
        content = await self.rpc.call("txpool_content")
        hashes = [tx["hash"] for section in ("pending", "queued") for by_nonce in (content.get(section) or {}).values()
                  for tx in sorted(by_nonce.values(), key=lambda t: int(t["nonce"], 16))]
        if not hashes:
            return []
        raws = await self.rpc.batch([("eth_getRawTransactionByHash", [h]) for h in hashes])
        await self._drop(hashes)
        return [r for r in raws if r]

    async def _drop(self, hashes: list[str]) -> None:
        if hashes:
            await self.rpc.batch([("anvil_dropTransaction", [h]) for h in hashes])

    async def _return_to_pool(self, raws: list[str]) -> None:
        for raw in raws:
            try:
                await self.rpc.call("eth_sendRawTransaction", [raw])
            except JsonRpcError as exc:  # mined meanwhile, or its nonce was used: gone for a reason
                log.debug("a set-aside transaction did not go back: %s", exc)

    async def _mine(self, timestamp: int) -> None:
        await self.rpc.call("evm_mine", [{"timestamp": timestamp}])

    def _fail(self, stored: StoredBundle, built: BuiltBlock, why: str) -> None:
        self.pool.settle(stored, "failed", why)
        built.failed.append(stored)
        log.info("block %d: bundle %s not included: %s", built.number, stored.bundle.hash, why)


def _check(stored: StoredBundle, block_hashes: list[str], status: dict[str, bool]) -> str:
    """Why ``stored`` is not properly in the block ("" if it is): missing, split or reordered, or reverted."""
    found = find(stored.bundle.tx_hashes, block_hashes)
    if found is None or not found[1]:
        return "its transactions are not all in the block, in order, back to back"
    allowed = set(stored.bundle.reverting_tx_hashes)
    for h in stored.bundle.tx_hashes:
        if not status.get(h.lower(), False) and h not in allowed:
            return f"tx {h} reverted"
    return ""
