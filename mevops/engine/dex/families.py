"""Incremental screening of cycle families: which cycles need a look after some Syncs.

A family (see :mod:`cycles`) is the cycles ``first-leg pool → mid hop → last-leg pool``. Float
products are monotone in each factor, so every member's rate product is ≤ the family *bound*
``S = best(first)·rate(mid)·best(last)``, and every member's real optimum is ≤ the *profit bound*
``min(depth(first), depth(last))·(√S − 1)²`` (depth: the deepest base-token reserve on the leg,
over γ on the way in; see ``screen``). A family is in one of three states:

- *active*: its profit bound may clear gas. Members are screened one by one and the passing ones
  go to the :class:`CandidateBook`. Re-screened on any Sync of one of its pools.
- *closed* (bound ≤ 1 + ε by a ratio R) or *parked* (bound passes, profit bound cannot clear
  gas): each factor gets a *ceiling*, its value times r, chosen so that while no factor reaches
  its ceiling the family still cannot matter. Closed: r = R^(1/n) keeps S under the threshold.
  Parked: r keeps the profit bound under 1/4 of the gas it was parked at, as long as the legs'
  base reserves also stay under 1.25× (depth ceilings); the larger r of the two is used, and a
  parked family is looked at again when gas falls below that profit bound.

Ceilings live in min-heaps per leg (rates, depths) and in ``need_mid``; ``pool_changed`` pops
only the families whose ceiling a rising value reaches. n = 3 factors, 2 for 2-hop families
(their middle is the constant identity). Ceilings round low and bounds round high, so a spurious
re-screen can happen and a missed one cannot.
"""

from __future__ import annotations

import heapq
from math import sqrt

from mevops.engine.dex.candidates import CandidateBook, SizeFn
from mevops.engine.dex.cycles import CycleIndex
from mevops.engine.dex.screen import RateTable, may_clear

LOW = 1.0 - 1e-12  # ceilings round low
HIGH = 1.0 + 1e-7  # profit bounds round high: float error on estimates is < 1e-8 (see screen)
PARK_TARGET = 0.25  # a parked family's profit bound stays under a quarter of the gas it was parked at...
DEPTH_SLACK = 1.25  # ...while its legs' base reserves grow by less than this
MAX_GROWTH = 1e18


