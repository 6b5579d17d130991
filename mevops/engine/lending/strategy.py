"""The liquidation strategy: I/O-free. Lending events (and pool Syncs) in, ``LiquidationTrade`` out.

After every event it re-checks the users the event touched (a price update: everyone holding or
owing the asset). For a user with health factor < 1 it sizes, per (collateral, debt) pair with a
V2 pool to sell the collateral on, the liquidation within the close factor, including the
flash-loan premium when ``premium_bps`` is set (the debt asset is flash-borrowed), and emits the
best trade whose profit in the debt asset, after gas, reaches ``min_net_profit``.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field

from mevops.engine.dex.v2 import Pool, PoolState, canonical
from mevops.engine.lending.events import Liquidated, PriceUpdated
from mevops.engine.lending.sizing import LiquidationTerms, size_liquidation
from mevops.engine.lending.tracker import PositionTracker
from mevops.engine.types import NewBlock, PoolSync


@dataclass(frozen=True)
class LiquidationTrade:
    strategy: str
    chain: str
    market: str
    user: str
    collateral_asset: str
    debt_asset: str
    debt_to_cover: int
    expected_seized: int
    swap_pool: str
    zero_for_one: bool  # collateral is the pool's token0
    fee_bps: int
    expected_out: int
    flash_fee: int
    expected_profit: int  # in the debt asset, after the flash fee, before gas
    gas_cost: int
    min_profit: int
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    block: int
    health_factor: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def net_profit(self) -> int:
        return self.expected_profit - self.gas_cost


class LiquidationStrategy:
    def __init__(self, market: str, tracker: PositionTracker, pools: Iterable[Pool], *, name: str = "liquidations",
                 chain: str = "devnet", premium_bps: int = 5, min_net_profit: int = 1, gas_limit: int = 700_000,
                 gas_price_in_token: Mapping[str, int] | None = None, priority_fee: int = 10**9) -> None:
        self.name, self.chain, self.market, self.tracker = name, chain, market, tracker
        self.state = PoolState(pools)
        self.premium_bps, self.min_net_profit, self.gas_limit = premium_bps, min_net_profit, gas_limit
        self.gas_price_in_token = {canonical(k): v for k, v in (gas_price_in_token or {}).items()}
        self.priority_fee = priority_fee
        self.block, self.base_fee = 0, 0
        # users a trade was emitted for: not re-emitted until their Liquidated event or a new price
        self.pending: set[str] = set()

    def sync_state(self, snapshot: object) -> None:
        """``snapshot``: an iterable of lending events to replay (e.g. decoded history)."""
        if isinstance(snapshot, Iterable):
            for event in snapshot:
                self.tracker.apply(event)

    def process_event(self, event: object) -> Sequence[LiquidationTrade]:
        if isinstance(event, NewBlock):
            self.block, self.base_fee = event.number, event.base_fee
            return []
        if isinstance(event, PoolSync):
            self.state.on_sync(event.pool, event.reserve0, event.reserve1)
            return []
        touched = self.tracker.apply(event)  # type: ignore[arg-type]
        if isinstance(event, PriceUpdated | Liquidated):
            self.pending -= touched
            self.block = max(self.block, event.block)
        trades = self.evaluate(touched)
        self.pending |= {t.user for t in trades}
        return trades

    def evaluate(self, users: Iterable[str] | None = None) -> list[LiquidationTrade]:
        trades = []
        for user in self.tracker.liquidatable(users):
            if user in self.pending:
                continue
            best = max((t for t in self.trades_for(user)), key=lambda t: t.net_profit, default=None)
            if best is not None:
                trades.append(best)
        return sorted(trades, key=lambda t: -t.net_profit)

    def _pool_for(self, collateral: str, debt: str) -> Pool | None:
        pools = [p for p in self.state.pools.values() if {p.token0, p.token1} == {collateral, debt}]
        return max(pools, key=lambda p: p.reserve0 * p.reserve1, default=None)

    def trades_for(self, user: str) -> list[LiquidationTrade]:
        tracker, position = self.tracker, self.tracker.position(user)
        hf = tracker.account(user).health_factor
        out = []
        for debt, owed in position.debt.items():
            for coll, held in position.collateral.items():
                if owed <= 0 or held <= 0 or (pool := self._pool_for(coll, debt)) is None:
                    continue
                zero_for_one = pool.token0 == coll
                r_coll, r_debt = (pool.reserve0, pool.reserve1) if zero_for_one else (pool.reserve1, pool.reserve0)
                cd, dd = tracker.configs[coll], tracker.configs[debt]
                terms = LiquidationTerms(owed, held, tracker.prices[debt], tracker.prices[coll], dd.decimals,
                                         cd.decimals, cd.liquidation_bonus, r_coll, r_debt, pool.fee_bps, self.premium_bps)
                sized = size_liquidation(terms)
                if sized is None:
                    continue
                max_fee = 2 * self.base_fee + self.priority_fee
                gas_cost = self.gas_limit * max_fee * self.gas_price_in_token.get(debt, 0) // 10**18
                if sized.profit - gas_cost < self.min_net_profit:
                    continue
                out.append(LiquidationTrade(
                    self.name, self.chain, self.market, user, coll, debt, sized.debt_to_cover, sized.collateral_seized,
                    pool.address, zero_for_one, pool.fee_bps, sized.swap_out, sized.flash_fee, sized.profit, gas_cost,
                    max(1, sized.profit), self.gas_limit, max_fee, self.priority_fee, self.block, hf))
        return out

