"""In-process simulation of the executor call on a warm pyrevm fork, kept current from events.

``RevmSimulator`` has the interface of ``mempool.Simulator`` (``await sim(trade, calldata) ->
(ok, reason, profit)``) and answers in a fraction of an ``eth_call`` round trip, with no I/O.

Keeping the fork correct across blocks: the engine already receives every tracked pool's
``Sync``; ``on_sync`` writes it into the EVM (the packed reserves slot, and the pool's two token
balances set equal to the reserves, which is what a Sync reports). The executor's own token
balances are read from the node after each block (``refresh_delay`` later, off the hot path;
until then a stale balance can only be lower, except after a withdrawal: a trade may be refused,
none is wrongly sent). Everything else (code, other state) ages: after ``max_fork_age`` blocks
the fork is rebuilt in the background (``fork.build_fork``) and swapped in; so it is when a
patch fails, with eth_call answering meanwhile. Reorgs are not seen (the block collector only
reports higher heads): the age limit bounds what they leave behind.

A head announces in its logsBloom which pools logged; until those Syncs are in, the state is
incomplete for the head, and a simulation waits for them up to ``settle_timeout``. ``eth_call``
answers instead whenever revm cannot be trusted: the head is unsettled or its bloom unknown, the
fork is stale, a pool of the trade could not be mapped (``layout``), or pyrevm raised anything
but a revert or a halt. The simulation runs in the next block (number + 1, one interval later).
"""

from __future__ import annotations

import asyncio
import collections
import logging
from collections.abc import Iterable
from typing import Any

from mevops.engine.collectors.blocks import block_event
from mevops.engine.collectors.rpc import HttpRpc
from mevops.engine.executors.mempool import Simulator
from mevops.engine.sim.bloom import SyncAnnouncements
from mevops.engine.sim.fork import build_fork, write_storage
from mevops.engine.sim.layout import StateLayout, pack_reserves, probe_layout
from mevops.engine.sim.outcome import call_outcome
from mevops.engine.types import ArbTrade, NewBlock, PoolSync

log = logging.getLogger("mevops.engine.sim")

Result = tuple[bool, str, "int | None"]


