"""Execute ``FlashArbTrade`` actions through a deployed ``FlashArbExecutor``.

eth_call first: a trade that does not simulate is never sent (status ``simulated_fail``). Then one
type-2 transaction from the owner; the result carries gas used and the realized profit decoded
from the contract's ``FlashArbitrage`` event.
"""

from __future__ import annotations

from typing import Any

from mevops.contracts.transactions import checksum
from mevops.engine.flash.calldata import encode_flash_trade
from mevops.engine.flash.landing import land
from mevops.engine.flash.strategy import FlashArbTrade
from mevops.engine.types import ExecutionResult

PROFIT_EVENT = ("FlashArbitrage(address,uint256,uint256,uint256)", 2)  # data: amount_in, fee, profit


class FlashArbTxExecutor:
    def __init__(self, w3: Any, account: Any, executor: str, name: str = "flash-arb-executor") -> None:
        self.w3, self.account, self.executor, self.name = w3, account, checksum(executor), name

    async def execute(self, action: FlashArbTrade) -> ExecutionResult:
        if not isinstance(action, FlashArbTrade):
            return ExecutionResult(getattr(action, "id", ""), "refused", reason="not a FlashArbTrade")
        return await land(self.w3, self.account, self.executor, encode_flash_trade(action), action, PROFIT_EVENT)

    async def send_unchecked(self, action: FlashArbTrade) -> ExecutionResult:
        """Send without simulating (tests: prove the contract itself refuses a bad trade)."""
        return await land(self.w3, self.account, self.executor, encode_flash_trade(action), action, PROFIT_EVENT,
                          simulate=False)
