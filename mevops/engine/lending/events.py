"""``LendingMarket`` events (Aave V3's Supply/Withdraw/Borrow/Repay/LiquidationCall, plus the oracle's
AssetPriceUpdated and ReserveListed) as dataclasses, decoded from ``eth_getLogs``-shaped logs."""

from __future__ import annotations

import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cache
from typing import Any


@dataclass(frozen=True)
class ReserveListed:
    asset: str
    decimals: int
    ltv: int
    liquidation_threshold: int
    liquidation_bonus: int
    block: int = 0
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class Supplied:
    asset: str
    user: str  # onBehalfOf
    amount: int
    block: int = 0
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class Withdrawn:
    asset: str
    user: str
    amount: int
    block: int = 0
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class Borrowed:
    asset: str
    user: str
    amount: int
    block: int = 0
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class Repaid:
    asset: str
    user: str
    amount: int
    block: int = 0
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class Liquidated:
    collateral_asset: str
    debt_asset: str
    user: str
    debt_covered: int
    collateral_seized: int
    liquidator: str
    block: int = 0
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class PriceUpdated:
    asset: str
    price: int
    block: int = 0
    received_at: float = field(default_factory=time.monotonic, compare=False)


LendingEvent = ReserveListed | Supplied | Withdrawn | Borrowed | Repaid | Liquidated | PriceUpdated

SIGNATURES = {
    "ReserveListed": "ReserveListed(address,uint8,uint256,uint256,uint256)",
    "Supply": "Supply(address,address,address,uint256,uint16)",
    "Withdraw": "Withdraw(address,address,address,uint256)",
    "Borrow": "Borrow(address,address,address,uint256,uint8,uint256,uint16)",
    "Repay": "Repay(address,address,address,uint256,bool)",
    "LiquidationCall": "LiquidationCall(address,address,address,uint256,uint256,address,bool)",
    "AssetPriceUpdated": "AssetPriceUpdated(address,uint256,uint256)",
}


@cache
def topics() -> dict[str, str]:
    """topic0 (lowercase 0x-hex) → event name."""
    from eth_utils import keccak

    return {"0x" + keccak(text=sig).hex(): name for name, sig in SIGNATURES.items()}


def _hex(value: Any) -> str:
    text = value.hex() if isinstance(value, bytes | bytearray) else str(value)
    return (text if text.startswith("0x") else "0x" + text).lower()


def _address(topic: Any) -> str:
    return "0x" + _hex(topic)[-40:]


def _words(data: Any) -> list[int]:
    raw = bytes(data) if isinstance(data, bytes | bytearray) else bytes.fromhex(_hex(data)[2:])
    return [int.from_bytes(raw[i:i + 32], "big") for i in range(0, len(raw), 32)]


def decode_log(log: Mapping[str, Any]) -> LendingEvent | None:
    """The event of one log of the market, or None for a log that is not one of ours."""
    raw_topics = log.get("topics") or []
    if not raw_topics:
        return None
    name = topics().get(_hex(raw_topics[0]))
    if name is None:
        return None
    t = [_address(x) for x in raw_topics[1:]]
    w = _words(log.get("data", b""))
    block = log.get("blockNumber") or 0
    block = int(block, 16) if isinstance(block, str) else int(block)
    if name == "ReserveListed":
        return ReserveListed(t[0], w[0], w[1], w[2], w[3], block)
    if name == "Supply":
        return Supplied(t[0], t[1], w[1], block)
    if name == "Withdraw":
        return Withdrawn(t[0], t[1], w[0], block)
    if name == "Borrow":
        return Borrowed(t[0], t[1], w[1], block)
    if name == "Repay":
        return Repaid(t[0], t[1], w[0], block)
    if name == "LiquidationCall":
        return Liquidated(t[0], t[1], t[2], w[0], w[1], "0x" + f"{w[2]:040x}", block)
    return PriceUpdated(t[0], w[0], block)
