"""Calldata for the on-chain ArbExecutor and decoding of its Arbitrage event."""

from __future__ import annotations

from mevops.engine.types import ArbTrade

# keccak256("Arbitrage(address,uint256,uint256)")
ARBITRAGE_TOPIC = "0x" + "%064x" % 0  # replaced at import below


def _topic() -> str:
    from eth_utils import keccak

    return "0x" + keccak(text="Arbitrage(address,uint256,uint256)").hex()


ARBITRAGE_TOPIC = _topic()


def execute_calldata(trade: ArbTrade) -> bytes:
    from mevops.contracts.transactions import encode_call

    return encode_call("ArbExecutor", "execute", [h.pool for h in trade.hops], [h.zero_for_one for h in trade.hops],
                       [h.fee_bps for h in trade.hops], trade.amount_in, trade.token, trade.min_profit)


def realized_profit(receipt: dict, executor: str) -> int | None:
    """The profit the executor logged in this receipt (None if it logged none)."""
    for entry in receipt.get("logs", []):
        if entry["address"].lower() == executor.lower() and entry["topics"] and entry["topics"][0] == ARBITRAGE_TOPIC:
            data = entry["data"][2:]
            return int(data[64:128], 16)
    return None
