"""Size a flash-loan funded V2 cycle: the loan premium is part of the objective, not an afterthought.

Borrowing x costs fee(x) = x·n/d rounded as the lender does: Aave V3's premium (n/d = p/10000, half
up) or Balancer's (n/d = pct/1e18, up). The cycle pays a·x/(b + c·x) (``mevops.engine.dex.curve``), so
the real profit is

    P(x) = a·x/(b + c·x) − x·(d + n)/d,   P'(x) = 0  at  x* = (√(a·b·d/(d + n)) − b)/c

positive only when a·d > b·(d + n). x* is computed with ``math.isqrt``; the exact integer
profit (every hop floored as on chain, the premium rounded as on chain) is then maximised over a
small window around x* — and over the first input of each step of the first hop's floored output
near x* (a coarse intermediate token makes the integer profit a staircase whose maximum sits at
a step's start) — and never reported from the real-valued curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import isqrt

from mevops.engine.dex.curve import cycle_curve, simulate
from mevops.engine.dex.v2 import BPS, get_amount_in, get_amount_out

HopReserves = tuple[int, int, int]  # (reserve_in, reserve_out, fee_bps), as mevops.engine.dex.curve


@dataclass(frozen=True, slots=True)
class FlashFee:
    """fee(x) = x·numerator/denominator, rounded ``half_up`` (Aave percentMul) or ``up`` (Balancer mulUp)."""

    numerator: int
    denominator: int
    rounding: str = "half_up"

    @classmethod
    def aave(cls, premium_bps: int) -> FlashFee:
        if not 0 <= premium_bps < BPS:
            raise ValueError(f"premium_bps must be in [0, {BPS}), got {premium_bps}")
        return cls(premium_bps, BPS, "half_up")

    @classmethod
    def balancer(cls, fee_percentage: int) -> FlashFee:
        """``fee_percentage``: 1e18 = 100% (Balancer's flashLoanFeePercentage)."""
        return cls(fee_percentage, 10**18, "up")

    def __call__(self, amount: int) -> int:
        if self.rounding == "up":
            return -(-amount * self.numerator // self.denominator)
        return (amount * self.numerator + self.denominator // 2) // self.denominator


@dataclass(frozen=True, slots=True)
class FlashSizing:
    amount_in: int  # borrowed
    amount_out: int  # what the cycle returns
    premium: int  # paid to the flash-loan pool
    profit: int  # amount_out - amount_in - premium, exact, before gas


def flash_premium(amount: int, premium_bps: int) -> int:
    """The pool's premium on ``amount`` (FlashLoanPool / Aave V3 percentMul: half up)."""
    return FlashFee.aave(premium_bps)(amount)


def _fee(fee: int | FlashFee) -> FlashFee:
    return fee if isinstance(fee, FlashFee) else FlashFee.aave(fee)


def flash_profit(amount: int, hops: Sequence[HopReserves], fee: int | FlashFee) -> int:
    """Exact integer profit of borrowing ``amount`` and trading it around ``hops`` (``fee``: Aave
    premium bps or a ``FlashFee``)."""
    return simulate(amount, hops) - amount - _fee(fee)(amount)


def optimum_estimate(hops: Sequence[HopReserves], fee: int | FlashFee) -> int:
    """⌊x*⌋ of the real-valued curve net of the fee; 0 when no input can profit."""
    a, b, c = cycle_curve(hops)
    rate = _fee(fee)
    if c == 0:
        return 0
    root = isqrt(a * b * rate.denominator // (rate.denominator + rate.numerator))
    return max(0, (root - b) // c)


def _candidates(hops: Sequence[HopReserves], centre: int, cap: int | None, window: int) -> set[int]:
    """Inputs next to ``centre``, plus the first input of every step of the first hop's floored output
    near it: when one unit of the first hop's output costs many input units, the profit is a
    staircase and its maximum sits where a step starts."""
    hi = centre + window if cap is None else min(cap, centre + window)
    found = set(range(max(1, centre - window), hi + 1))
    r_in, r_out, fee = hops[0]
    y = get_amount_out(centre, r_in, r_out, fee) if centre > 0 else 0
    for out in range(max(1, y - window), min(r_out - 1, y + window) + 1):
        x = get_amount_in(out, r_in, r_out, fee)
        for candidate in (x - 1, x):
            if candidate >= 1 and (cap is None or candidate <= cap):
                found.add(candidate)
    return found


def size_flash_cycle(hops: Sequence[HopReserves], fee: int | FlashFee, max_input: int | None = None,
                     window: int = 16) -> FlashSizing | None:
    """The best integer loan for ``hops`` (capped at ``max_input``, the lender's liquidity), or None
    if no loan profits after the fee (``fee``: Aave premium bps, or a ``FlashFee``)."""
    rate = _fee(fee)
    if any(r_in <= 0 or r_out <= 0 for r_in, r_out, _ in hops) or not hops:
        return None
    centre = optimum_estimate(hops, rate)
    if centre <= 0:
        return None
    if max_input is not None:
        centre = min(centre, max_input)
    best_x, best_p = 0, 0
    for x in _candidates(hops, centre, max_input, window):
        p = flash_profit(x, hops, rate)
        if p > best_p or (p == best_p and x < best_x):
            best_x, best_p = x, p
    if best_p <= 0:
        return None
    return FlashSizing(best_x, simulate(best_x, hops), rate(best_x), best_p)
