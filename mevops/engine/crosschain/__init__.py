"""Cross-chain inventory arbitrage (issue 9, part 4).

The same asset pair (e.g. WETH/USDC) trades in V2 pools on several chains. When one chain's
price is far enough from another's, buy the base asset on the cheap chain and sell it on the
expensive one at the same moment, each leg paid from inventory already held on its chain
(nothing is bridged in the trade). The strategy is I/O-free; the executor sends each leg as an
ordinary router swap on its own chain and reports exposure when only one leg filled. Inventory
drift from a target allocation is reported, and a rebalance (bridge) is reported, never executed.
"""

from mevops.engine.crosschain.executor import CrossChainExecutor, CrossChainResult, LegResult
from mevops.engine.crosschain.risk import ChainRisk, chain_risk_from_yaml
from mevops.engine.crosschain.strategy import CrossChainSettings, CrossChainStrategy, Venue
from mevops.engine.crosschain.types import (
    ChainEvent,
    CrossChainArb,
    InventoryReport,
    InventorySnapshot,
    LegFilled,
    RebalanceNeeded,
    SwapLeg,
)

__all__ = ["ChainEvent", "ChainRisk", "CrossChainArb", "CrossChainExecutor", "CrossChainResult", "CrossChainSettings",
           "CrossChainStrategy", "InventoryReport", "InventorySnapshot", "LegFilled", "LegResult", "RebalanceNeeded",
           "SwapLeg", "Venue", "chain_risk_from_yaml"]
