"""V2 <-> V3 two-hop cycles, sized by a numeric optimiser over the exact integer simulators.

A cycle starts and ends in one token: sell ``x`` on one pool, sell what comes out on the other.
Its profit ``p(x) = leg2(leg1(x)) - x`` is what the chain would pay (both legs exact: V2's
getAmountOut and v3-core's swap with tick crossing). Each leg's output is concave in its input
(V2: a hyperbola; V3: piecewise, the marginal price only worsens as ticks are crossed), so p is
concave up to integer rounding. ``optimise`` brackets the maximum by doubling, narrows it by
golden-section search on integers, scans the last ``scan`` integers and then walks outwards
until the profit falls clearly (more than the rounding noise) below the best seen.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

from mevops.engine.dex.v2 import get_amount_out
from mevops.engine.v3.pool import V3Pool

GOLDEN = 0.6180339887498949


@dataclass(frozen=True)
class V2Leg:
    """Sell into a V2 pair: ``reserve_in`` of the token sold, ``reserve_out`` of the token bought."""

    reserve_in: int
    reserve_out: int
    fee_bps: int = 30

    def out(self, amount_in: int) -> int:
        return get_amount_out(amount_in, self.reserve_in, self.reserve_out, self.fee_bps) if amount_in > 0 else 0


@dataclass(frozen=True)
class V3Leg:
    """Sell into a V3 pool: token0 if ``zero_for_one`` else token1 (exact input, no price limit)."""

    pool: V3Pool
    zero_for_one: bool

    def out(self, amount_in: int) -> int:
        return self.pool.quote_exact_in(self.zero_for_one, amount_in)


Leg = V2Leg | V3Leg


def cycle_profit(legs: Sequence[Leg], amount_in: int) -> int:
    amount = amount_in
    for leg in legs:
        amount = leg.out(amount)
        if amount <= 0:
            return -amount_in
    return amount - amount_in


def _golden_max(f: Callable[[int], int], lo: int, hi: int, scan: int, tolerance: int,
                budget: int) -> tuple[int, int]:
    """argmax of f on integers [lo, hi], f = a concave function plus rounding noise of at most
    ``tolerance``/2 either way.

    Golden-section search narrows [lo, hi] to ``scan`` integers, which are scanned; then the scan
    walks outwards from the best point until f falls more than ``tolerance`` below the best seen
    (or ``budget`` evaluations are spent). Past such a point the concave part is below
    best - tolerance/2 and stays there, so nothing further out can beat the best: the result is
    the exact integer maximum whenever the walk ends before the budget (the case for pools small
    enough to brute-force; for 1e18-unit pools the top is a wide plateau and one wei is noise).
    """
    cache: dict[int, int] = {}

    def g(x: int) -> int:
        if x not in cache:
            cache[x] = f(x)
        return cache[x]

    a, b = lo, hi
    while b - a > scan:
        c = b - int((b - a) * GOLDEN)
        d = a + int((b - a) * GOLDEN)
        if c >= d:
            break
        if g(c) < g(d):
            a = c + 1
        elif g(c) > g(d):
            b = d - 1
        else:
            a, b = c, d
    best = max(range(a, b + 1), key=lambda x: (g(x), -x))
    spent = len(cache)
    for step in (-1, 1):
        x = (a if step < 0 else b) + step
        while lo <= x <= hi and spent < budget:
            spent += 1
            value = g(x)
            if value > g(best) or (value == g(best) and x < best):
                best = x
            elif value < g(best) - tolerance:
                break
            x += step
    return best, g(best)


def optimise(legs: Sequence[Leg], max_in: int | None = None, scan: int = 32, tolerance: int = 4,
             budget: int = 256) -> tuple[int, int]:
    """The input in [1, max_in] that maximises the cycle's profit: (amount_in, profit), or (0, 0)
    if no input is profitable. Without ``max_in`` the range is bracketed by doubling."""
    f = lambda x: cycle_profit(legs, x)  # noqa: E731
    if max_in is None:
        # bracket by doubling: always through the first 2**16 units (where integer rounding is
        # as large as the profit and p need not look unimodal), then while p still increases
        hi = 1
        while hi < 1 << 200 and (hi < 1 << 16 or f(hi * 2) >= f(hi)):
            hi *= 2
        max_in = hi * 2
    x, profit = _golden_max(f, 1, max_in, scan, tolerance, budget)
    return (x, profit) if profit > 0 else (0, 0)


@dataclass(frozen=True)
class CycleOpportunity:
    start_token: int  # 0 or 1: the token the cycle starts and ends in (pool token order)
    first: str  # "v2" or "v3": the pool sold into first
    amount_in: int
    profit: int


def two_hop_cycles(v2_reserve0: int, v2_reserve1: int, v3: V3Pool, v2_fee_bps: int = 30,
                   scan: int = 32) -> list[CycleOpportunity]:
    """Every profitable V2<->V3 cycle between a V2 pair and a V3 pool of the same two tokens
    (same token0/token1 order), best first."""
    found = []
    for start in (0, 1):
        sell_v2 = V2Leg(v2_reserve0, v2_reserve1, v2_fee_bps) if start == 0 else V2Leg(v2_reserve1, v2_reserve0, v2_fee_bps)
        back_v2 = V2Leg(v2_reserve1, v2_reserve0, v2_fee_bps) if start == 0 else V2Leg(v2_reserve0, v2_reserve1, v2_fee_bps)
        for first, legs in (("v2", (sell_v2, V3Leg(v3, start == 1))), ("v3", (V3Leg(v3, start == 0), back_v2))):
            amount, profit = optimise(legs, scan=scan)
            if profit > 0:
                found.append(CycleOpportunity(start, first, amount, profit))
    return sorted(found, key=lambda o: -o.profit)
