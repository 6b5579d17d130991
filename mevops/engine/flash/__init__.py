"""Flash-loan funded arbitrage: sizing with the loan fee, the I/O-free strategy, calldata, the executor.

- ``sizing``: closed-form optimum of a V2 cycle net of the lender's fee (Aave, Balancer), in integers.
- ``strategy``: ``FlashArbTrade`` (the action) and ``FlashArbStrategy`` (PoolSync → trades).
- ``calldata``: ``FlashArbExecutor.flash_arb`` / ``flash_swap_arb`` calldata for a trade.
- ``executor``: ``FlashArbTxExecutor`` simulates, sends and reports realized profit.
"""

from mevops.engine.flash.calldata import encode_flash_trade
from mevops.engine.flash.sizing import FlashFee, FlashSizing, flash_premium, flash_profit, size_flash_cycle
from mevops.engine.flash.strategy import FlashArbStrategy, FlashArbTrade, FlashCycle

__all__ = ["FlashArbStrategy", "FlashArbTrade", "FlashCycle", "FlashFee", "FlashSizing", "encode_flash_trade", "flash_premium",
           "flash_profit", "size_flash_cycle"]
