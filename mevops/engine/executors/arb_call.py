"""Calldata for the on-chain ArbExecutor and decoding of its Arbitrage event."""

from __future__ import annotations

from functools import cache

from mevops.engine.types import ArbTrade

# keccak256("Arbitrage(address,uint256,uint256)")
ARBITRAGE_TOPIC = "0x" + "%064x" % 0  # replaced at import below


def _topic() -> str:
    from eth_utils import keccak

    return "0x" + keccak(text="Arbitrage(address,uint256,uint256)").hex()


ARBITRAGE_TOPIC = _topic()


def execute_calldata(trade: ArbTrade) -> bytes:
    """``ArbExecutor.execute(pools, zero_for_one, fees_bps, amount_in, token_in, min_profit)`` calldata.

    Encoded directly (the layout is fixed: six head words, then three arrays of one length):
    eth_abi's generic encoder costs ~10x more on the hot path. Same bytes as
    ``encode_call("ArbExecutor", "execute", ...)`` (tests/unit/test_hot_path_encoding.py)."""
    n = len(trade.hops)
    array = 32 * (1 + n)
    words = [192, 192 + array, 192 + 2 * array, trade.amount_in, _address(trade.token), trade.min_profit,
             n, *(_address(h.pool) for h in trade.hops), n, *(int(h.zero_for_one) for h in trade.hops),
             n, *(h.fee_bps for h in trade.hops)]
    return _execute_selector() + b"".join(w.to_bytes(32, "big") for w in words)


def _address(value: str) -> int:
    if len(value) != 42 or value[:2] not in ("0x", "0X"):
        raise ValueError(f"not a 20-byte hex address: {value!r}")
    return int(value, 16)


@cache
def _execute_selector() -> bytes:
    from mevops.contracts.transactions import _function

    return _function("ArbExecutor", "execute")[0]


def realized_profit(receipt: dict, executor: str) -> int | None:
    """The profit the executor logged in this receipt (None if it logged none)."""
    for entry in receipt.get("logs", []):
        if entry["address"].lower() == executor.lower() and entry["topics"] and entry["topics"][0] == ARBITRAGE_TOPIC:
            data = entry["data"][2:]
            return int(data[64:128], 16)
    return None
