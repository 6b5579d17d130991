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

Ceilings live in min-heaps per leg (rates, depths; a middle hop is a leg of one pool), and
``pool_changed`` pops only the families whose ceiling a rising value reaches: a product can only
grow through a factor that rises. n = 3 factors, 2 for 2-hop families (their middle is the
constant identity). Ceilings round low and bounds round high, so a spurious re-screen can
happen and a missed one cannot.
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
        self.legarg = [max(hops, key=rates.rate.__getitem__) for hops in index.legs]  # a hop with the best rate
        self.active = bytearray(index.family_count)  # 1: active; 0: closed or parked (waiting on ceilings)
        self.leg_active: list[set[int]] = [set() for _ in index.legs]
        self.version = [0] * index.family_count  # bumped by each screen: older heap entries go stale
        self.screened_at = [-1] * index.family_count
        self.rate_ceilings: list[list[tuple[float, int, int]]] = [[] for _ in index.legs]  # (ceiling, family, version)
        self.depth_ceilings: list[list[tuple[float, int, int]]] = [[] for _ in index.legs]
        self.pushed = 0  # heap entries pushed since the last prune (a family has at most 6 live ones)
        self.parked: list[list[tuple[float, int, int]]] = [[] for _ in range(2 * len(index.base_tokens))]
        self.dirty: set[int] = set(range(index.family_count))
        self.last_rescreened: set[int] = set()
        self.tick = 0
        self.pool_tick = [0] * (len(index.pools) + 1)  # + the identity hop's "pool"
        self.members_found: dict[int, set[int]] = {}  # active family -> its candidates
        self.book = CandidateBook(index, rates, size, self.pool_tick)
        mids = {index.mid_leg[f] for f in range(index.family_count)} - {-1}
        self.pool_legs = [  # per pool: (leg, its hop, leg hops, out?, the leg's heaps and active set)
            tuple(
                (
                    leg,
                    hop,
                    index.legs[leg],
                    index.leg_out[leg],
                    self.rate_ceilings[leg],
                    self.depth_ceilings[leg],
                    self.leg_active[leg],
                )
                for leg, hop in legs
                if leg not in mids
            )
            for legs in index.pool_legs
        ]
        self.pool_mids = [
            tuple((hop, self.rate_ceilings[leg], self.leg_active[leg]) for leg, hop in legs if leg in mids)
            for legs in index.pool_legs
        ]

    # -- marking -----------------------------------------------------------------------------

    def pool_changed(self, i: int) -> None:
        """Pool ``i``'s entries in ``self.rates`` were just updated: mark what may have changed."""
        self.tick += 1
        self.pool_tick[i] = self.tick
        rates, legmax, dirty = self.rates, self.legmax, self.dirty
        rate = rates.rate
        if not self.pruning:  # reference mode: every family through the pool
            for leg, hop, hops, *_ in self.pool_legs[i]:
                legmax[leg] = max([rate[h] for h in hops])
                self.legarg[leg] = max(hops, key=rate.__getitem__)
            dirty.update(self.ix.families_of(self.ix.pools[i].address))
            return
        legarg = self.legarg
        for leg, hop, hops, out, rate_heap, depth_heap, active in self.pool_legs[i]:
            best = rate[hop]
            if best >= legmax[leg]:  # the new best of its leg
                if best > legmax[leg] and rate_heap and rate_heap[0][0] <= best:
                    self._reach(rate_heap, best)
                legmax[leg], legarg[leg] = best, hop
            elif legarg[leg] == hop:  # the best fell: find the new one (it did not rise)
                legmax[leg] = max([rate[h] for h in hops])
                legarg[leg] = hops[[rate[h] for h in hops].index(legmax[leg])]
            if depth_heap:
                depth = (rates.rin[hop] if out else rates.ga[hop]) / rates.gamma[hop]
                if depth_heap[0][0] <= depth:
                    self._reach(depth_heap, depth)
            if active:
                dirty.update(active)
        for hop, rate_heap, active in self.pool_mids[i]:  # middle hops: one pool, no depth, no max
            if rate_heap and rate_heap[0][0] <= rate[hop]:
                self._reach(rate_heap, rate[hop])
            if active:
                dirty.update(active)

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
        if self.pushed > 6 * self.ix.family_count + 4096:
            self._prune_all()
        self.book.promote(limits, self.tick)

    def screen(self, family: int, limits: list[int]) -> None:
        ix, legmax = self.ix, self.legmax
        first, mid, last, group = ix.first[family], ix.mid[family], ix.last[family], ix.group[family]
        a, m, c = legmax[first], self.rates.rate[mid], legmax[last]
        bound = a * m * c
        self.version[family] += 1
        if bound > self.threshold:
            depth_in, depth_out = self._depths(first, last)
            d = (bound - 1.0) / (sqrt(bound) + 1.0)
            profit_bound = min(depth_in, depth_out) * d * d * HIGH
            active = may_clear(profit_bound, limits[group]) or not self._park(
                family, a, m, c, depth_in, depth_out, limits[group], 0.0
            )
        else:
            growth = self.threshold / bound if bound > 0.0 else MAX_GROWTH
            active = not self._park(family, a, m, c, *self._depths(first, last), limits[group], growth)
        if active != self.active[family]:
            for leg in (first, last, ix.mid_leg[family]):
                if leg >= 0:
                    (self.leg_active[leg].add if active else self.leg_active[leg].discard)(family)
            self.active[family] = active
        since, self.screened_at[family] = self.screened_at[family], self.tick
        before = self.members_found.pop(family, None)
        found = self._screen_members(family, first, mid, last, limits[group], before or (), since) if active else None
        if before:
            for cid in before:
                if not found or cid not in found:
                    self.book.drop(cid)
        if found:
            self.members_found[family] = found

    def _depths(self, first: int, last: int) -> tuple[float, float]:
        rates, legs = self.rates, self.ix.legs
        rin, ga, gamma = rates.rin, rates.ga, rates.gamma
        hops_in, hops_out = legs[first], legs[last]
        h, k = hops_in[0], hops_out[0]
        depth_in = rin[h] / gamma[h] if len(hops_in) == 1 else max([rin[h] / gamma[h] for h in hops_in])
        depth_out = ga[k] / gamma[k] if len(hops_out) == 1 else max([ga[h] / gamma[h] for h in hops_out])
        return depth_in, depth_out

    def _park(
        self, family: int, a: float, m: float, c: float, depth_in: float, depth_out: float, limit: int, growth: float
    ) -> bool:
        """Set ceilings that let the bound a·m·c grow by ``growth`` (keeps a closed family
        closed), or by what keeps the profit bound under PARK_TARGET·limit if larger; each of the
        n factors may grow by growth^(1/n). False if neither growth is > 1. (Equal shares
        measured best: a larger part for legs many families share made more re-screens.)"""
        ix, version, push = self.ix, self.version[family], heapq.heappush
        first, last = ix.first[family], ix.last[family]
        bound, depth = a * m * c, DEPTH_SLACK * min(depth_in, depth_out)
        if bound > 0.0 and depth > 0.0 and limit > 0:
            s_max = (1.0 + sqrt(PARK_TARGET * limit / (depth * HIGH))) ** 2
            profit_max = depth * (sqrt(s_max) - 1.0) ** 2 * HIGH * HIGH
            if s_max > bound * growth and not may_clear(profit_max, limit):  # (tiny limits: would loop)
                growth = s_max / bound
                push(self.depth_ceilings[first], (DEPTH_SLACK * depth_in, family, version))
                push(self.depth_ceilings[last], (DEPTH_SLACK * depth_out, family, version))
                push(self.parked[ix.group[family]], (-profit_max, family, version))
                self.pushed += 3
        if growth <= 1.0:
            return False
        mid_leg = ix.mid_leg[family]
        if bound > 0.0:
            share = min(growth, MAX_GROWTH) ** (1.0 / 3.0 if mid_leg >= 0 else 0.5) * LOW
            a, m, c = a * share, m * share, c * share
        else:  # a zero factor: nothing opens until it turns positive
            a, m, c = (0.0 if f == 0.0 else float("inf") for f in (a, m, c))
        push(self.rate_ceilings[first], (a, family, version))
        push(self.rate_ceilings[last], (c, family, version))
        if mid_leg >= 0:
            push(self.rate_ceilings[mid_leg], (m, family, version))
        self.pushed += 3
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

    def _screen_members(
        self, family: int, first: int, mid: int, last: int, limit: int, before: set[int] | tuple, since: int
    ) -> set[int]:
        """Members whose own product passes (offered to the book); unchanged candidates since the
        family's last screen at tick ``since`` are kept as they are."""
        ix, rate, threshold, ticks, offer = self.ix, self.rates.rate, self.threshold, self.pool_tick, self.book.offer
        k, group, rm, best_last, tick = ix.radix, ix.group[family], rate[mid], self.legmax[last], self.tick
        found = set()
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
