"""The cycle index: every 2- and 3-hop arbitrage cycle through the base tokens, and pool → cycles.

A cycle starts and ends at a base token and never revisits a token:

- 2 hops: base → T over pool p, T → base over a *different* pool q (same pair, other DEX/fee);
- 3 hops: base → T1 → T2 → base over pools (p, m, q), T1 ≠ T2, both ≠ base; the middle pool m
  joins two tokens that are each paired with the base (the standard triangle).

Both directions of a loop are kept (different trades), and a loop is listed once per base token
it starts from (profit is counted in that token). Nothing is generated twice: each (base, pair)
and each (base, middle pool, direction) is visited once.

Cycles are grouped in *families* that differ only in which pool serves each outer leg:
``first`` leg (base → T1: every pool of that pair), a fixed ``mid`` hop, ``last`` leg (T2 → base).
A 2-hop family is (base → T, identity, T → base) without p = q. Screens bound a whole family by
the legs' best rates, and a Sync marks families, not cycles (see ``scanner``).

Hops are integer keys ``2·pool_index + (0 if zero_for_one else 1)``; ``identity_hop`` has rate 1 and
the identity curve. A cycle's id is ``(first·K + mid)·K + last`` with K = identity_hop + 1.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass

from mevops.engine.dex.v2 import Pool, canonical


@dataclass(frozen=True, slots=True)
class Cycle:
    id: int
    base_token: str
    pools: tuple[str, ...]  # pool addresses, in trade order
    zero_for_one: tuple[bool, ...]  # per hop: token0 in, token1 out
    tokens: tuple[str, ...]  # hops + 1 tokens, first and last the base token

    @property
    def hops(self) -> int:
        return len(self.pools)


class CycleIndex:
    def __init__(self, pools: Sequence[Pool], base_tokens: Iterable[str], *, max_pools_per_pair: int | None = None) -> None:
        if max_pools_per_pair is not None and max_pools_per_pair < 1:
            raise ValueError("max_pools_per_pair must be at least 1")
        self.pools = list(pools)
        self.base_tokens = list(dict.fromkeys(canonical(t) for t in base_tokens))
        self.pool_ids = {p.address: i for i, p in enumerate(self.pools)}
        self.identity_hop = 2 * len(self.pools)
        self.radix = self.identity_hop + 1
        self.legs: list[list[int]] = []  # leg id -> hop keys
        self.leg_families: list[list[int]] = []
        self.leg_out: list[bool] = []  # leg id -> True: base -> token (a first leg); False: token -> base
        self.pool_legs: list[list[tuple[int, int]]] = [[] for _ in self.pools]  # pool -> (leg id, its hop key)
        self.first: list[int] = []  # family id -> leg id
        self.mid: list[int] = []  # family id -> hop key
        self.mid_leg: list[int] = []  # family id -> leg id of its middle hop alone (-1: 2-hop family)
        self._single_legs: dict[int, int] = {}  # middle hop -> leg of that one hop
        self.last: list[int] = []  # family id -> leg id
        self.group: list[int] = []  # family id -> 2·base_index + (hops − 2): shares gas cost and cap
        self.cycle_count = 0
        self.fanout_capped = 0  # pools left out of 3-hop legs by max_pools_per_pair
        self._cycles: dict[int, Cycle] = {}
        for b, base in enumerate(self.base_tokens):
            self._add_base(b, base, max_pools_per_pair)

    def __len__(self) -> int:
        return self.cycle_count

    @property
    def family_count(self) -> int:
        return len(self.group)

    def hop_key(self, pool_index: int, token_in: str) -> int:
        return 2 * pool_index + (0 if self.pools[pool_index].token0 == token_in else 1)

    def members(self, family: int) -> Iterator[int]:
        """Cycle ids of a family."""
        k, mid = self.radix, self.mid[family]
        for hp in self.legs[self.first[family]]:
            head = (hp * k + mid) * k
            for hq in self.legs[self.last[family]]:
                if hp >> 1 != hq >> 1:
                    yield head + hq

    def all_cycles(self) -> Iterator[int]:
        for family in range(self.family_count):
            yield from self.members(family)

    def families_of(self, address: str) -> list[int]:
        """Families with a cycle through the pool (as a leg or as the middle hop)."""
        i = self.pool_ids[canonical(address)]
        found: set[int] = set()
        for leg, _ in self.pool_legs[i]:
            found.update(self.leg_families[leg])
        return sorted(found)

    def cycles_of(self, address: str) -> list[int]:
        """Ids of every cycle trading through the pool, in either direction."""
        i = self.pool_ids[canonical(address)]
        return sorted(cid for f in self.families_of(address) for cid in self.members(f) if i in self.pools_of(cid))

    def hops_of(self, cid: int) -> tuple[int, ...]:
        k = self.radix
        head, last = divmod(cid, k)
        first, mid = divmod(head, k)
        return (first, last) if mid == self.identity_hop else (first, mid, last)

    def pools_of(self, cid: int) -> tuple[int, ...]:
        return tuple(h >> 1 for h in self.hops_of(cid))

    def cycle(self, cid: int) -> Cycle:
        found = self._cycles.get(cid)
        if found is None:
            keys = self.hops_of(cid)
            first = self.pools[keys[0] >> 1]
            base = first.token0 if keys[0] & 1 == 0 else first.token1
            tokens = [base]
            for key in keys:
                pool = self.pools[key >> 1]
                tokens.append(pool.token1 if key & 1 == 0 else pool.token0)
            pools = tuple(self.pools[k >> 1].address for k in keys)
            if len(self._cycles) >= 100_000:  # a cache of reported cycles, not of all of them
                self._cycles.clear()
            found = self._cycles[cid] = Cycle(cid, base, pools, tuple(k & 1 == 0 for k in keys), tuple(tokens))
        return found

    # -- construction --------------------------------------------------------------------------

    def _add_base(self, b: int, base: str, cap: int | None) -> None:
        partners: dict[str, list[int]] = {}
        for i, pool in enumerate(self.pools):
            if base in (pool.token0, pool.token1):
                partners.setdefault(pool.token1 if pool.token0 == base else pool.token0, []).append(i)
        out_legs: dict[str, int] = {}
        in_legs: dict[str, int] = {}
        for token, ids in partners.items():
            out_legs[token], in_legs[token] = self._leg(base, ids, True), self._leg(token, ids, False)
            if len(ids) >= 2:
                self._add_family(2 * b, out_legs[token], self.identity_hop, in_legs[token])
            if cap is not None and len(ids) > cap:  # 3-hop legs keep the deepest pools only
                kept = sorted(ids, key=lambda i: -self._reserve_of(i, base))[:cap]
                self.fanout_capped += len(ids) - cap
                out_legs[token], in_legs[token] = self._leg(base, kept, True), self._leg(token, kept, False)
        for m, middle in enumerate(self.pools):
            t0, t1 = middle.token0, middle.token1
            if t0 in out_legs and t1 in out_legs:  # both paired with the base (never the base itself)
                self._add_family(2 * b + 1, out_legs[t0], 2 * m, in_legs[t1])
                self._add_family(2 * b + 1, out_legs[t1], 2 * m + 1, in_legs[t0])

    def _single_leg(self, hop: int) -> int:
        leg = self._single_legs.get(hop, -1)
        if leg < 0:
            leg = self._single_legs[hop] = self._leg_of_hops([hop], False)
        return leg

    def _leg(self, token_in: str, ids: list[int], out: bool) -> int:
        return self._leg_of_hops([self.hop_key(i, token_in) for i in ids], out)

    def _leg_of_hops(self, hops: list[int], out: bool) -> int:
        leg = len(self.legs)
        self.legs.append(hops)
        self.leg_families.append([])
        self.leg_out.append(out)
        for key in hops:
            self.pool_legs[key >> 1].append((leg, key))
        return leg

    def _add_family(self, group: int, first: int, mid: int, last: int) -> None:
        family = len(self.group)
        self.group.append(group)
        self.first.append(first)
        self.mid.append(mid)
        self.last.append(last)
        self.leg_families[first].append(family)
        self.leg_families[last].append(family)
        mid_leg = -1
        if mid != self.identity_hop:
            mid_leg = self._single_leg(mid)
            self.leg_families[mid_leg].append(family)
        self.mid_leg.append(mid_leg)
        n_first, n_last = len(self.legs[first]), len(self.legs[last])
        self.cycle_count += n_first * n_last - (min(n_first, n_last) if mid == self.identity_hop else 0)

    def _reserve_of(self, i: int, token: str) -> int:
        pool = self.pools[i]
        return pool.reserve0 if pool.token0 == token else pool.reserve1
