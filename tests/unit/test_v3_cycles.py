"""V2<->V3 cycles: the optimiser finds the profit a brute-force scan over every input finds."""

from __future__ import annotations

import random

import pytest

from mevops.engine.v3.cycles import V2Leg, V3Leg, cycle_profit, optimise, two_hop_cycles
from mevops.engine.v3.math import get_sqrt_ratio_at_tick
from mevops.engine.v3.pool import V3Pool


def small_market(seed: int):
    """A V2 pair and a V3 pool small enough to scan every input, priced apart."""
    rng = random.Random(seed)
    pool = V3Pool(rng.choice((500, 3000)), 10)
    start = rng.randrange(-400, 400)
    pool.initialize(get_sqrt_ratio_at_tick(start))
    pool.mint(-887270, 887270, rng.randrange(2_000, 20_000))
    for _ in range(4):  # narrow ranges close to the price, so the optimum crosses ticks
        lo = (start + rng.randrange(-800, 600)) // 10 * 10
        pool.mint(lo, lo + rng.randrange(1, 40) * 10, rng.randrange(20_000, 400_000))
    skew = 1 + rng.choice((-1, 1)) * rng.uniform(0.03, 0.15)  # V2 price away from V3's
    price = 1.0001 ** start * skew
    r0 = rng.randrange(5_000, 40_000)
    return r0, int(r0 * price), pool


@pytest.mark.parametrize("seed", range(4))
def test_optimiser_matches_brute_force(seed):
    r0, r1, pool = small_market(seed)
    for start in (0, 1):
        sell = V2Leg(r0, r1) if start == 0 else V2Leg(r1, r0)
        back = V2Leg(r1, r0) if start == 0 else V2Leg(r0, r1)
        for legs in ((sell, V3Leg(pool, start == 1)), (V3Leg(pool, start == 0), back)):
            limit = 4_000
            brute = max((cycle_profit(legs, x), -x) for x in range(1, limit + 1))
            amount, profit = optimise(legs, max_in=limit, scan=32, budget=limit)
            assert profit == max(brute[0], 0), (seed, start)
            if profit:
                assert cycle_profit(legs, amount) == profit
            unbounded = optimise(legs, scan=32, budget=limit)
            assert unbounded[1] == profit or (unbounded[1] > profit and unbounded[0] > limit)


def test_two_hop_cycles_finds_the_profitable_direction_only():
    pool = V3Pool(3000, 60)
    pool.initialize(get_sqrt_ratio_at_tick(0))
    pool.mint(-887220, 887220, 10**21)
    pool.mint(-600, 600, 10**22)
    # V2 prices token0 at 1.05 token1: buy token0 on V3, sell it on V2
    found = two_hop_cycles(10**21, 105 * 10**19, pool)
    assert found and all(o.profit > 0 for o in found)
    best = found[0]
    assert (best.start_token, best.first) in {(1, "v3"), (0, "v2")}
    legs = ((V3Leg(pool, False), V2Leg(10**21, 105 * 10**19)) if best.first == "v3"
            else (V2Leg(10**21, 105 * 10**19), V3Leg(pool, True)))
    assert cycle_profit(legs, best.amount_in) == best.profit
    # nearby inputs do no better
    for dx in (-10**15, -1, 1, 10**15):
        assert cycle_profit(legs, best.amount_in + dx) <= best.profit
    # the same prices on both sides: nothing to do
    assert two_hop_cycles(10**21, 10**21, pool) == []
