"""The flash-loan arbitrage strategy: I/O-free, PoolSync/NewBlock events in, ``FlashArbTrade`` out.

A searcher with no inventory borrows the cycle's input: ``funding="aave"`` from an Aave-V3-style
pool (``flashLoanSimple``, premium in bps), ``"balancer"`` from a Balancer-style vault (``flashLoan``,
fee percentage in 1e18), both fees included in the sizing, or ``"uniswap_v2"`` as a flash swap of
the first pair (no extra fee: the pair's own fee is the first hop's). The trade is sized by
``sizing.size_flash_cycle`` in exact integers and emitted only if its profit after the premium
and the gas cost (priced in the token by ``gas_price_in_token``) reaches ``min_net_profit``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from mevops.engine.dex.curve import optimal_input
from mevops.engine.dex.v2 import Pool, PoolState, canonical
from mevops.engine.flash.sizing import FlashFee, FlashSizing, size_flash_cycle
from mevops.engine.types import Event, Hop, NewBlock, PoolSync

FUNDING = ("aave", "balancer", "uniswap_v2")


@dataclass(frozen=True)
class FlashArbTrade:
    """Borrow ``amount_in`` of ``token``, trade it around ``hops``, repay ``amount_in + flash_fee``,
    keep at least ``min_profit`` (the contract reverts below it)."""

    strategy: str
    chain: str
    token: str
    hops: tuple[Hop, ...]
    funding: str  # "aave" | "balancer" | "uniswap_v2"
    amount_in: int
    flash_fee: int
    expected_out: int
    expected_profit: int  # after the flash fee, before gas
    gas_cost: int  # in token units
    min_profit: int
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    block: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def net_profit(self) -> int:
        return self.expected_profit - self.gas_cost


@dataclass(frozen=True)
class FlashCycle:
    """A cycle starting and ending at ``token`` (hops in trade order)."""

    token: str
    hops: tuple[Hop, ...]


class FlashArbStrategy:
    def __init__(self, pools: Iterable[Pool], cycles: Sequence[FlashCycle], *, name: str = "flash-arb",
                 chain: str = "devnet", funding: str = "aave", premium_bps: int = 5,
                 liquidity: Mapping[str, int] | None = None, min_net_profit: int = 1,
                 gas_limit: int = 600_000, gas_price_in_token: Mapping[str, int] | None = None,
                 priority_fee: int = 10**9, slippage_bps: int = 0, vault_fee_percentage: int = 0) -> None:
        if funding not in FUNDING:
            raise ValueError(f"funding must be one of {', '.join(FUNDING)}, got {funding!r}")
        self.fee = FlashFee.balancer(vault_fee_percentage) if funding == "balancer" else FlashFee.aave(premium_bps)
        self.name, self.chain, self.funding, self.premium_bps = name, chain, funding, premium_bps
        self.state = PoolState(pools)
        self.cycles = list(cycles)
        self.liquidity = {canonical(k): v for k, v in (liquidity or {}).items()}
        self.min_net_profit, self.gas_limit, self.priority_fee = min_net_profit, gas_limit, priority_fee
        self.gas_price_in_token = {canonical(k): v for k, v in (gas_price_in_token or {}).items()}
        self.slippage_bps = slippage_bps
        self.block, self.base_fee = 0, 0
        self.by_pool: dict[str, list[FlashCycle]] = {}
        for cycle in self.cycles:
            for hop in cycle.hops:
                self.by_pool.setdefault(canonical(hop.pool), []).append(cycle)

    def sync_state(self, snapshot: object) -> None:
        """``snapshot``: pool address → (reserve0, reserve1)."""
        if isinstance(snapshot, Mapping):
            for pool, (r0, r1) in snapshot.items():
                self.state.on_sync(pool, r0, r1)

    def process_event(self, event: Event) -> Sequence[FlashArbTrade]:
        if isinstance(event, NewBlock):
            self.block, self.base_fee = event.number, event.base_fee
            return []
        if isinstance(event, PoolSync):
            if self.state.on_sync(event.pool, event.reserve0, event.reserve1) is None:
                return []
            self.block = max(self.block, event.block)
            return self.evaluate(self.by_pool.get(canonical(event.pool), []))
        return []

    def evaluate(self, cycles: Iterable[FlashCycle] | None = None) -> list[FlashArbTrade]:
        """The profitable trades among ``cycles`` (default: all), best net profit first."""
        trades = [t for c in (self.cycles if cycles is None else cycles) if (t := self.trade_for(c)) is not None]
        return sorted(trades, key=lambda t: -t.net_profit)

    def hop_reserves(self, cycle: FlashCycle) -> list[tuple[int, int, int]]:
        out = []
        for hop in cycle.hops:
            pool = self.state[hop.pool]
            r_in, r_out = (pool.reserve0, pool.reserve1) if hop.zero_for_one else (pool.reserve1, pool.reserve0)
            out.append((r_in, r_out, pool.fee_bps))
        return out

    def size(self, cycle: FlashCycle) -> FlashSizing | None:
        hops = self.hop_reserves(cycle)
        if self.funding != "uniswap_v2":
            return size_flash_cycle(hops, self.fee, self.liquidity.get(canonical(cycle.token)))
        first_r_in = hops[0][0]
        sized = optimal_input(hops, max_input=first_r_in)
        if sized is None or sized.profit <= 0:
            return None
        return FlashSizing(sized.amount_in, sized.amount_out, 0, sized.profit)

    def trade_for(self, cycle: FlashCycle) -> FlashArbTrade | None:
        sized = self.size(cycle)
        if sized is None:
            return None
        max_fee = 2 * self.base_fee + self.priority_fee
        gas_cost = self.gas_limit * max_fee * self.gas_price_in_token.get(canonical(cycle.token), 0) // 10**18
        if sized.profit - gas_cost < self.min_net_profit:
            return None
        min_profit = max(1, sized.profit * (10_000 - self.slippage_bps) // 10_000)
        return FlashArbTrade(self.name, self.chain, cycle.token, cycle.hops, self.funding, sized.amount_in,
                             sized.premium, sized.amount_out, sized.profit, gas_cost, min_profit, self.gas_limit,
                             max_fee, self.priority_fee, self.block)
