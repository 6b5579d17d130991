"""EIP-1559 fees: max fee = 2 x base fee + tip, both capped by the risk limits."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Fees:
    max_fee_per_gas: int
    max_priority_fee_per_gas: int

    def cost(self, gas: int, base_fee: int) -> int:
        """What ``gas`` units really cost at ``base_fee`` (EIP-1559: base fee + the tip, capped by max fee)."""
        return gas * min(self.max_fee_per_gas, base_fee + self.max_priority_fee_per_gas)


def eip1559_fees(base_fee: int, tip: int, max_gas_price: int | None = None, max_tip: int | None = None) -> Fees:
    if max_tip is not None:
        tip = min(tip, max_tip)
    max_fee = 2 * base_fee + tip
    if max_gas_price is not None:
        max_fee = min(max_fee, max_gas_price)
        tip = min(tip, max_fee)
    return Fees(max_fee, tip)
