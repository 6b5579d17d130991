"""Arbitrage scanner over V2 pools: Sync in, ranked opportunities with exact integer sizing out.

``ArbScanner.scan`` is incremental: a Sync only stores the pool's reserves; the scan then updates
the float rates of the pools synced since the last scan and re-screens only the cycle families
they can affect (:class:`~mevops.engine.dex.families.FamilyScreen`); results of untouched cycles
are kept, so the ranked list is always complete. ``full_rescan`` is the naive baseline: rates from
reserves, then the same screens and sizing applied to every cycle, no state. Both return the same
list.

Money is integers: gross profit from exact ``get_amount_out`` chains, gas = gas units × (base fee +
priority fee) in wei, converted to the base token with an exact ``Fraction`` (1:1 for the native
token) and rounded up. Floats only discard cycles (see :mod:`screen`).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from fractions import Fraction

from mevops.engine.dex.curve import Sizing, size_hops
from mevops.engine.dex.cycles import Cycle, CycleIndex
from mevops.engine.dex.families import FamilyScreen
from mevops.engine.dex.screen import RateTable, may_clear
from mevops.engine.dex.v2 import BPS, UINT112_MAX, Pool, PoolState, canonical

PriceFn = Callable[[str], Fraction]  # base token -> base-token wei per 1 wei of ETH


@dataclass(frozen=True, slots=True)
class Opportunity:
    cycle: Cycle
    amount_in: int
    amount_out: int
    gross_profit: int  # amount_out - amount_in, in base-token wei
    gas_cost: int  # in base-token wei, rounded up
    net_profit: int
    optimality_gap: int  # proven: no integer input earns more than gross_profit + gap (0: optimal)

    @property
    def base_token(self) -> str:
        return self.cycle.base_token


class ArbScanner:
    """Cycles through ``base_tokens`` over ``pools`` (copied: the scanner owns its reserves).

    Feed every Sync through :meth:`on_sync`; ``state`` is there to read reserves, and writing to
    it directly would bypass the screens. ``max_input`` caps the input per base token (a position
    limit, in that token's wei); ``max_pools_per_pair`` caps 3-hop legs to the deepest pools of
    each (base, token) pair; ``screen_epsilon`` is ε in the rate screen (see :mod:`screen`).
    """

    def __init__(
        self,
        pools: Iterable[Pool],
        base_tokens: Iterable[str],
        *,
        gas_units_per_hop: int = 60_000,
        gas_units_fixed: int = 40_000,
        native_token: str | None = None,
        max_input: Mapping[str, int] | None = None,
        max_pools_per_pair: int | None = None,
        screen_epsilon: float = 1e-6,
        bound_pruning: bool = True,
        exhaustive_limit: int = 64,
    ) -> None:
        copies = [Pool(p.address, p.token0, p.token1, p.reserve0, p.reserve1, p.fee_bps, p.dex) for p in pools]
        self.state = PoolState(copies)
        self.index = ix = CycleIndex(copies, base_tokens, max_pools_per_pair=max_pools_per_pair)
        self.gas_units_per_hop, self.gas_units_fixed = gas_units_per_hop, gas_units_fixed
        self.native_token = canonical(native_token) if native_token else None
        caps = {canonical(k): v for k, v in (max_input or {}).items()}
        self._caps = [caps.get(ix.base_tokens[g // 2]) for g in range(2 * len(ix.base_tokens))]
        self.threshold = 1.0 + screen_epsilon
        self.exhaustive_limit = exhaustive_limit
        self._pools = copies
        self._g = [BPS - p.fee_bps for p in copies]
        self._rates = RateTable(copies)
        self.screen = FamilyScreen(ix, self._rates, self.threshold, self._size, pruning=bound_pruning)
        self._synced, self._ids = self.screen.synced, ix.pool_ids

    def on_sync(self, address: str, reserve0: int, reserve1: int) -> bool:
        """Apply a Sync (new reserves of one pool, readable at once in ``state``; the screens catch
        up at the next :meth:`scan`); False for a pool we do not track."""
        ids = self._ids
        i = ids.get(address)
        if i is None:
            i = ids.get(canonical(address))
            if i is None:
                return False
        if not (0 <= reserve0 <= UINT112_MAX and 0 <= reserve1 <= UINT112_MAX):
            raise ValueError(f"pool {address}: Sync reserves out of uint112 range")
        pool = self._pools[i]  # the same object PoolState holds
        pool.reserve0, pool.reserve1 = reserve0, reserve1
        self._synced.append(i)  # rates and marks follow at the next scan (see FamilyScreen.apply_syncs)
        return True

    def cycles_for_pool(self, address: str) -> list[Cycle]:
        return [self.index.cycle(cid) for cid in self.index.cycles_of(address)]

    def scan(
        self, base_fee: int, priority_fee: int, *, price: PriceFn | None = None, min_net_profit: int = 1
    ) -> list[Opportunity]:
        """Every opportunity netting ≥ ``min_net_profit`` after gas, best first; re-screens only
        what Syncs since the last scan (or a lower gas price) can have changed."""
        costs = self.gas_costs(base_fee, priority_fee, price)
        self.screen.rescreen([cost + min_net_profit for cost in costs])
        return self._ranked(((cid, s, group) for cid, (s, group) in self.screen.book.gains.items()), costs, min_net_profit)

    def full_rescan(
        self, base_fee: int, priority_fee: int, *, price: PriceFn | None = None, min_net_profit: int = 1
    ) -> list[Opportunity]:
        """Naive baseline: rates from reserves, then screen and size every cycle; keeps no state."""
        costs = self.gas_costs(base_fee, priority_fee, price)
        limits = [cost + min_net_profit for cost in costs]
        rates = RateTable(self._pools)
        ix, rate, threshold, k, gains = self.index, rates.rate, self.threshold, self.index.radix, []
        for first, mid, last, group in zip(ix.first, ix.mid, ix.last, ix.group):
            rm, limit = rate[mid], limits[group]
            for hp in ix.legs[first]:
                for hq in ix.legs[last]:
                    product = rate[hp] * rm * rate[hq]
                    if hp >> 1 != hq >> 1 and product > threshold and may_clear(rates.estimate(hp, mid, hq, product), limit):
                        sizing = self._size(hp, mid, hq, group)
                        if sizing is not None and sizing.profit > 0:
                            gains.append(((hp * k + mid) * k + hq, sizing, group))
        return self._ranked(gains, costs, min_net_profit)

    def gas_costs(self, base_fee: int, priority_fee: int, price: PriceFn | None = None) -> list[int]:
        """Gas per (base, hops) group — index 2·base_index + hops − 2 — in base-token wei, rounded up."""
        per_gas = base_fee + priority_fee
        costs = []
        for base in self.index.base_tokens:  # price() once per base token
            rate = None
            if base != self.native_token:
                if price is None:
                    raise ValueError(f"base token {base} is not the native token: scan() needs price= to convert gas")
                rate = Fraction(price(base))
            for hops in (2, 3):
                wei = (self.gas_units_fixed + self.gas_units_per_hop * hops) * per_gas
                costs.append(wei if rate is None else -((-wei * rate.numerator) // rate.denominator))
        return costs

    def _size(self, hp: int, mid: int, hq: int, group: int) -> Sizing | None:
        pools, g, hops = self._pools, self._g, []
        for key in (hp, mid, hq):
            if key != self.index.identity_hop:
                pool = pools[key >> 1]
                r_in, r_out = (pool.reserve1, pool.reserve0) if key & 1 else (pool.reserve0, pool.reserve1)
                hops.append((r_in, r_out, g[key >> 1]))
        return size_hops(hops, self._caps[group], self.exhaustive_limit)

    def _ranked(self, gains: Iterable[tuple[int, Sizing, int]], costs: list[int], min_net_profit: int) -> list[Opportunity]:
        found = []
        for cid, s, group in gains:
            net = s.profit - costs[group]
            if net >= min_net_profit:
                found.append(Opportunity(self.index.cycle(cid), s.amount_in, s.amount_out, s.profit, costs[group], net, s.gap))
        found.sort(key=lambda o: (-o.net_profit, o.cycle.id))
        return found