class FamilyScreen:
    def __init__(self, index: CycleIndex, rates: RateTable, threshold: float, size: SizeFn, *, pruning: bool = True) -> None:
        self.ix, self.rates, self.threshold, self.pruning = index, rates, threshold, pruning
        self.legmax = [max(rates.rate[h] for h in hops) for hops in index.legs]
        self.active = bytearray(index.family_count)  # 1: active; 0: closed or parked (waiting on ceilings)
        self.leg_active: list[set[int]] = [set() for _ in index.legs]
        self.version = [0] * index.family_count  # bumped by each screen: older heap entries go stale
        self.screened_at = [-1] * index.family_count
        self.rate_ceilings: list[list[tuple[float, int, int]]] = [[] for _ in index.legs]  # (ceiling, family, version)
        self.depth_ceilings: list[list[tuple[float, int, int]]] = [[] for _ in index.legs]
        self.need_mid = [0.0] * index.family_count
        self.pushed = 0  # heap entries pushed since the last prune (at most 5 per screen are live)
        self.parked: list[list[tuple[float, int, int]]] = [[] for _ in range(2 * len(index.base_tokens))]
        self.dirty: set[int] = set(range(index.family_count))
        self.last_rescreened: set[int] = set()
        self.tick = 0
        self.pool_tick = [0] * (len(index.pools) + 1)  # + the identity hop's "pool"
        self.members_found: dict[int, set[int]] = {}  # active family -> its candidates
        self.book = CandidateBook(index, rates, size, self.pool_tick)
        self.pool_legs = [tuple((leg, hop, index.legs[leg], index.leg_out[leg]) for leg, hop in legs) for legs in index.pool_legs]
        self.pool_middles = [tuple((f, index.mid[f]) for f in families) for families in index.pool_middles]

    # -- marking -----------------------------------------------------------------------------

    def pool_changed(self, i: int) -> None:
        """Pool ``i``'s entries in ``self.rates`` were just updated: mark what may have changed."""
        self.tick += 1
        self.pool_tick[i] = self.tick
        rates, legmax, dirty = self.rates, self.legmax, self.dirty
        rate = rates.rate
        if not self.pruning:  # reference mode: every family through the pool
            for leg, hop, hops, out in self.pool_legs[i]:
                legmax[leg] = max([rate[h] for h in hops])
            dirty.update(self.ix.families_of(self.ix.pools[i].address))
            return
        for leg, hop, hops, out in self.pool_legs[i]:
            best = rate[hop] if len(hops) == 1 else max([rate[h] for h in hops])
            if best > legmax[leg]:
                self._reach(self.rate_ceilings[leg], best)
            legmax[leg] = best
            if self.depth_ceilings[leg]:
                self._reach(self.depth_ceilings[leg], (rates.rin[hop] if out else rates.ga[hop]) / rates.gamma[hop])
            if self.leg_active[leg]:
                dirty.update(self.leg_active[leg])
        active, need_mid = self.active, self.need_mid
        for family, mid in self.pool_middles[i]:
            if active[family] or rate[mid] >= need_mid[family]:
                dirty.add(family)

    def _reach(self, heap: list[tuple[float, int, int]], value: float) -> None:
        version, dirty = self.version, self.dirty
        while heap and heap[0][0] <= value:
            _, family, seen = heapq.heappop(heap)
            if seen == version[family]:
                dirty.add(family)

    # -- screening ---------------------------------------------------------------------------

    def rescreen(self, limits: list[int]) -> None:
        """Screen the dirty families, then whatever cheaper gas lets through."""
        dirty, self.dirty = self.dirty, set()
        self.last_rescreened = dirty
        for family in dirty:
            self.screen(family, limits)
        for group, heap in enumerate(self.parked):
            while heap and may_clear(-heap[0][0], limits[group]):
                _, family, seen = heapq.heappop(heap)
                if seen == self.version[family]:
                    self.screen(family, limits)
        if self.pushed > 5 * self.ix.family_count + 4096:
            self._prune_all()
        self.book.promote(limits, self.tick)

    def screen(self, family: int, limits: list[int]) -> None:
        ix, legmax = self.ix, self.legmax
        first, mid, last, group = ix.first[family], ix.mid[family], ix.last[family], ix.group[family]
        factors = (legmax[first], self.rates.rate[mid], legmax[last])
        bound = factors[0] * factors[1] * factors[2]
        self.version[family] += 1
        if bound > self.threshold:
            depths = self._depths(first, last)
            d = (bound - 1.0) / (sqrt(bound) + 1.0)
            active = may_clear(min(depths) * d * d * HIGH, limits[group]) or not self._park(
                family, factors, depths, limits[group], 0.0
            )
        else:
            growth = self.threshold / bound if bound > 0.0 else MAX_GROWTH
            active = not self._park(family, factors, self._depths(first, last), limits[group], growth)
        if active != self.active[family]:
            for leg in (first, last):
                (self.leg_active[leg].add if active else self.leg_active[leg].discard)(family)
            self.active[family] = active
        found = self._screen_members(family, first, mid, last, limits[group]) if active else set()
        self.screened_at[family] = self.tick
        for cid in self.members_found.pop(family, ()):
            if cid not in found:
                self.book.drop(cid)
        if found:
            self.members_found[family] = found

    def _depths(self, first: int, last: int) -> tuple[float, float]:
        rates, legs = self.rates, self.ix.legs
        rin, ga, gamma = rates.rin, rates.ga, rates.gamma
        return max([rin[h] / gamma[h] for h in legs[first]]), max([ga[h] / gamma[h] for h in legs[last]])

    def _park(
        self, family: int, factors: tuple[float, float, float], depths: tuple[float, float], limit: int, growth: float
    ) -> bool:
        """Set ceilings that let the bound grow by ``growth`` (keeps a closed family closed), or by
        what keeps the profit bound under PARK_TARGET·limit if larger; each of the n factors may
        grow by growth^(1/n). False if neither growth is > 1. (Equal shares measured best: giving
        legs that many families share a larger part made more re-screens, not fewer.)"""
        ix, version = self.ix, self.version[family]
        first, last, group = ix.first[family], ix.last[family], ix.group[family]
        bound, depth = factors[0] * factors[1] * factors[2], DEPTH_SLACK * min(depths)
        if bound > 0.0 and depth > 0.0 and limit > 0:
            s_max = (1.0 + sqrt(PARK_TARGET * limit / (depth * HIGH))) ** 2
            profit_max = depth * (sqrt(s_max) - 1.0) ** 2 * HIGH * HIGH
            if s_max > bound * growth and not may_clear(profit_max, limit):  # (tiny limits: would loop)
                growth = s_max / bound
                heapq.heappush(self.depth_ceilings[first], (DEPTH_SLACK * depths[0], family, version))
                heapq.heappush(self.depth_ceilings[last], (DEPTH_SLACK * depths[1], family, version))
                heapq.heappush(self.parked[group], (-profit_max, family, version))
                self.pushed += 3
        if growth <= 1.0:
            return False
        if bound > 0.0:
            share = min(growth, MAX_GROWTH) ** (0.5 if ix.mid[family] == ix.identity_hop else 1.0 / 3.0) * LOW
            ceilings = [f * share for f in factors]
        else:  # a zero factor: nothing opens until it turns positive
            ceilings = [0.0 if f == 0.0 else float("inf") for f in factors]
        self.need_mid[family] = ceilings[1]
        heapq.heappush(self.rate_ceilings[first], (ceilings[0], family, version))
        heapq.heappush(self.rate_ceilings[last], (ceilings[2], family, version))
        self.pushed += 2
        return True

    def _prune(self, heap: list[tuple[float, int, int]]) -> None:
        heap[:] = [e for e in heap if e[2] == self.version[e[1]]]
        heapq.heapify(heap)

    def _prune_all(self) -> None:
        """Drop stale heap entries; run once the heaps may hold more stale entries than families."""
        for heaps in (self.rate_ceilings, self.depth_ceilings, self.parked):
            for heap in heaps:
                if heap:
                    self._prune(heap)
        self.pushed = 0

    def _screen_members(self, family: int, first: int, mid: int, last: int, limit: int) -> set[int]:
        ix, rate, threshold, ticks, offer = self.ix, self.rates.rate, self.threshold, self.pool_tick, self.book.offer
        k, group, rm, best_last, tick = ix.radix, ix.group[family], rate[mid], self.legmax[last], self.tick
        before, since, found = self.members_found.get(family, ()), self.screened_at[family], set()
        for hp in ix.legs[first]:
            head, x = (hp * k + mid) * k, rate[hp] * rm
            if x * best_last <= threshold:
                continue
            row_tick = max(ticks[hp >> 1], ticks[mid >> 1])
            for hq in ix.legs[last]:
                product = x * rate[hq]
                if product > threshold and hp >> 1 != hq >> 1:
                    cid = head + hq
                    found.add(cid)
                    if cid not in before or max(row_tick, ticks[hq >> 1]) > since:  # else: nothing changed
                        offer(cid, (hp, mid, hq), product, group, limit, tick)
        return found
