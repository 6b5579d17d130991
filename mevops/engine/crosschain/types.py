"""Events and actions of cross-chain inventory arbitrage. Amounts are integers (smallest units)."""

from __future__ import annotations

import time
import uuid
from dataclasses import dataclass, field

from mevops.engine.types import NewBlock, PoolSync


# -- events ----------------------------------------------------------------------------------------
@dataclass(frozen=True)
class ChainEvent:
    """An engine event (a pool's Sync, a new block) tagged with the chain it happened on."""

    chain: str
    event: PoolSync | NewBlock
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class InventorySnapshot:
    """The searcher's balance of ``asset`` (a symbol, e.g. "WETH") on ``chain``, read from the chain."""

    chain: str
    asset: str
    balance: int
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class LegFilled:
    """A leg landed (``ok``) or not: fed back from the executor's result so inventory follows fills."""

    trade_id: str
    chain: str
    asset_in: str
    amount_in: int
    asset_out: str
    amount_out: int
    ok: bool = True
    received_at: float = field(default_factory=time.monotonic, compare=False)


CrossChainEvent = ChainEvent | InventorySnapshot | LegFilled


# -- actions ---------------------------------------------------------------------------------------
@dataclass(frozen=True)
class SwapLeg:
    """``router.swapExactTokensForTokens(amount_in, min_out, [token_in, token_out], searcher, deadline)``."""

    chain: str
    router: str
    pool: str
    asset_in: str
    asset_out: str
    token_in: str
    token_out: str
    amount_in: int
    expected_out: int
    min_out: int
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int


@dataclass(frozen=True)
class CrossChainArb:
    """Buy the base asset on ``buy.chain`` and sell the same amount on ``sell.chain``.

    ``expected_profit`` is the exact quote-asset gain of both legs together (the base asset nets
    to zero across chains); ``gas_cost`` is both legs' estimated gas in quote units."""

    strategy: str
    buy: SwapLeg
    sell: SwapLeg
    expected_profit: int
    gas_cost: int
    blocks: tuple[tuple[str, int], ...]
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def legs(self) -> tuple[SwapLeg, SwapLeg]:
        return (self.buy, self.sell)

    @property
    def net_profit(self) -> int:
        return self.expected_profit - self.gas_cost


@dataclass(frozen=True)
class InventoryReport:
    """Inventory per chain and asset, its total value in quote units at the reference price, and
    each (asset, chain)'s drift from its target share in basis points (actual − target)."""

    strategy: str
    inventory: tuple[tuple[str, str, int], ...]          # (chain, asset, balance)
    value: int
    drift_bps: tuple[tuple[str, str, int], ...]          # (asset, chain, drift)
    max_drift_bps: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


@dataclass(frozen=True)
class RebalanceNeeded:
    """Move ``amount`` of ``asset`` from ``from_chain`` to ``to_chain`` (a bridge: reported, not executed)."""

    strategy: str
    asset: str
    from_chain: str
    to_chain: str
    amount: int
    drift_bps: int
    threshold_bps: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex)


CrossChainAction = CrossChainArb | InventoryReport | RebalanceNeeded
