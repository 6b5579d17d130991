"""Uniswap V3 pool state from logs: Initialize, Mint, Burn and Swap with v3-core's signatures.

``V3PoolTracker.apply(log)`` takes a raw log (``topics`` and ``data`` as hex strings or bytes,
as from eth_getLogs or a receipt) and updates a ``V3Pool``:

- Initialize sets the price and tick;
- Mint/Burn (tickLower, tickUpper indexed; liquidity ``amount`` in data) update the ticks'
  liquidityNet/liquidityGross and, when the current tick is inside the range, the liquidity;
- Swap carries the post-swap sqrtPriceX96, liquidity and tick, which replace slot0.

Replaying a pool's logs from creation therefore reproduces its full state; a tracker started
later needs the ticks from a snapshot (``V3Pool`` with liquidity_net/gross filled in).
"""

from __future__ import annotations

from typing import Any

from mevops.engine.v3.pool import V3Pool


# keccak256 of v3-core's event signatures (tests recompute them)
INITIALIZE_TOPIC = "98636036cb66a9c19a37435efc1e90142190214e8abeb821bdba3f2990dd4c95"  # Initialize(uint160,int24)
MINT_TOPIC = "7a53080ba414158be7ec69b987b5fb7d07dee101fe85488f0853ae16239d0bde"  # Mint(address,address,int24,int24,uint128,uint256,uint256)
BURN_TOPIC = "0c396cd989a39f4459b5fa1aed6a9a8dcdbc45908acfd67e028cd568da98982c"  # Burn(address,int24,int24,uint128,uint256,uint256)
SWAP_TOPIC = "c42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"  # Swap(address,address,int256,int256,uint160,uint128,int24)


def _hex(value: Any) -> str:
    if isinstance(value, (bytes, bytearray)):
        return bytes(value).hex()
    if hasattr(value, "hex") and not isinstance(value, str):
        return value.hex().removeprefix("0x")
    return str(value).removeprefix("0x")


def _words(data: Any) -> list[int]:
    raw = _hex(data)
    return [int(raw[i:i + 64], 16) for i in range(0, len(raw), 64)]


def _signed(word: int) -> int:
    return word - (1 << 256) if word >> 255 else word


class V3PoolTracker:
    """Follows one pool's logs (``address`` filters others out when given)."""

    def __init__(self, pool: V3Pool, address: str | None = None) -> None:
        self.pool = pool
        self.address = address.lower() if address else None
        self.swaps = 0

    def apply(self, log: dict[str, Any]) -> str | None:
        """Apply one log; returns the event name it was, or None if it was not one of ours."""
        if self.address and str(log.get("address", "")).lower() != self.address:
            return None
        topics = [_hex(t) for t in log["topics"]]
        if not topics:
            return None
        kind, pool = topics[0], self.pool
        if kind == SWAP_TOPIC:
            _, _, sqrt_price, liquidity, tick = _words(log["data"])
            pool.sqrt_price_x96, pool.liquidity, pool.tick = sqrt_price, liquidity, _signed(tick)
            self.swaps += 1
            return "Swap"
        if kind == MINT_TOPIC:
            lower, upper = _signed(int(topics[2], 16)), _signed(int(topics[3], 16))
            amount = _words(log["data"])[1]  # (sender, amount, amount0, amount1)
            pool.modify_position(lower, upper, amount)
            return "Mint"
        if kind == BURN_TOPIC:
            lower, upper = _signed(int(topics[2], 16)), _signed(int(topics[3], 16))
            amount = _words(log["data"])[0]  # (amount, amount0, amount1)
            pool.modify_position(lower, upper, -amount)
            return "Burn"
        if kind == INITIALIZE_TOPIC:
            sqrt_price, _ = _words(log["data"])
            pool.initialize(sqrt_price)
            return "Initialize"
        return None

    def apply_all(self, logs: list[dict[str, Any]]) -> int:
        return sum(self.apply(log) is not None for log in logs)
