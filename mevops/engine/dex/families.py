"""Incremental screening of cycle families: which cycles need a look after some Syncs.

A family (see :mod:`cycles`) is the cycles ``first-leg pool → mid hop → last-leg pool``. Float
products are monotone in each factor, so every member's rate product is ≤ the family *bound*
``S = best(first)·rate(mid)·best(last)``, and every member's real optimum is ≤ the *profit bound*
``min(depth(first), depth(last))·(√S − 1)²`` (depth: the deepest base-token reserve on the leg,
over the leg's least γ on the way in; see ``screen``). A family is in one of three states:

- *active*: its profit bound may clear gas. Members are screened one by one: those whose own
  estimate may clear are sized (:class:`CandidateBook`), and the family is looked at again when
  gas falls below the best estimate of the others. Re-screened on any Sync of one of its pools.
- *closed* (bound ≤ 1 + ε by a ratio R) or *parked* (bound passes, profit bound cannot clear
  gas): each factor gets a *ceiling*, its value times r, chosen so that while no factor reaches
  its ceiling the family still cannot matter. Closed: r = R^(1/n) keeps S under the threshold.
  Parked: r keeps the profit bound under 1/4 of the gas it was parked at, as long as the legs'
  base reserves also stay under their *depth caps* (1.25× the reserve when set, and kept across
  screens while cap / reserve stays within 1.1–1.4); the larger r of the two is used, and a
  parked family is looked at again when gas falls below that profit bound.

Ceilings and caps live in min-heaps per leg (a middle hop is a leg of one pool). A leg's value
can only reach a ceiling through one of its hops rising to it, so each hop keeps *triggers*: a
float at or below the lowest rate ceiling of every leg it is on, and one on its input reserve
for the depth caps. Syncs only store reserves; at the next scan each synced pool costs a rate
update and four comparisons against its triggers. Only when one is reached are the pool's heaps
opened, the families whose ceilings were reached popped (marked dirty), and the pool's triggers
recomputed from the heap tops. Triggers may sit low (a popped or stale ceiling): that costs a
look at the heaps, never a missed family. Active families are kept per pool, so a Sync marks
them with one set union. n = 3 factors, 2 for 2-hop families (their middle is the constant
identity). Ceilings round low and bounds round high, so a spurious re-screen can happen and a
missed one cannot.

Heap entries go stale when their family is screened again (a version number per family; one per
side for depth caps, which outlive screens); a heap is pruned when it holds more than twice the
families that can have an entry in it, so pruning costs in proportion to the pushes that made
the garbage, heap by heap.
"""

from __future__ import annotations

import heapq
from array import array
from collections.abc import Iterable
from math import inf, sqrt, ulp
from operator import itemgetter

from mevops.engine.dex.candidates import CandidateBook, SizeFn
from mevops.engine.dex.cycles import CycleIndex
from mevops.engine.dex.screen import ESTIMATE_SLACK, RateTable

LOW = 1.0 - 1e-12  # ceilings round low
HIGH = 1.0 + 1e-7  # profit bounds round high: float error on estimates is < 1e-8 (see screen)
PARK_TARGET = 0.25  # a parked family's profit bound stays under a quarter of the gas it was parked at...
DEPTH_SLACK = 1.25  # ...while its legs' base reserves stay under their caps: 1.25× the reserve when set,
KEEP_CAP = (1.1, 1.4)  # kept at the next screens while cap / reserve stays in this range
MAX_GROWTH = 1e18
TINY = ulp(0.0)  # the ceiling of a zero factor: reached once it turns positive
CLEAR = 1.0 + ESTIMATE_SLACK  # may_clear(x, limit) is x·CLEAR + 1 ≥ limit
FIRST, LAST, MIDDLE = 0, 1, 2  # what a leg is to its families (its depth: rIn/γ on the way in, rOut out)

Heap = list[tuple[float, int, int]]  # (ceiling, family, version)