class RevmSimulator:
    def __init__(self, rpc: HttpRpc, fork_url: str, sender: str, executor: str, layout: StateLayout, *,
                 fallback: Any = None, max_fork_age: int = 256, settle_timeout: float = 0.05,
                 refresh_delay: float = 0.02, spec_id: str = "CANCUN", max_routes: int = 32) -> None:
        self.rpc, self.fork_url, self.layout, self.spec_id = rpc, fork_url, layout, spec_id
        self.sender, self.executor = sender.lower(), executor.lower()
        self.fallback = fallback or Simulator(rpc, sender, executor)
        self.max_fork_age, self.settle_timeout, self.refresh_delay = max_fork_age, settle_timeout, refresh_delay
        self.announcements = SyncAnnouncements(layout.pools)
        self.evm: Any = None
        self.fork_block = -1
        self.reserves: dict[str, tuple[int, int, int, int]] = {}    # pool -> (r0, r1, block, log_index)
        self.head: NewBlock | None = None
        self.interval = 12                        # seconds between blocks, as last seen
        self.pending: set[str] | None = set()     # pools the head announced whose Sync is not in; None: unknown
        self.synced: dict[int, set[str]] = {}     # block -> pools whose Sync of that block is in
        self.settled = asyncio.Event()
        self.settled.set()
        self.routes: collections.OrderedDict[tuple, bytes] = collections.OrderedDict()
        self.max_routes = max_routes
        self.stats: collections.Counter = collections.Counter()
        self._tasks: set[asyncio.Task] = set()
        self._refreshed = -1
        self._reforking = False
        self.stale = True                         # no fork yet
        self._own_rpc = False

    @classmethod
    async def create(cls, fork_url: str, sender: str, executor: str, pools: Iterable[Any], *, rpc: HttpRpc | None = None,
                     warm_calls: Iterable[bytes] = (), **options: Any) -> RevmSimulator:
        """Probe the storage layout of ``pools`` (objects with address/token0/token1) and build a warm
        fork at the node's latest block; ``warm_calls`` (executor calldata) are traced into it."""
        own = rpc is None
        rpc = rpc or HttpRpc(fork_url)
        block = int(await rpc.call("eth_blockNumber"), 16)
        layout = await probe_layout(rpc, list(pools), executor, block)
        sim = cls(rpc, fork_url, sender, executor, layout, **options)
        sim._own_rpc = own
        for i, data in enumerate(warm_calls):
            sim.routes[("warm", i)] = data
        header = await rpc.call("eth_getBlockByNumber", [hex(block), False])
        sim.head = block_event(header)   # the fork holds all of this block: nothing pending
        await sim.refork(block)
        if sim.stale:
            raise RuntimeError(f"could not build a pyrevm fork of {fork_url} at block {block}")
        return sim

    # -- the simulation ---------------------------------------------------------------------------
    async def __call__(self, trade: ArbTrade, data: bytes) -> Result:
        if self.pending and not await self._settle():
            self.stats["fallback_unsettled"] += 1
            return await self.fallback(trade, data)
        unsure = ("no_bloom" if self.pending is None else "stale" if self.stale else
                  "unpatchable" if any(h.pool.lower() not in self.layout.pools for h in trade.hops) else None)
        if unsure is not None:
            self.stats[f"fallback_{unsure}"] += 1
            return await self.fallback(trade, data)
        try:
            result = self.simulate(data, trade.gas_limit)
        except Exception as exc:  # noqa: BLE001 - whatever pyrevm raised, eth_call decides
            self.stats["fallback_error"] += 1
            log.warning("revm simulation failed (%s: %s); falling back to eth_call", type(exc).__name__, exc)
            return await self.fallback(trade, data)
        self.stats["revm"] += 1
        self._remember(trade, data)
        return result

    def simulate(self, data: bytes, gas: int) -> Result:
        """Run the executor call on the current fork and roll it back; raises on anything but revert/halt."""
        evm = self.evm
        checkpoint = evm.snapshot()
        try:
            out = evm.message_call(self.sender, self.executor, data, gas=gas)
        except RuntimeError as exc:
            return call_outcome(str(exc))
        finally:
            evm.revert(checkpoint)
            evm.reset_transient_storage()
        return True, "", int.from_bytes(out[:32], "big") if out else None

    async def _settle(self) -> bool:
        self.stats["waited"] += 1
        try:
            await asyncio.wait_for(self.settled.wait(), self.settle_timeout)
        except TimeoutError:
            return False
        return True

    def _remember(self, trade: ArbTrade, data: bytes) -> None:
        key = tuple((h.pool.lower(), h.zero_for_one) for h in trade.hops)
        self.routes[key] = data
        self.routes.move_to_end(key)
        while len(self.routes) > self.max_routes:
            self.routes.popitem(last=False)

    # -- events -----------------------------------------------------------------------------------
    def on_sync(self, event: PoolSync) -> None:
        pool = event.pool.lower()
        known = self.reserves.get(pool)
        if known is not None and (known[2], known[3]) >= (event.block, event.log_index):
            return  # a duplicate or an older log
        self.reserves[pool] = (event.reserve0, event.reserve1, event.block, event.log_index)
        self.synced.setdefault(event.block, set()).add(pool)
        if self.evm is not None and not self.stale:
            try:
                self._patch(self.evm, pool)
            except Exception as exc:  # noqa: BLE001 - an unpatched fork is wrong: eth_call until a new one
                self._give_up(f"patching {pool} failed ({type(exc).__name__}: {exc})")
        if self.head is not None and event.block == self.head.number and self.pending:
            self.pending.discard(pool)
            if not self.pending:
                self.settled.set()

    def _give_up(self, why: str) -> None:
        """The fork can no longer be trusted: simulate with eth_call until a rebuilt one is in."""
        self.stale = True
        self.stats["stale"] += 1
        log.warning("revm fork of block %s is stale: %s; eth_call simulates until a re-fork", self.fork_block, why)
        self._spawn(self.refork())

    def _patch(self, evm: Any, pool: str) -> None:
        slots = self.layout.pools.get(pool)
        if slots is None:
            return
        r0, r1, _, _ = self.reserves[pool]
        stamp = self.head.timestamp if self.head is not None else 0
        write_storage(evm, ((pool, slots.reserves, pack_reserves(r0, r1, stamp)), (slots.token0, slots.balance0, r0),
                            (slots.token1, slots.balance1, r1)))

    def on_block(self, event: NewBlock) -> None:
        if self.head is not None and event.number <= self.head.number:
            return
        if self.head is not None:
            self.interval = max(1, (event.timestamp - self.head.timestamp) // max(1, event.number - self.head.number))
        self.head = event
        announced = self.announcements.announced(getattr(event, "logs_bloom", ""))
        self.pending = None if announced is None else announced - self.synced.get(event.number, set())
        self.synced = {b: p for b, p in self.synced.items() if b >= event.number}
        (self.settled.clear if self.pending else self.settled.set)()
        if not self.stale:
            self._set_block(self.evm, event)
        self._spawn(self._refresh(event.number))
        if (self.stale or event.number - self.fork_block >= self.max_fork_age) and not self._reforking:
            self._spawn(self.refork())

    def _set_block(self, evm: Any, head: NewBlock) -> None:
        """Simulate in the block the trade will land in: the next one (a pool synced in ``head`` then
        sees time pass and updates its price accumulators, as on chain; same gas)."""
        from pyrevm import BlockEnv

        evm.set_block_env(BlockEnv(number=head.number + 1, timestamp=head.timestamp + self.interval, basefee=head.base_fee,
                                   prevrandao=bytes(32), gas_limit=30_000_000))

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- background upkeep ------------------------------------------------------------------------
    async def _refresh(self, number: int) -> None:
        """Read the executor's token balances at block ``number`` into the fork."""
        try:
            await asyncio.sleep(self.refresh_delay)
            slots = list(self.layout.holder_slots.items())
            values = await self.rpc.batch([("eth_getStorageAt", [t, hex(s), hex(number)]) for t, s in slots])
        except Exception as exc:  # noqa: BLE001 - the next block retries
            log.debug("executor balance refresh failed: %s", exc)
            return
        if number <= max(self._refreshed, self.fork_block) or self.stale:
            return
        self._refreshed = number
        try:
            write_storage(self.evm, ((token, slot, int(value, 16)) for (token, slot), value in zip(slots, values)))
        except Exception as exc:  # noqa: BLE001
            self._give_up(f"writing the executor's balances failed ({type(exc).__name__}: {exc})")
            return
        self.stats["refreshes"] += 1

    async def refork(self, block: int | None = None) -> None:
        """Build a warm fork at ``block`` (default: the latest) off the hot path, then swap it in."""
        if self._reforking:
            return
        self._reforking = True
        try:
            block = block if block is not None else int(await self.rpc.call("eth_blockNumber"), 16)
            evm, _ = await build_fork(self.rpc, self.fork_url, block, calls=self._probe_calls(),
                                      accounts=self._accounts(), slots=self._slots(), spec_id=self.spec_id)
            for pool, (_, _, synced_at, _) in self.reserves.items():
                if synced_at > block:
                    self._patch(evm, pool)  # Syncs that arrived while the fork was built
            if self.head is not None:
                self._set_block(evm, self.head)
            self.evm, self.fork_block, self.stale, self._refreshed = evm, block, False, block
            self.stats["forks"] += 1
            if self.head is not None and self.head.number > block:
                self._spawn(self._refresh(self.head.number))  # the executor's balances since the fork's block
        except Exception as exc:  # noqa: BLE001 - keep the old fork, eth_call stays the fallback
            self.stats["fork_errors"] += 1
            log.warning("re-fork failed (%s: %s); keeping the fork of block %s", type(exc).__name__, exc, self.fork_block)
        finally:
            self._reforking = False

    def _probe_calls(self) -> list[dict[str, Any]]:
        return [{"from": self.sender, "to": self.executor, "data": "0x" + data.hex(), "gas": hex(3_000_000)}
                for data in self.routes.values()]

    def _accounts(self) -> set[str]:
        tokens = {t for s in self.layout.pools.values() for t in (s.token0, s.token1)}
        return {self.sender, self.executor, *self.layout.pools, *tokens}

    def _slots(self) -> list[tuple[str, int]]:
        slots = [(t, s) for t, s in self.layout.holder_slots.items()]
        for s in self.layout.pools.values():
            slots += [(s.pool, s.reserves), (s.token0, s.balance0), (s.token1, s.balance1)]
        return slots

    async def close(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        if self._own_rpc:
            await self.rpc.close()
