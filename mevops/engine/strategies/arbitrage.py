"""Cyclic DEX arbitrage over Uniswap-V2-style pools.

I/O-free: ``sync_state`` takes the pools' reserves, ``process_event`` applies Syncs and, once a
block is known, asks the incremental scanner for ranked opportunities and turns the best ones
into ``ArbTrade`` actions sized exactly in integers. At most ``max_trades_per_block`` trades per
block, never two on the same cycle in one block; a Sync arriving after its block's header
(logs and heads race) triggers a re-scan of that block.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction

from mevops.engine.chain.fees import eip1559_fees
from mevops.engine.dex.scanner import ArbScanner, Opportunity
from mevops.engine.dex.v2 import Pool
from mevops.engine.types import Action, ArbTrade, Event, Hop, NewBlock, PoolSync


@dataclass
class ArbSettings:
    chain: str
    base_tokens: Sequence[str]
    native_token: str
    tip: int = 1_000_000_000                  # priority fee, wei
    max_gas_price: int | None = None          # cap on max fee per gas (risk limits)
    max_tip: int | None = None
    min_net_profit: int = 1                   # base-token wei after gas
    max_input: dict[str, int] = field(default_factory=dict)
    gas_units_fixed: int = 60_000
    gas_units_per_hop: int = 70_000
    gas_limit_margin: Fraction = Fraction(3, 2)
    max_trades_per_block: int = 1
    price: dict[str, Fraction] = field(default_factory=dict)  # base token wei per ETH wei (non-native bases)


class ArbStrategy:
    def __init__(self, name: str, pools: Sequence[Pool], settings: ArbSettings) -> None:
        self.name = name
        self.settings = settings
        self.pools = {p.address.lower(): p for p in pools}
        self.scanner = ArbScanner(pools, settings.base_tokens, native_token=settings.native_token,
                                  gas_units_fixed=settings.gas_units_fixed, gas_units_per_hop=settings.gas_units_per_hop,
                                  max_input=settings.max_input)
        self.head: NewBlock | None = None
        self.traded: set[tuple[int, int]] = set()   # (block, cycle id)
        self.locked: set[str] = set()                # pools our in-flight trades touch, until the next block
        self.last_opportunities: list[Opportunity] = []
        self.syncs_applied = 0

    # -- state ----------------------------------------------------------------------------------
    def sync_state(self, snapshot: object) -> None:
        """``snapshot``: {"reserves": {pool: (r0, r1)}, "head": NewBlock | None}."""
        assert isinstance(snapshot, dict)
        for address, (r0, r1) in snapshot.get("reserves", {}).items():
            self.scanner.on_sync(address, r0, r1)
        if snapshot.get("head") is not None:
            self.head = snapshot["head"]

    def process_event(self, event: Event) -> Sequence[Action]:
        if isinstance(event, PoolSync):
            if not self.scanner.on_sync(event.pool, event.reserve0, event.reserve1):
                return []
            self.syncs_applied += 1
            if self.head is not None and event.block <= self.head.number:
                return self._trades()  # a late log of a block we already acted on
            return []
        if isinstance(event, NewBlock):
            if self.head is not None and event.number <= self.head.number:
                return []
            self.head = event
            self.locked.clear()  # our trades of the last block are mined (or not): reserves come from Syncs
            self.traded = {key for key in self.traded if key[0] >= event.number - 2}
            return self._trades()
        return []

    # -- decisions --------------------------------------------------------------------------------
    def _price(self, token: str) -> Fraction:
        return self.settings.price.get(token.lower(), Fraction(1))

    def _trades(self) -> list[Action]:
        assert self.head is not None
        s = self.settings
        fees = eip1559_fees(self.head.base_fee, s.tip, s.max_gas_price, s.max_tip)
        # gas is paid at base fee + tip; the scanner prices it the same way
        opportunities = self.scanner.scan(self.head.base_fee, fees.max_priority_fee_per_gas, price=self._price,
                                          min_net_profit=s.min_net_profit)
        self.last_opportunities = opportunities
        actions: list[Action] = []
        for opp in opportunities:
            key = (self.head.number, opp.cycle.id)
            if key in self.traded or self.locked.intersection(opp.cycle.pools):
                continue  # never two in-flight trades through one pool: the second would revert
            actions.append(self._trade(opp, fees.max_fee_per_gas, fees.max_priority_fee_per_gas))
            self.traded.add(key)
            self.locked.update(opp.cycle.pools)
            if len(actions) >= s.max_trades_per_block:
                break
        return actions

    def _trade(self, opp: Opportunity, max_fee: int, tip: int) -> ArbTrade:
        s = self.settings
        cycle = opp.cycle
        hops = tuple(
            Hop(pool, cycle.tokens[i], cycle.tokens[i + 1], cycle.zero_for_one[i], self.pools[pool.lower()].fee_bps)
            for i, pool in enumerate(cycle.pools)
        )
        gas = s.gas_units_fixed + s.gas_units_per_hop * len(hops)
        gas_limit = int(gas * s.gas_limit_margin)
        # the contract reverts unless the cycle returns at least gas + the minimum net profit
        min_profit = opp.gas_cost + s.min_net_profit
        return ArbTrade(
            strategy=self.name, chain=s.chain, token=cycle.base_token, hops=hops, amount_in=opp.amount_in,
            expected_out=opp.amount_out, expected_profit=opp.gross_profit, gas_cost=opp.gas_cost, min_profit=min_profit,
            gas_limit=gas_limit, max_fee_per_gas=max_fee, max_priority_fee_per_gas=tip, block=self.head.number if self.head else 0,
        )
