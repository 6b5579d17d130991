"""Candidate cycles: their own float rate product passes the screen; sized exactly when they may pay.

Each candidate holds its float estimate (an upper bound on its integer profit, see ``screen``).
If the estimate may clear gas + minimum profit it is sized in integers (:func:`size_hops`) and the
sizing is kept until one of its pools syncs; otherwise it waits in a max-heap per (base, hops)
group and is sized when gas gets cheap enough. Heap entries go stale instead of being deleted.
"""

from __future__ import annotations

import heapq
from collections.abc import Callable

from mevops.engine.dex.curve import Sizing
from mevops.engine.dex.cycles import CycleIndex
from mevops.engine.dex.screen import RateTable, may_clear

SizeFn = Callable[[int, int, int, int], "Sizing | None"]  # (first hop, mid hop, last hop, group)


class CandidateBook:
    def __init__(self, index: CycleIndex, rates: RateTable, size: SizeFn, pool_tick: list[int]) -> None:
        self.ix, self.rates, self.size, self.pool_tick = index, rates, size, pool_tick
        self.cand: dict[int, tuple[float, int]] = {}  # cycle -> (estimate, group)
        self.sized: dict[int, Sizing | None] = {}
        self.sized_tick: dict[int, int] = {}
        self.gains: dict[int, tuple[Sizing, int]] = {}  # sized with gross profit > 0 -> (sizing, group)
        self.pending: list[list[tuple[float, int]]] = [[] for _ in range(2 * len(index.base_tokens))]

    def offer(self, cid: int, hops: tuple[int, int, int], product: float, group: int, limit: int, tick: int) -> None:
        """A cycle whose product passes: size it if it may pay, else park it for cheaper gas."""
        est = self.rates.estimate(*hops, product)
        previous = self.cand.get(cid)
        self.cand[cid] = (est, group)
        if may_clear(est, limit):
            ticks = self.pool_tick
            if cid in self.sized and self.sized_tick[cid] >= max(ticks[hops[0] >> 1], ticks[hops[1] >> 1], ticks[hops[2] >> 1]):
                return  # none of its pools changed since it was sized
            self._store(cid, hops, group, tick)
        elif self.sized.pop(cid, False) is not False or previous is None or previous[0] != est:
            self.gains.pop(cid, None)
            heapq.heappush(self.pending[group], (-est, cid))

    def drop(self, cid: int) -> None:
        self.cand.pop(cid, None)
        self.sized.pop(cid, None)
        self.sized_tick.pop(cid, None)
        self.gains.pop(cid, None)

    def promote(self, limits: list[int], tick: int) -> None:
        """Size the waiting candidates that the current gas lets through."""
        for group, heap in enumerate(self.pending):
            while heap and may_clear(-heap[0][0], limits[group]):
                neg_est, cid = heapq.heappop(heap)
                if self.cand.get(cid, (None,))[0] == -neg_est and cid not in self.sized:
                    hops = self.ix.hops_of(cid)
                    self._store(cid, hops if len(hops) == 3 else (hops[0], self.ix.identity_hop, hops[1]), group, tick)
        if sum(len(h) for h in self.pending) > 2 * (len(self.cand) - len(self.sized)) + 4096:
            self._compact()

    def _compact(self) -> None:
        for heap in self.pending:
            heap.clear()
        for cid, (est, group) in self.cand.items():
            if cid not in self.sized:
                self.pending[group].append((-est, cid))
        for heap in self.pending:
            heapq.heapify(heap)

    def _store(self, cid: int, hops: tuple[int, int, int], group: int, tick: int) -> None:
        sizing = self.size(*hops, group)
        self.sized[cid] = sizing
        self.sized_tick[cid] = tick
        if sizing is not None and sizing.profit > 0:
            self.gains[cid] = (sizing, group)
        else:
            self.gains.pop(cid, None)
