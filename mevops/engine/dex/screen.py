"""Float views of pool reserves, used only to *discard* cycles cheaply; integers decide.

Per hop key h (see :mod:`cycles`): ``rate[h] = γ·rOut/rIn`` (the marginal price at zero size, with
γ = 1 − fee), and the float curve pieces ``rin[h] = rIn`` (so rOut = ``rin[h ^ 1]``) and
``gamma[h] = γ``. The last slot is the identity hop (rate 1, curve x ↦ x: γ·rOut taken as 1).

Two screens, both with no false negatives for anything worth trading:

1. ``rate[h0]·rate[h1]·rate[h2] > 1 + ε``: the slope of the cycle's curve at zero. If it is ≤ 1 the
   real (unrounded) curve never profits, so neither does the floored integer chain. Cycles in
   (1, 1 + ε] can earn at most (b/c)·(√(1+ε) − 1)² ≤ rIn₀·ε²/(4γ₀): for ε = 1e-6 and a first pool
   holding 10⁶ ETH that is 2.5·10¹¹ wei, far below the gas of any transaction.
2. ``estimate ≥ (gas + min profit)·(1 − 1e-6) − 1``: the real optimum b·(√s − 1)²/c, an upper
   bound on the integer profit. With s > 1 + ε its relative float error is < 1e-8.

Float multiplication is monotone in each factor, so a bound built from per-leg best rates bounds
every cycle of a family, and a product whose factors did not rise cannot newly cross the
threshold (see ``ArbScanner``).
"""

from __future__ import annotations

from collections.abc import Sequence
from math import sqrt

from mevops.engine.dex.v2 import BPS, Pool

ESTIMATE_SLACK = 1e-6


class RateTable:
    def __init__(self, pools: Sequence[Pool]) -> None:
        n = 2 * len(pools) + 1
        self.rate = [1.0] * n
        self.rin = [1.0] * (n + 1)  # (+ the identity hop's other side)
        self.gamma = [0.0] * n  # identity hop: c contribution 0
        for i, pool in enumerate(pools):
            self.gamma[2 * i] = self.gamma[2 * i + 1] = (BPS - pool.fee_bps) / BPS
            self.update(i, pool.reserve0, pool.reserve1)

    def update(self, i: int, reserve0: int, reserve1: int) -> None:
        """Set pool ``i``'s reserves."""
        h, g = 2 * i, self.gamma[2 * i]
        f0, f1 = float(reserve0), float(reserve1)
        self.rin[h], self.rin[h + 1] = f0, f1
        if reserve0 > 0 and reserve1 > 0:
            self.rate[h], self.rate[h + 1] = g * f1 / f0, g * f0 / f1
        else:
            self.rate[h] = self.rate[h + 1] = 0.0

    def estimate(self, h0: int, h1: int, h2: int, product: float) -> float:
        """Real-valued maximum profit (√a − √b)²/c = b·(√s − 1)²/c, s = a/b = ``product`` > 1."""
        rin, gm = self.rin, self.gamma
        b12 = rin[h1] * rin[h2]
        ga1 = gm[h1] * rin[h1 ^ 1] if gm[h1] else 1.0  # γ·rOut; 1 for the identity hop (γ 0)
        c = gm[h0] * b12 + gm[h0] * rin[h0 ^ 1] * (gm[h1] * rin[h2] + ga1 * gm[h2])
        d = (product - 1.0) / (sqrt(product) + 1.0)
        return rin[h0] * b12 * d * d / c


def may_clear(estimate: float, limit: int) -> bool:
    """Could a cycle whose real optimum is ``estimate`` earn ``limit`` (gas + minimum profit)?"""
    return estimate * (1.0 + ESTIMATE_SLACK) + 1.0 >= limit
