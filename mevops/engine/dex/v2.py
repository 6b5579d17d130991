"""Uniswap-V2-style constant-product pools: exact integer swap math and reserve state.

All amounts are Python ints in the token's smallest unit. The formulas are Uniswap V2's
``UniswapV2Library.getAmountOut/getAmountIn`` with the fee generalised to basis points
(fee 30 bps: 9970/10000 == 997/1000, so results equal the library's to the wei).
Reserves are kept current from ``Sync(uint112 reserve0, uint112 reserve1)`` logs.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

BPS = 10_000
UINT112_MAX = 2**112 - 1
SYNC_TOPIC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"  # keccak("Sync(uint112,uint112)")


def canonical(name: str) -> str:
    """Hex addresses compare case-insensitively (checksummed vs log casing); symbols as given."""
    if name[:2] not in ("0x", "0X"):
        return name
    lower = name.lower()
    return name if lower == name else lower  # (the same object when already lower case: faster dict hits)


def _check_fee(fee_bps: int) -> None:
    if not 0 <= fee_bps < BPS:
        raise ValueError(f"fee_bps must be in [0, {BPS}), got {fee_bps}")


def get_amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Output of selling ``amount_in`` into the pool, rounded down (Uniswap ``getAmountOut``)."""
    if amount_in <= 0:
        raise ValueError("INSUFFICIENT_INPUT_AMOUNT")
    if reserve_in <= 0 or reserve_out <= 0:
        raise ValueError("INSUFFICIENT_LIQUIDITY")
    _check_fee(fee_bps)
    in_with_fee = amount_in * (BPS - fee_bps)
    return in_with_fee * reserve_out // (reserve_in * BPS + in_with_fee)


def get_amount_in(amount_out: int, reserve_in: int, reserve_out: int, fee_bps: int = 30) -> int:
    """Input needed to buy ``amount_out`` (Uniswap ``getAmountIn``: floor + 1, never too little)."""
    if amount_out <= 0:
        raise ValueError("INSUFFICIENT_OUTPUT_AMOUNT")
    if reserve_in <= 0 or reserve_out <= 0 or amount_out >= reserve_out:
        raise ValueError("INSUFFICIENT_LIQUIDITY")
    _check_fee(fee_bps)
    return reserve_in * amount_out * BPS // ((reserve_out - amount_out) * (BPS - fee_bps)) + 1


def decode_sync_data(data: str | bytes) -> tuple[int, int]:
    """``(reserve0, reserve1)`` from a Sync log's data: two ABI-encoded uint112 words."""
    raw = bytes.fromhex(data[2:] if data[:2] in ("0x", "0X") else data) if isinstance(data, str) else bytes(data)
    if len(raw) != 64:
        raise ValueError(f"Sync data must be 64 bytes, got {len(raw)}")
    r0, r1 = int.from_bytes(raw[:32], "big"), int.from_bytes(raw[32:], "big")
    if r0 > UINT112_MAX or r1 > UINT112_MAX:
        raise ValueError("Sync reserve exceeds uint112")
    return r0, r1


@dataclass(slots=True)
class Pool:
    """One V2 pair. ``reserve0``/``reserve1`` are mutated by :class:`PoolState` on Sync."""

    address: str
    token0: str
    token1: str
    reserve0: int
    reserve1: int
    fee_bps: int = 30
    dex: str = "uniswap-v2"

    def __post_init__(self) -> None:
        self.address, self.token0, self.token1 = canonical(self.address), canonical(self.token0), canonical(self.token1)
        if self.token0 == self.token1:
            raise ValueError(f"pool {self.address}: token0 == token1")
        if self.reserve0 < 0 or self.reserve1 < 0:
            raise ValueError(f"pool {self.address}: negative reserve")
        _check_fee(self.fee_bps)

    def amount_out(self, amount_in: int, zero_for_one: bool) -> int:
        r_in, r_out = (self.reserve0, self.reserve1) if zero_for_one else (self.reserve1, self.reserve0)
        return get_amount_out(amount_in, r_in, r_out, self.fee_bps)

    def amount_in(self, amount_out: int, zero_for_one: bool) -> int:
        r_in, r_out = (self.reserve0, self.reserve1) if zero_for_one else (self.reserve1, self.reserve0)
        return get_amount_in(amount_out, r_in, r_out, self.fee_bps)


class PoolState:
    """Pools by address, with reserves kept current from Sync events."""

    def __init__(self, pools: Iterable[Pool]) -> None:
        self.pools: dict[str, Pool] = {}
        for pool in pools:
            if pool.address in self.pools:
                raise ValueError(f"duplicate pool address {pool.address}")
            self.pools[pool.address] = pool

    def __len__(self) -> int:
        return len(self.pools)

    def __contains__(self, address: str) -> bool:
        return canonical(address) in self.pools

    def __getitem__(self, address: str) -> Pool:
        return self.pools[canonical(address)]

    def on_sync(self, address: str, reserve0: int, reserve1: int) -> Pool | None:
        """Set a pool's reserves; ``None`` (ignored) for a pool we do not track."""
        pool = self.pools.get(canonical(address))
        if pool is None:
            return None
        if not (0 <= reserve0 <= UINT112_MAX and 0 <= reserve1 <= UINT112_MAX):
            raise ValueError(f"pool {pool.address}: Sync reserves out of uint112 range")
        pool.reserve0, pool.reserve1 = reserve0, reserve1
        return pool

    def apply_log(self, log: Mapping[str, Any]) -> Pool | None:
        """Apply an ``eth_getLogs``-shaped log (``address``, ``topics``, ``data``) if it is a Sync."""
        topics = log.get("topics") or []
        topic0 = topics[0].hex() if topics and isinstance(topics[0], bytes | bytearray) else (topics[0] if topics else "")
        if canonical(topic0 if topic0.startswith("0x") else "0x" + topic0) != SYNC_TOPIC:
            return None
        return self.on_sync(log["address"], *decode_sync_data(log["data"]))
