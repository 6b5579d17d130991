"""Size a flash-loan funded V2 cycle: the loan premium is part of the objective, not an afterthought.

Borrowing x costs premium(x) = ⌊(x·p + 5000)/10000⌋ (Aave V3's percentMul: bps, half up). The cycle
pays a·x/(b + c·x) (``mevops.engine.dex.curve``), so the real profit is

    P(x) = a·x/(b + c·x) − x·(10000 + p)/10000,   P'(x) = 0  at  x* = (√(a·b·10000/(10000 + p)) − b)/c

positive only when a·10000 > b·(10000 + p). x* is computed with ``math.isqrt``; the exact integer
profit (every hop floored as on chain, the premium rounded as on chain) is then maximised over a
small window around x* and never reported from the real-valued curve.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import isqrt

from mevops.engine.dex.curve import cycle_curve, simulate
from mevops.engine.dex.v2 import BPS

HopReserves = tuple[int, int, int]  # (reserve_in, reserve_out, fee_bps), as mevops.engine.dex.curve


@dataclass(frozen=True, slots=True)
class FlashSizing:
    amount_in: int  # borrowed
    amount_out: int  # what the cycle returns
    premium: int  # paid to the flash-loan pool
    profit: int  # amount_out - amount_in - premium, exact, before gas


def flash_premium(amount: int, premium_bps: int) -> int:
    """The pool's premium on ``amount`` (FlashLoanPool / Aave V3 percentMul: half up)."""
    return (amount * premium_bps + BPS // 2) // BPS


def flash_profit(amount: int, hops: Sequence[HopReserves], premium_bps: int) -> int:
    """Exact integer profit of borrowing ``amount`` and trading it around ``hops``."""
    return simulate(amount, hops) - amount - flash_premium(amount, premium_bps)


def optimum_estimate(hops: Sequence[HopReserves], premium_bps: int) -> int:
    """⌊x*⌋ of the real-valued curve net of the premium; 0 when no input can profit."""
    a, b, c = cycle_curve(hops)
    if c == 0:
        return 0
    root = isqrt(a * b * BPS // (BPS + premium_bps))
    return max(0, (root - b) // c)


def size_flash_cycle(hops: Sequence[HopReserves], premium_bps: int, max_input: int | None = None,
                     window: int = 16) -> FlashSizing | None:
    """The best integer loan for ``hops`` (capped at ``max_input``, the pool's liquidity), or None
    if no loan profits after the premium."""
    if not 0 <= premium_bps < BPS:
        raise ValueError(f"premium_bps must be in [0, {BPS}), got {premium_bps}")
    if any(r_in <= 0 or r_out <= 0 for r_in, r_out, _ in hops) or not hops:
        return None
    centre = optimum_estimate(hops, premium_bps)
    if centre <= 0:
        return None
    if max_input is not None:
        centre = min(centre, max_input)
    lo = max(1, centre - window)
    hi = centre + window if max_input is None else min(max_input, centre + window)
    best_x, best_p = 0, 0
    for x in range(lo, hi + 1):
        p = flash_profit(x, hops, premium_bps)
        if p > best_p:
            best_x, best_p = x, p
    if best_p <= 0:
        return None
    return FlashSizing(best_x, simulate(best_x, hops), flash_premium(best_x, premium_bps), best_p)
