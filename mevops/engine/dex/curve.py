"""Optimal input for a cycle of constant-product swaps: closed form, then confirmed in integers.

One hop with fee ``f`` bps (``g = 10000 - f``) pays, before Uniswap's floor,

    out(x) = g·rOut·x / (10000·rIn + g·x)          i.e.  a·x / (b + c·x)  with  (a, b, c) = (g·rOut, 10000·rIn, g)

Maps of the form a·x/(b + c·x) are closed under composition: feeding (a1, b1, c1) into
(a2, b2, c2) gives (a1·a2, b1·b2, b2·c1 + a1·c2). So a whole cycle is one curve with integer
a, b, c. Its profit a·x/(b + c·x) − x has derivative a·b/(b + c·x)² − 1, zero at
x* = (√(a·b) − b)/c, which is positive only when a > b; the profit there is (√a − √b)²/c.

Uniswap floors every hop, so the integer chain S(x) ≤ the real curve. We evaluate S exactly
next to x* (``math.isqrt``, no floats) and return a proven ``gap``: the best integer profit on
[1, cap] is at most ``profit + gap``. Any better integer input x must satisfy P(x) ≥ profit, a
quadratic interval; when that interval is small it is searched exhaustively and ``gap`` is 0.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from math import isqrt

from mevops.engine.dex.v2 import BPS, _check_fee

Hop = tuple[int, int, int]  # (reserve_in, reserve_out, fee_bps)


@dataclass(frozen=True, slots=True)
class Sizing:
    """Exact integer outcome of trading ``amount_in`` around a cycle."""

    amount_in: int
    amount_out: int
    profit: int  # amount_out - amount_in, before gas
    gap: int  # proven: no integer input within the cap earns more than profit + gap (0: optimal)


def hop_curve(reserve_in: int, reserve_out: int, fee_bps: int = 30) -> tuple[int, int, int]:
    """``(a, b, c)`` with out(x) = a·x / (b + c·x) for one V2 hop, before rounding."""
    g = BPS - fee_bps
    return g * reserve_out, BPS * reserve_in, g


def compose(first: tuple[int, int, int], second: tuple[int, int, int]) -> tuple[int, int, int]:
    """The curve of ``second(first(x))``."""
    a1, b1, c1 = first
    a2, b2, c2 = second
    return a1 * a2, b1 * b2, b2 * c1 + a1 * c2


def cycle_curve(hops: Sequence[Hop]) -> tuple[int, int, int]:
    curve = (1, 1, 0)  # identity: out(x) = x
    for reserve_in, reserve_out, fee_bps in hops:
        curve = compose(curve, hop_curve(reserve_in, reserve_out, fee_bps))
    return curve


def simulate(amount_in: int, hops: Sequence[Hop]) -> int:
    """Exact output of the chained ``get_amount_out`` calls; 0 if some hop yields nothing."""
    return _simulate(amount_in, [(r_in, r_out, BPS - fee) for r_in, r_out, fee in hops])


def optimal_input(hops: Sequence[Hop], max_input: int | None = None, *, exhaustive_limit: int = 256) -> Sizing | None:
    """Best integer input for the cycle ``hops`` (None: no input can profit, proven by a ≤ b)."""
    for r_in, r_out, fee in hops:
        _check_fee(fee)
        if r_in < 0 or r_out < 0:
            raise ValueError("negative reserve")
    return size_hops([(r_in, r_out, BPS - fee) for r_in, r_out, fee in hops], max_input, exhaustive_limit)


def _simulate(x: int, ghops: Sequence[tuple[int, int, int]]) -> int:
    for r_in, r_out, g in ghops:
        if x <= 0:
            return 0
        xg = x * g
        x = xg * r_out // (r_in * BPS + xg)
    return x


def size_hops(ghops: Sequence[tuple[int, int, int]], cap: int | None, exhaustive_limit: int) -> Sizing | None:
    """:func:`optimal_input` on hops given as ``(reserve_in, reserve_out, 10000 - fee_bps)``."""
    a, b, c = 1, 1, 0
    for r_in, r_out, g in ghops:
        if r_in <= 0 or r_out <= 0:
            return None
        bi = BPS * r_in
        a, b, c = a * g * r_out, b * bi, bi * c + a * g
    if a <= b or (cap is not None and cap < 1):
        return None
    root = isqrt(a * b)
    x_star = (root - b) // c  # floor(x*) - 1 <= x_star <= floor(x*)
    if cap is not None and x_star >= cap:
        centre, upper = cap, -((-a * cap) // (b + c * cap)) - cap  # real profit rises up to the cap
    else:
        centre, upper = x_star, -((root + root - a - b) // c)  # ceil((a + b - 2·root)/c) >= (√a - √b)²/c
    hi = cap if cap is not None else centre + 2
    best_x, best_p = 0, None
    for x in range(max(1, centre - 1), min(hi, centre + 2) + 1):
        p = _simulate(x, ghops) - x
        if best_p is None or p > best_p:
            best_x, best_p = x, p
    if best_p is None:
        return None
    best_x, best_p, exact = _search_interval(ghops, (a, b, c), cap, best_x, best_p, exhaustive_limit)
    if exact:
        gap = 0 if best_p >= 0 else max(0, -1 - best_p)
    else:
        gap = max(0, upper - best_p)
    return Sizing(best_x, best_x + best_p, best_p, gap)


def _search_interval(ghops, curve, cap, best_x, best_p, limit):
    """Scan every x with real profit P(x) >= max(best_p, 0) if there are at most ``limit`` of them.

    P(x) >= t  <=>  c·x² − (a − b − c·t)·x + b·t <= 0  (for x >= 0), an interval between two roots.
    Returns the (possibly improved) best and whether the scan was exhaustive.
    """
    a, b, c = curve
    t = max(0, best_p)
    beta = a - b - c * t
    disc = beta * beta - 4 * c * b * t
    if beta <= 0 or disc < 0:
        return best_x, best_p, True  # no x > 0 reaches t: nothing can beat best_p (or 0)
    s = isqrt(disc)
    lo = max(1, (beta - s - 1) // (2 * c))
    hi = -((-(beta + s + 1)) // (2 * c))
    if cap is not None:
        hi = min(hi, cap)
    if hi - lo + 1 > limit:
        return best_x, best_p, False
    for x in range(lo, hi + 1):
        p = _simulate(x, ghops) - x
        if p > best_p or (p == best_p and x < best_x):
            best_x, best_p = x, p
    return best_x, best_p, True
