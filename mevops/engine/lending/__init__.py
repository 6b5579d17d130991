"""Liquidations on an Aave-style market: exact health-factor math, positions from events, sizing
within the close factor (optionally flash-borrowing the debt asset), the strategy and its executor.

- ``health``: ``LendingMarket.vy``'s integer math (account data, health factor, liquidation amounts).
- ``events``: the market's logs decoded into dataclasses; ``tracker``: positions from those events.
- ``sizing``: the most profitable debt to cover, selling the seized collateral on a V2 pool.
- ``strategy``: ``LiquidationTrade`` and ``LiquidationStrategy``; ``executor``: ``LiquidationTxExecutor``.
"""

from mevops.engine.lending.events import decode_log
from mevops.engine.lending.health import AccountData, ReserveConfig, account_data, liquidation_amounts
from mevops.engine.lending.sizing import LiquidationSizing, LiquidationTerms, size_liquidation
from mevops.engine.lending.strategy import LiquidationStrategy, LiquidationTrade
from mevops.engine.lending.tracker import PositionTracker

__all__ = ["AccountData", "LiquidationSizing", "LiquidationStrategy", "LiquidationTerms", "LiquidationTrade",
           "PositionTracker", "ReserveConfig", "account_data", "decode_log", "liquidation_amounts", "size_liquidation"]