class FamilyScreen:
    def __init__(self, index: CycleIndex, rates: RateTable, threshold: float, size: SizeFn, *, pruning: bool = True) -> None:
        self.ix, self.rates, self.threshold, self.pruning = index, rates, threshold, pruning
        self.rate, self.rin, self.gamma = rates.rate, rates.rin, rates.gamma
        legs, fc = index.legs, index.family_count
        mids = {leg for leg in index.mid_leg if leg >= 0}
        self.leg_kind = [MIDDLE if leg in mids else (FIRST if out else LAST) for leg, out in enumerate(index.leg_out)]
        # family -> (first leg, mid hop, last leg, group, mid leg, exponent of a factor's share of the growth)
        self.fam = [
            (first, mid, last, group, mid_leg, 1.0 / 3.0 if mid_leg >= 0 else 0.5)
            for first, mid, last, group, mid_leg in zip(index.first, index.mid, index.last, index.group, index.mid_leg)
        ]
        self.leg_one = [hops[0] if len(hops) == 1 else -1 for hops in legs]  # the hop of a one-pool leg
        self.leg_gamma = [min(rates.gamma[h] for h in hops) for hops in legs]  # depth in: max rIn / least γ
        self.leg_ins = [itemgetter(*hops) if len(hops) > 1 else None for hops in legs]
        self.leg_outs = [itemgetter(*(h ^ 1 for h in hops)) if len(hops) > 1 else None for hops in legs]
        self.leg_pools = [tuple(h >> 1 for h in hops) for hops in legs]
        self.leg_seen = [0] * len(legs)  # several-pool legs: tick of the scan that cached (best rate, depth)
        self.leg_best = [0.0] * len(legs)
        self.leg_depth = [0.0] * len(legs)
        self.active = bytearray(fc)  # 1: active; 0: closed or parked (waiting on ceilings)
        self.version = [0] * fc  # bumped by each screen: older rate and parked entries go stale
        self.cap_version = ([0] * fc, [0] * fc)  # per side (FIRST, LAST): bumped when a new depth cap is set
        self.cap = ([0.0] * fc, [0.0] * fc)  # per side: the family's live depth cap (0.0: none in the heap)
        self.rate_ceilings: list[Heap] = [[] for _ in legs]
        self.depth_caps: list[Heap] = [[] for _ in legs]
        self.parked: list[Heap] = [[] for _ in range(2 * len(index.base_tokens))]  # (−profit bound, family, version)
        self.leg_room = [2 * len(families) + 16 for families in index.leg_families]  # prune a leg's heap past this
        per_group = [0] * len(self.parked)
        for group in index.group:
            per_group[group] += 1
        self.parked_room = [2 * n + 16 for n in per_group]
        self._dirty: set[int] = set(range(fc))
        self.synced: list[int] = []  # pools whose reserves changed since the last apply_syncs()
        self.last_rescreened: set[int] = set()
        self.tick = 1  # this scan's number: Syncs since the last scan carry it
        self.pool_tick = [0] * (len(index.pools) + 1)  # + the identity hop's "pool"
        self.members_found: dict[int, set[int]] = {}  # family -> its members sized on current reserves
        self.book = CandidateBook(size)
        self.pool_links = [tuple((leg, hop, self.leg_kind[leg]) for leg, hop in links) for links in index.pool_legs]
        n_hops = len(rates.rate)
        # read at every Sync: arrays of doubles, not lists of float objects to chase through memory
        self.rate_trigger = array("d", [inf]) * n_hops  # hop -> at or below the lowest rate ceiling on its legs
        self.reserve_trigger = array("d", [inf]) * n_hops  # hop -> a bound on rin[hop] below which no depth cap is reached
        self.pool_active: dict[int, set[int]] = {}  # pool -> active families through it (none: no key)
        self.pool_families: dict[int, list[int]] = {}  # reference mode only, filled on demand

    # -- marking -----------------------------------------------------------------------------

    @property
    def dirty(self) -> set[int]:
        """Families to screen at the next scan (Syncs applied so far included)."""
        self.apply_syncs()
        return self._dirty

    def apply_syncs(self) -> None:
        """Bring the float rates of the pools synced since the last call up to date (their
        reserves are already in the pools) and mark what may have changed.

        The same arithmetic as :meth:`RateTable.update`, so rates equal a fresh table's."""
        synced = self.synced
        if not synced:
            return
        pools, rin, rate, gamma = self.ix.pools, self.rin, self.rate, self.gamma
        trigger, reserve, pool_active, ticks, tick = (
            self.rate_trigger,
            self.reserve_trigger,
            self.pool_active,
            self.pool_tick,
            self.tick,
        )
        dirty, reached = self._dirty, []
        for i in synced:
            pool = pools[i]
            reserve0, reserve1 = pool.reserve0, pool.reserve1
            h = i + i
            k = h + 1
            f0, f1 = float(reserve0), float(reserve1)
            g = gamma[h]
            rin[h] = f0
            rin[k] = f1
            if reserve0 and reserve1:  # (never negative)
                x0 = rate[h] = g * f1 / f0
                x1 = rate[k] = g * f0 / f1
            else:
                x0 = x1 = rate[h] = rate[k] = 0.0
            ticks[i] = tick
            if x0 >= trigger[h] or x1 >= trigger[k] or f0 >= reserve[h] or f1 >= reserve[k]:
                reached.append(i)
            if i in pool_active:
                dirty |= pool_active[i]
        if not self.pruning:  # reference mode: every family through the pools
            for i in synced:
                self._mark_all(i)
        synced.clear()
        for i in reached:
            self._reach_pool(i)

    def _mark_all(self, i: int) -> None:
        found = self.pool_families.get(i)
        if found is None:
            found = self.pool_families[i] = self.ix.families_of(self.ix.pools[i].address)
        self._dirty.update(found)

    def _reach_pool(self, i: int) -> None:
        """A trigger of pool ``i`` was reached: pop the ceilings its new values reach (marking their
        families dirty) and stale entries off the tops, then set its triggers from the tops."""
        rate, rin, leg_gamma, version, dirty = self.rate, self.rin, self.leg_gamma, self.version, self._dirty
        rate_heaps, depth_heaps, caps, cap_versions, pop = (
            self.rate_ceilings,
            self.depth_caps,
            self.cap,
            self.cap_version,
            heapq.heappop,
        )
        h = 2 * i
        rates, reserves = [inf, inf], [inf, inf]
        for leg, hop, kind in self.pool_links[i]:
            heap, value = rate_heaps[leg], rate[hop]
            while heap and (heap[0][0] <= value or heap[0][2] != version[heap[0][1]]):
                _, family, seen = pop(heap)
                if seen == version[family]:
                    dirty.add(family)
            if heap and heap[0][0] < rates[hop - h]:
                rates[hop - h] = heap[0][0]
            if kind == MIDDLE:
                continue
            heap, cap, cap_version = depth_heaps[leg], caps[kind], cap_versions[kind]
            if kind == FIRST:  # depth rin/γ ≥ D implies rin ≥ D·γ·LOW
                gamma, side = leg_gamma[leg], hop - h
                value = rin[hop] / gamma
            else:  # depth = rin[hop ^ 1], the reserve it pays out
                gamma, side = 1.0, (hop ^ 1) - h
                value = rin[hop ^ 1]
            while heap and (heap[0][0] <= value or heap[0][2] != cap_version[heap[0][1]]):
                _, family, seen = pop(heap)
                if seen == cap_version[family]:
                    cap[family] = 0.0  # consumed: the next screen sets a new one
                    dirty.add(family)
            if heap:
                bound = heap[0][0] * gamma * LOW if kind == FIRST else heap[0][0]
                reserves[side] = min(reserves[side], bound)
        self.rate_trigger[h], self.rate_trigger[h + 1] = rates
        self.reserve_trigger[h], self.reserve_trigger[h + 1] = reserves

    # -- screening ---------------------------------------------------------------------------

    def rescreen(self, limits: list[int]) -> None:
        """Screen the dirty families, then whatever cheaper gas lets through."""
        self.apply_syncs()
        dirty, self._dirty = self._dirty, set()
        self.last_rescreened = dirty
        self.screen_families(dirty, limits)
        version, reopened = self.version, []
        for group, heap in enumerate(self.parked):
            limit = limits[group]
            while heap and -heap[0][0] * CLEAR + 1.0 >= limit:
                _, family, seen = heapq.heappop(heap)
                if seen == version[family]:
                    reopened.append(family)
        if reopened:
            self.screen_families(reopened, limits)
        self.tick += 1

    def screen(self, family: int, limits: list[int]) -> None:
        self.screen_families((family,), limits)

    def screen_families(self, families: Iterable[int], limits: list[int]) -> None:
        """Screen each family: active (members screened), or closed/parked behind new ceilings.

        Ceilings let the bound a·m·c grow by ``growth`` = threshold / bound (keeps a closed family
        closed), or by what keeps the profit bound under PARK_TARGET·limit if larger; each of the
        n factors may grow by growth^(1/n). Active if neither growth is > 1. (Equal shares
        measured best: a larger part for legs many families share made more re-screens.)"""
        fam, rate, rin, gamma, one = self.fam, self.rate, self.rin, self.gamma, self.leg_one
        seen, best, deep, tick = self.leg_seen, self.leg_best, self.leg_depth, self.tick
        version, flags, threshold, found_by = self.version, self.active, self.threshold, self.members_found
        cap_in, cap_out = self.cap
        rate_heaps, parked, room = self.rate_ceilings, self.parked, self.leg_room
        trigger, push, prune = self.rate_trigger, heapq.heappush, self._prune
        keep_low, keep_high = KEEP_CAP
        for family in families:
            first, mid, last, group, mid_leg, exponent = fam[family]
            hop = one[first]
            if hop >= 0:
                a, depth_in = rate[hop], rin[hop] / gamma[hop]
            elif seen[first] == tick:
                a, depth_in = best[first], deep[first]
            else:
                a, depth_in = self._leg_in(first)
            hop = one[last]
            if hop >= 0:
                c, depth_out = rate[hop], rin[hop ^ 1]
            elif seen[last] == tick:
                c, depth_out = best[last], deep[last]
            else:
                c, depth_out = self._leg_out(last)
            m = rate[mid]
            bound = a * m * c
            v = version[family] = version[family] + 1
            limit = limits[group]
            if bound > threshold:
                d = (bound - 1.0) / (sqrt(bound) + 1.0)
                depth = min(depth_out, depth_in)
                active = depth * d * d * HIGH * CLEAR + 1.0 >= limit  # the profit bound may clear gas
                growth = 0.0
            else:
                active, growth = False, threshold / bound if bound > 0.0 else MAX_GROWTH
            if not active:
                ci, co = cap_in[family], cap_out[family]  # the caps in force, or new ones
                if not depth_in * keep_low <= ci <= depth_in * keep_high:
                    ci = DEPTH_SLACK * depth_in
                if not depth_out * keep_low <= co <= depth_out * keep_high:
                    co = DEPTH_SLACK * depth_out
                depth = min(co, ci)
                if bound > 0.0 and depth > 0.0 and limit > 0:
                    s_max = (1.0 + sqrt(PARK_TARGET * limit / (depth * HIGH))) ** 2
                    root = sqrt(s_max) - 1.0
                    profit_max = depth * root * root * HIGH * HIGH
                    # room to park (else active: no entries to push), and (tiny limits) no loop on reopening:
                    if s_max > bound * max(1.0, growth) and not profit_max * CLEAR + 1.0 >= limit:
                        growth = s_max / bound
                        if ci != cap_in[family]:
                            self._set_cap(family, first, ci, FIRST)
                        if co != cap_out[family]:
                            self._set_cap(family, last, co, LAST)
                        heap = parked[group]
                        push(heap, (-profit_max, family, v))
                        if len(heap) > self.parked_room[group]:
                            prune(heap, version)
                if growth <= 1.0:
                    active = True
                else:
                    if bound > 0.0:
                        share = min(growth, MAX_GROWTH) ** exponent * LOW
                        ca, cm, cc = a * share, m * share, c * share
                    else:  # a zero factor: nothing opens until it turns positive
                        ca, cm, cc = (TINY if f == 0.0 else inf for f in (a, m, c))
                    for leg, ceiling in ((first, ca), (last, cc)):
                        heap = rate_heaps[leg]
                        entry = (ceiling, family, v)
                        push(heap, entry)
                        if heap[0] is entry:  # a new lowest ceiling: the leg's hops trigger at it
                            hop = one[leg]
                            if hop < 0:
                                self._lower(leg, ceiling)
                            elif ceiling < trigger[hop]:
                                trigger[hop] = ceiling
                        if len(heap) > room[leg]:
                            prune(heap, version)
                    if mid_leg >= 0:  # a leg of one hop
                        heap = rate_heaps[mid_leg]
                        entry = (cm, family, v)
                        push(heap, entry)
                        if heap[0] is entry and cm < trigger[mid]:
                            trigger[mid] = cm
                        if len(heap) > room[mid_leg]:
                            prune(heap, version)
            if active != flags[family]:
                self._set_active(family, active)
            if active or family in found_by:
                self._screen_members(family, first, mid, last, group, c, limit, active)

    def _leg_in(self, leg: int) -> tuple[float, float]:
        """(best rate, depth) of a first leg of several pools, cached for this scan."""
        ins = self.leg_ins[leg]
        self.leg_seen[leg] = self.tick
        best = self.leg_best[leg] = max(ins(self.rate))
        depth = self.leg_depth[leg] = max(ins(self.rin)) / self.leg_gamma[leg]
        return best, depth

    def _leg_out(self, leg: int) -> tuple[float, float]:
        """(best rate, depth) of a last leg of several pools, cached for this scan."""
        self.leg_seen[leg] = self.tick
        best = self.leg_best[leg] = max(self.leg_ins[leg](self.rate))
        depth = self.leg_depth[leg] = max(self.leg_outs[leg](self.rin))
        return best, depth

    def _lower(self, leg: int, ceiling: float) -> None:
        """``ceiling`` is the new lowest of the leg's rate heap: its hops trigger at it."""
        trigger = self.rate_trigger
        for hop in self.ix.legs[leg]:
            trigger[hop] = min(trigger[hop], ceiling)

    def _set_cap(self, family: int, leg: int, cap: float, kind: int) -> None:
        """A new depth cap for the family's first (kind FIRST) or last leg; the old one goes stale."""
        versions = self.cap_version[kind]
        versions[family] += 1
        self.cap[kind][family] = cap
        heap, entry = self.depth_caps[leg], (cap, family, versions[family])
        heapq.heappush(heap, entry)
        if heap[0] is entry:  # a new lowest cap: the leg's hops trigger at it
            trigger = self.reserve_trigger
            if kind == FIRST:  # depth rin/γ ≥ D implies rin ≥ D·γ·LOW
                bound = cap * self.leg_gamma[leg] * LOW
                for hop in self.ix.legs[leg]:
                    trigger[hop] = min(trigger[hop], bound)
            else:  # depth = rin[hop ^ 1], the reserve it pays out
                for hop in self.ix.legs[leg]:
                    trigger[hop ^ 1] = min(trigger[hop ^ 1], cap)
        if len(heap) > self.leg_room[leg]:
            self._prune(heap, versions)

    def _set_active(self, family: int, active: bool) -> None:
        first, mid, last, _, mid_leg, _ = self.fam[family]
        leg_pools, pool_active = self.leg_pools, self.pool_active
        pools = leg_pools[first] + leg_pools[last] + ((mid >> 1,) if mid_leg >= 0 else ())
        if active:
            for p in pools:
                if p in pool_active:
                    pool_active[p].add(family)
                else:
                    pool_active[p] = {family}
        else:
            for p in pools:
                found = pool_active.get(p)
                if found is not None:
                    found.discard(family)
                    if not found:
                        del pool_active[p]
        self.active[family] = active

    @staticmethod
    def _prune(heap: Heap, versions: list[int]) -> None:
        """Drop stale entries (tops only rise: triggers stay at or below them)."""
        heap[:] = [e for e in heap if e[2] == versions[e[1]]]
        heapq.heapify(heap)

    def _screen_members(
        self, family: int, first: int, mid: int, last: int, group: int, best_last: float, limit: int, active: bool
    ) -> None:
        """Size the members whose estimate may clear gas (unless sized since their pools last
        synced); drop sizings of members that no longer pass; remember the best estimate that
        cannot clear yet, to look again when gas falls below it."""
        before = self.members_found.pop(family, None) or ()
        found: set[int] = set()
        if active:
            ix, rate, threshold, ticks = self.ix, self.rate, self.threshold, self.pool_tick
            rin, gm, book, tick = self.rin, self.gamma, self.book, self.tick
            sized_tick = book.sized_tick
            k, rm, r1, g1, waiting = ix.radix, rate[mid], rin[mid], gm[mid], 0.0
            a1 = g1 * rin[mid ^ 1] if g1 else 1.0  # γ·rOut, 1 for the identity
            legs_last = ix.legs[last]
            for hp in ix.legs[first]:
                head, x = (hp * k + mid) * k, rate[hp] * rm
                if x * best_last <= threshold:
                    continue
                row_tick = max(ticks[hp >> 1], ticks[mid >> 1])
                r0, g0 = rin[hp], gm[hp]
                a0 = g0 * rin[hp ^ 1]
                for hq in legs_last:
                    product = x * rate[hq]
                    if product > threshold and hp >> 1 != hq >> 1:
                        cid = head + hq
                        if cid in sized_tick and sized_tick[cid] >= row_tick and sized_tick[cid] >= ticks[hq >> 1]:
                            found.add(cid)  # sized on these very reserves
                            continue
                        # RateTable.estimate(hp, mid, hq, product), the same arithmetic (full_rescan decides with it)
                        r2 = rin[hq]
                        b12 = r1 * r2
                        c = g0 * b12 + a0 * (g1 * r2 + a1 * gm[hq])  # (a0 = γ0·rOut0 as estimate() has it)
                        d = (product - 1.0) / (sqrt(product) + 1.0)
                        est = r0 * b12 * d * d / c
                        if est * CLEAR + 1.0 >= limit:
                            book.store(cid, (hp, mid, hq), group, tick)
                            found.add(cid)
                        elif est > waiting:
                            waiting = est
            if waiting > 0.0:  # look again when gas lets the best waiting member through
                heap = self.parked[group]
                heapq.heappush(heap, (-waiting, family, self.version[family]))
                if len(heap) > self.parked_room[group]:
                    self._prune(heap, self.version)
        drop = self.book.drop
        for cid in before:
            if cid not in found:
                drop(cid)
        if found:
            self.members_found[family] = found
