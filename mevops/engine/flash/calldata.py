"""Calldata for ``FlashArbExecutor`` from a ``FlashArbTrade``."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mevops.contracts.protocol_artifacts import encode_call
from mevops.contracts.transactions import checksum

if TYPE_CHECKING:
    from mevops.engine.flash.strategy import FlashArbTrade


def encode_flash_trade(trade: FlashArbTrade) -> bytes:
    """``flash_arb`` (Aave-style pool), ``flash_vault_arb`` (Balancer-style vault) or ``flash_swap_arb``
    (Uniswap V2 flash swap) calldata."""
    pools = [checksum(h.pool) for h in trade.hops]
    zero_for_one = [h.zero_for_one for h in trade.hops]
    fees = [h.fee_bps for h in trade.hops]
    if trade.funding in ("aave", "balancer"):
        fn = "flash_arb" if trade.funding == "aave" else "flash_vault_arb"
        return encode_call("FlashArbExecutor", fn, checksum(trade.token), trade.amount_in, pools, zero_for_one, fees,
                           trade.min_profit)
    if trade.funding == "uniswap_v2":
        return encode_call("FlashArbExecutor", "flash_swap_arb", trade.amount_in, pools, zero_for_one, fees,
                           trade.min_profit)
    raise ValueError(f"unknown funding {trade.funding!r}")
