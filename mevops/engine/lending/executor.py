"""Execute ``LiquidationTrade`` actions through a deployed ``FlashLiquidator``: simulate, send, report."""

from __future__ import annotations

from typing import Any

from mevops.contracts.protocol_artifacts import encode_call
from mevops.contracts.transactions import checksum
from mevops.engine.flash.landing import land
from mevops.engine.lending.strategy import LiquidationTrade
from mevops.engine.types import ExecutionResult

# data: debt_covered, collateral_sold, flash_fee, profit
PROFIT_EVENT = ("Liquidated(address,address,uint256,uint256,uint256,uint256)", 3)


def encode_liquidation(trade: LiquidationTrade) -> bytes:
    return encode_call("FlashLiquidator", "liquidate", checksum(trade.market), checksum(trade.collateral_asset),
                       checksum(trade.debt_asset), checksum(trade.user), trade.debt_to_cover,
                       checksum(trade.swap_pool), trade.zero_for_one, trade.fee_bps, trade.min_profit)


class LiquidationTxExecutor:
    def __init__(self, w3: Any, account: Any, liquidator: str, name: str = "liquidation-executor") -> None:
        self.w3, self.account, self.liquidator, self.name = w3, account, checksum(liquidator), name

    async def execute(self, action: LiquidationTrade) -> ExecutionResult:
        if not isinstance(action, LiquidationTrade):
            return ExecutionResult(getattr(action, "id", ""), "refused", reason="not a LiquidationTrade")
        return await land(self.w3, self.account, self.liquidator, encode_liquidation(action), action, PROFIT_EVENT)
