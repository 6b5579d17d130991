"""V3 simulator speed: swaps/second of mevops.engine.v3's exact pool, vs V2's getAmountOut, same run.

A seeded pool shaped like a busy mainnet 0.05% pool: tick spacing 10, a full-range position and
200 concentrated positions within ±20% of the price (so the initialized ticks are dense). Four
workloads, each timed over the same number of calls with the pool state restored between calls
(``commit=False``), so every call does identical work:

- ``within``: exact-input swaps small enough to stay inside the current tick range (one step);
- ``crossing``: exact-input swaps sized to cross ticks (reported: mean initialized ticks crossed
  and steps per swap);
- ``exact_out``: exact-output swaps of the crossing sizes;
- ``v2``: mevops.engine.dex.v2.get_amount_out on comparable reserves (the baseline: one
  integer formula).

Plus ``cycle``: one V2<->V3 cycle sized by mevops.engine.v3.cycles.optimise (ms).
Run: ``python benchmarks/bench_v3.py [--swaps N] [--seed S]``. Prints one line per workload; no
targets (it reports).
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from mevops.engine.dex.v2 import get_amount_out  # noqa: E402
from mevops.engine.v3.cycles import V2Leg, V3Leg, optimise  # noqa: E402
from mevops.engine.v3.math import get_sqrt_ratio_at_tick  # noqa: E402
from mevops.engine.v3.pool import V3Pool  # noqa: E402


def build_pool(seed: int) -> V3Pool:
    rng = random.Random(seed)
    pool = V3Pool(500, 10)
    pool.initialize(get_sqrt_ratio_at_tick(0) + rng.randrange(10**20))
    pool.mint(-887270, 887270, 10**21)
    for _ in range(200):
        lo = rng.randrange(-2000, 1800) // 10 * 10
        pool.mint(lo, lo + rng.randrange(1, 60) * 10, rng.randrange(10**20, 10**22))
    return pool


def timed(fn, args_list) -> float:
    start = time.perf_counter()
    for args in args_list:
        fn(*args)
    return time.perf_counter() - start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--swaps", type=int, default=20_000)
    parser.add_argument("--seed", type=int, default=7)
    opts = parser.parse_args(argv)
    rng = random.Random(opts.seed)
    pool = build_pool(opts.seed)
    n = opts.swaps

    within = [(rng.random() < 0.5, rng.randrange(10**12, 10**14)) for _ in range(n)]
    crossing = [(rng.random() < 0.5, rng.randrange(10**20, 3 * 10**21)) for _ in range(n)]
    exact_out = [(z, -(a // 2)) for z, a in crossing]

    def crosses(zero_for_one: bool, amount: int) -> int:
        trial = pool.copy()
        before = trial.tick
        trial.swap(zero_for_one, amount)
        lo, hi = sorted((before, trial.tick))
        return sum(lo < t <= hi for t in pool.liquidity_net)

    sample = crossing[:200]
    mean_crossed = sum(crosses(z, a) for z, a in sample) / len(sample)

    def v3(zero_for_one: bool, amount: int) -> None:
        pool.swap(zero_for_one, amount, commit=False)

    reserves = [(rng.randrange(10**21, 10**23), rng.randrange(10**21, 10**23)) for _ in range(64)]
    v2_args = [(a, *reserves[i % 64], 30) for i, (_, a) in enumerate(crossing)]

    results = {}
    for name, fn, args in (("v2", get_amount_out, v2_args), ("within", v3, within),
                           ("crossing", v3, crossing), ("exact_out", v3, exact_out)):
        fn(*args[0])  # warm up
        results[name] = n / timed(fn, args)
    print(f"pool: {len(pool.liquidity_net)} initialized ticks, tick spacing {pool.tick_spacing}, fee {pool.fee} pips")
    print(f"v2 get_amount_out        {results['v2']:>12,.0f} /s  (baseline)")
    for name in ("within", "crossing", "exact_out"):
        ratio = results["v2"] / results[name]
        print(f"v3 {name:<21} {results[name]:>12,.0f} /s  ({ratio:,.0f}x slower than v2)")
    print(f"crossing swaps cross {mean_crossed:.1f} initialized ticks on average "
          f"(~{results['crossing'] * mean_crossed:,.0f} tick crossings/s)")

    # one cycle sized by the optimiser: token0 is 2% dearer on a V2 pair than in the V3 pool,
    # so buy token0 with token1 on V3 and sell it on V2
    r0 = 10**22
    legs = (V3Leg(pool, False), V2Leg(r0, r0 * pool.sqrt_price_x96**2 // 2**192 * 102 // 100))
    start = time.perf_counter()
    amount, profit = optimise(legs)
    ms = (time.perf_counter() - start) * 1000
    print(f"cycle optimise: input {amount}, profit {profit}, {ms:.1f} ms")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
