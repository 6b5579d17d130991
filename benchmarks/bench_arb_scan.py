"""Arbitrage scan speed: incremental (index + dirty cycles) vs a naive full rescan, same run.

A synthetic but mainnet-shaped market, seeded: 10,000 V2 pools over ~1,000 tokens and five base
tokens (WETH, USDC, USDT, DAI, WBTC); token popularity is Pareto-distributed, so base tokens and a
few popular tokens hold most pools, and popular pairs are listed on several DEXes (fees 20-100
bps). Reserves come from per-token USD prices and log-normal pool liquidity. Every block brings
200 Sync events on pools drawn by activity (∝ √liquidity). ``--market`` (see ``Market``):
``perturb`` (default, the target): each Sync perturbs its pool's reserves around the market
price, N(0, 0.1%); 3% are shocks of N(0, 1.5%), arbitraged back next block; both scaled by
√($200k / liquidity), at most 3×, as price impact is. Harder regimes, reported but not targets:
``shocks``: the same without the depth scaling, so the deepest hub pools (in the most cycles)
take 1.5% shocks as often as any; ``drift``: swaps random-walk prices by their impact inside
each pool's no-arbitrage band, so many cycles sit just under break-even and every Sync touches
some; ``stress``: nobody ever arbitrages, mispricings pile up.

Per block, the incremental path is: apply the 200 Syncs (``ArbScanner.on_sync``) + ``scan()``,
which ranks every opportunity with exact integer sizing. The baseline is the same Syncs applied
to reserves + ``full_rescan()``, which screens and sizes every cycle from scratch with the same
code. Their results are compared for equality on every baseline block.

Targets: incremental median <= 5 ms per block (wall clock), and >= 20x faster than the full
rescan. Exit 1 if either is missed or the results differ. On a shared or slow machine, read the
CPU-time line: it gives this process's CPU time and a pure-Python reference loop timed next to
every block. Run: ``python benchmarks/bench_arb_scan.py [--blocks N] [--seed S] [--market M]``.
"""

from __future__ import annotations

import argparse
import math
import os
import random
import statistics
import sys
import time
from dataclasses import dataclass, field
from fractions import Fraction
from itertools import accumulate
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mevops.engine.dex import ArbScanner, Pool

POOLS, TOKENS, EVENTS_PER_BLOCK = 10_000, 1_000, 200
MEDIAN_TARGET_MS, RATIO_TARGET = 5.0, 20.0
REFERENCE_MS = 15.0  # reference_loop_ms() on an idle ~3 GHz core, CPython 3.11 (a conservative figure)
BASES = {"WETH": (18, 3000.0), "USDC": (6, 1.0), "USDT": (6, 1.0), "DAI": (18, 1.0), "WBTC": (8, 60000.0)}
BASE_WEIGHT = {"WETH": 0.55, "USDC": 0.2, "USDT": 0.12, "DAI": 0.08, "WBTC": 0.05}
DEXES = [
    ("uniswap-v2", 30, 0.45),
    ("sushiswap", 30, 0.25),
    ("pancakeswap-v2", 25, 0.1),
    ("shibaswap", 30, 0.08),
    ("fraxswap", 100, 0.06),
    ("defiswap", 20, 0.06),
]
GAS_PER_HOP, GAS_FIXED = 60_000, 40_000


class Market:
    """Tokens with decimals and USD prices, pools with reserves, and a Sync-event generator."""

    def __init__(self, seed: int, model: str = "perturb") -> None:
        self.rng = random.Random(seed)
        self.model = model
        self.dislocated: list[int] = []
        self.decimals: dict[str, int] = {}
        self.usd: dict[str, float] = {}
        for name, (dec, usd) in BASES.items():
            self.decimals[name], self.usd[name] = dec, usd
        others = [f"0x{i:040x}" for i in range(1, TOKENS - len(BASES) + 1)]
        for token in others:
            self.decimals[token] = self.rng.choices([18, 6, 8, 9], [0.8, 0.1, 0.05, 0.05])[0]
            self.usd[token] = math.exp(self.rng.gauss(0.0, 3.0))
        self.others = others
        self.popularity = list(accumulate(self.rng.paretovariate(1.1) for _ in others))  # cumulative
        self.pools: list[Pool] = []
        self.liquidity: list[float] = []
        self._build()

    def _pair(self) -> tuple[str, str, float]:
        rng = self.rng
        if not self.pools or len(self.pools) < 60:  # base/base pairs first, deep
            a, b = rng.sample(list(BASES), 2)
            return a, b, math.exp(rng.gauss(math.log(5e7), 1.0))
        t = rng.choices(self.others, cum_weights=self.popularity)[0]
        if rng.random() < 0.7:
            base = rng.choices(list(BASE_WEIGHT), list(BASE_WEIGHT.values()))[0]
            return base, t, math.exp(rng.gauss(math.log(2e5), 1.8))
        u = rng.choices(self.others, cum_weights=self.popularity)[0]
        return t, u, math.exp(rng.gauss(math.log(5e4), 1.8))

    def _build(self) -> None:
        seen: set[tuple[str, str, str]] = set()
        names, fees, weights = zip(*[(d, f, w) for d, f, w in DEXES])
        while len(self.pools) < POOLS:
            a, b, liq = self._pair()
            if a == b:
                continue
            t0, t1 = sorted((a, b))
            i = self.rng.choices(range(len(names)), weights)[0]
            if (t0, t1, names[i]) in seen:
                continue
            seen.add((t0, t1, names[i]))
            r0, r1 = self._reserves(t0, t1, liq, 1.0)
            self.pools.append(Pool(f"0x{0xA000000 + len(self.pools):040x}", t0, t1, r0, r1, fees[i], names[i]))
            self.liquidity.append(liq)
        self.activity = list(accumulate(math.sqrt(liq) for liq in self.liquidity))  # cumulative
        self.deviation = [0.0] * len(self.pools)  # log of (pool price / market price)

    def _reserves(self, t0: str, t1: str, liq: float, skew: float) -> tuple[int, int]:
        half = liq / 2
        r0 = half / self.usd[t0] * 10 ** self.decimals[t0] / math.sqrt(skew)
        r1 = half / self.usd[t1] * 10 ** self.decimals[t1] * math.sqrt(skew)
        return max(int(r0), 1000), max(int(r1), 1000)

    def block(self) -> list[tuple[str, int, int]]:
        """One block of Syncs: (pool address, reserve0, reserve1), reserves keeping x·y."""
        models = {"perturb": self._perturb, "shocks": self._shocks, "drift": self._drift, "stress": self._stress}
        picks = models[self.model]()
        events = []
        for i, deviation in picks:
            self.deviation[i] = deviation
            pool = self.pools[i]
            events.append((pool.address, *self._reserves(pool.token0, pool.token1, self.liquidity[i], math.exp(deviation))))
        return events

    def _active(self, k: int) -> list[int]:
        return self.rng.choices(range(len(self.pools)), cum_weights=self.activity, k=k)

    def _drift(self) -> list[tuple[int, float]]:
        """Pools pushed out of their no-arbitrage band last block are arbitraged back first (to
        within 0.05% of the market price); then swaps, each moving its pool's price by its
        impact: log-normal (σ = 1.5), median 0.3% on a $200k pool, ∝ 1/√liquidity."""
        rng = self.rng
        picks = [(i, rng.gauss(0.0, 0.0005)) for i in self.dislocated]
        self.dislocated = []
        for i in self._active(EVENTS_PER_BLOCK - len(picks)):
            impact = 0.003 * math.sqrt(2e5 / self.liquidity[i]) * math.exp(rng.gauss(0.0, 1.5))
            deviation = self.deviation[i] + (impact if rng.random() < 0.5 else -impact)
            picks.append((i, deviation))
            if abs(deviation) > self.pools[i].fee_bps / 10_000:
                self.dislocated.append(i)
        return picks

    def _perturb(self) -> list[tuple[int, float]]:
        """Default: a Sync leaves its pool N(0, 0.1%·k) off the market price; 3% are shocks of
        N(0, 1.5%·k), arbitraged back (a Sync) next block. k = √($200k / liquidity), at most 3:
        the same trade moves a deep pool's price less (price impact ∝ 1/√liquidity)."""
        return self._perturbed(depth_scaled=True)

    def _shocks(self) -> list[tuple[int, float]]:
        """As ``perturb`` but k = 1 for every pool: the deepest pools are shocked just as hard."""
        return self._perturbed(depth_scaled=False)

    def _perturbed(self, depth_scaled: bool) -> list[tuple[int, float]]:
        rng = self.rng
        picks = [(i, 0.0) for i in self.dislocated]
        self.dislocated = []
        for i in self._active(EVENTS_PER_BLOCK - len(picks)):
            k = min(3.0, math.sqrt(2e5 / self.liquidity[i])) if depth_scaled else 1.0
            if rng.random() < 0.03:
                picks.append((i, rng.gauss(0.0, 0.015 * k)))
                self.dislocated.append(i)
            else:
                picks.append((i, rng.gauss(0.0, 0.001 * k)))
        return picks

    def _stress(self) -> list[tuple[int, float]]:
        """Nobody arbitrages: every Sync sets its pool N(0, 0.3%) off; mispricings pile up."""
        return [(i, self.rng.gauss(0.0, 0.003)) for i in self._active(EVENTS_PER_BLOCK)]

    def eth_price(self, base: str) -> Fraction:
        """Base-token wei per 1 wei of ETH."""
        ratio = Fraction(self.usd["WETH"]) / Fraction(self.usd[base])
        return ratio * 10 ** self.decimals[base] / 10**18


def reference_loop_ms(repeat: int = 5, scale: int = 1) -> float:
    """A fixed pure-Python workload (200,000 iterations, or 1/scale of it, timed ×scale), so a
    reader can tell a slow or busy machine from slow code."""
    best = float("inf")
    for _ in range(repeat):
        t, x = time.process_time(), 1.0
        for i in range(200_000 // scale):
            x = x * 1.0000001 + i
        best = min(best, (time.process_time() - t) * scale)
    return best * 1000


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]


class Gas:
    """EIP-1559 base fee: moves up to ±12.5% a block; demand pulls it back towards 15 gwei."""

    def __init__(self, seed: int) -> None:
        self.rng, self.base_fee = random.Random(seed), 15 * 10**9

    def next(self) -> tuple[int, int]:
        pull = (15 * 10**9 / self.base_fee) ** 0.1
        self.base_fee = max(10**9, int(self.base_fee * self.rng.uniform(0.875, 1.125) * pull))
        return self.base_fee, 10**9  # (base fee, priority fee)


@dataclass
class Runs:
    incremental: list[float] = field(default_factory=list)  # wall-clock seconds per block
    incremental_cpu: list[float] = field(default_factory=list)  # this process's CPU seconds per block
    full: list[float] = field(default_factory=list)
    full_cpu: list[float] = field(default_factory=list)
    reference: list[float] = field(default_factory=list)  # reference loop (ms) measured next to each block
    rescreened: list[int] = field(default_factory=list)
    opportunities: list[int] = field(default_factory=list)
    mismatches: int = 0


def run_blocks(scanner: ArbScanner, market: Market, gas: Gas, blocks: int, baseline_blocks: int) -> Runs:
    """Time every block incrementally; every few blocks also time the full rescan and compare."""
    runs, every = Runs(), max(1, blocks // max(1, baseline_blocks))
    for n in range(blocks):
        events, fees = market.block(), gas.next()
        runs.reference.append(reference_loop_ms(repeat=2, scale=20))
        t, cpu = time.perf_counter(), time.process_time()
        for address, r0, r1 in events:
            scanner.on_sync(address, r0, r1)
        found = scanner.scan(*fees, price=market.eth_price)
        runs.incremental.append(time.perf_counter() - t)
        runs.incremental_cpu.append(time.process_time() - cpu)
        runs.rescreened.append(len(scanner.screen.last_rescreened))
        runs.opportunities.append(len(found))
        if n % every == every - 1:
            t, cpu = time.perf_counter(), time.process_time()
            for address, r0, r1 in events:  # the baseline applies the events too (same reserves again)
                scanner.state.on_sync(address, r0, r1)
            baseline = scanner.full_rescan(*fees, price=market.eth_price)
            runs.full.append(time.perf_counter() - t)
            runs.full_cpu.append(time.process_time() - cpu)
            runs.mismatches += baseline != found
    return runs


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--blocks", type=int, default=200)
    parser.add_argument("--baseline-blocks", type=int, default=8)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--market", choices=["perturb", "shocks", "drift", "stress"], default="perturb", help="see Market")
    parser.add_argument("--max-pools-per-pair", type=int, default=None, help="fan-out cap on 3-hop legs (default: none)")
    args = parser.parse_args(argv)

    calibration = reference_loop_ms()
    t = time.perf_counter()
    market = Market(args.seed, args.market)
    build_market = time.perf_counter() - t
    t = time.perf_counter()
    scanner = ArbScanner(
        market.pools,
        list(BASES),
        native_token="WETH",
        gas_units_per_hop=GAS_PER_HOP,
        gas_units_fixed=GAS_FIXED,
        max_pools_per_pair=args.max_pools_per_pair,
    )
    build_index = time.perf_counter() - t
    gas = Gas(args.seed + 1)
    t = time.perf_counter()
    first = scanner.scan(*gas.next(), price=market.eth_price)
    first_scan = time.perf_counter() - t
    runs = run_blocks(scanner, market, gas, args.blocks, args.baseline_blocks)

    ix = scanner.index
    two_hop = sum(sum(1 for _ in ix.members(f)) for f, g in enumerate(ix.group) if g % 2 == 0)
    cap = (
        "all of them, no fan-out cap"
        if args.max_pools_per_pair is None
        else (f"3-hop legs capped to the {args.max_pools_per_pair} deepest pools per pair ({ix.fanout_capped} pool-legs dropped)")
    )
    print(f"machine: reference loop {calibration:.1f} ms CPU, load average {os.getloadavg()[0]:.2f} on {os.cpu_count()} CPUs")
    print(
        f"market ({args.market}): {len(market.pools)} V2 pools, {len(market.usd)} tokens, base tokens {', '.join(BASES)}; "
        f"built in {build_market:.2f} s, seed {args.seed}"
    )
    print(
        f"cycles: {len(ix)} ({two_hop} two-hop, {len(ix) - two_hop} three-hop), {cap}; {ix.family_count} families; "
        f"index built in {build_index:.2f} s, first scan {first_scan:.2f} s ({len(first)} opportunities)"
    )
    return report(runs, ix.family_count)


def report(runs: Runs, families: int) -> int:
    inc_med, inc_p99, full_med = (
        statistics.median(runs.incremental),
        percentile(runs.incremental, 0.99),
        statistics.median(runs.full),
    )
    ratio = full_med / inc_med
    ok_median, ok_ratio = inc_med * 1000 <= MEDIAN_TARGET_MS, ratio >= RATIO_TARGET
    print(
        f"events/block: {EVENTS_PER_BLOCK} Syncs; blocks: {len(runs.incremental)} incremental, {len(runs.full)} full-rescan baseline"
    )
    print(
        f"families re-screened/block: median {statistics.median(runs.rescreened):.0f} "
        f"({statistics.median(runs.rescreened) / families:.2%} of all); "
        f"opportunities/block: median {statistics.median(runs.opportunities):.0f}, max {max(runs.opportunities)}"
    )
    print(
        f"incremental (on_sync x{EVENTS_PER_BLOCK} + scan)  median {inc_med * 1000:7.2f} ms  p99 {inc_p99 * 1000:7.2f} ms  "
        f"max {max(runs.incremental) * 1000:.2f} ms  target <= {MEDIAN_TARGET_MS:.0f} ms: {'met' if ok_median else 'MISSED'}"
    )
    print(f"full rescan (baseline, same run)     median {full_med * 1000:7.2f} ms")
    cpu_inc, cpu_full = statistics.median(runs.incremental_cpu), statistics.median(runs.full_cpu)
    scaled = statistics.median(c * 1000 * REFERENCE_MS / r for c, r in zip(runs.incremental_cpu, runs.reference))
    print(
        f"(CPU time of this process, for a shared machine: incremental median {cpu_inc * 1000:.2f} ms, "
        f"full rescan median {cpu_full * 1000:.2f} ms, ratio {cpu_full / cpu_inc:.1f}x; reference loop next to "
        f"each block: median {statistics.median(runs.reference):.1f} ms; incremental scaled to a {REFERENCE_MS:.0f} ms "
        f"reference loop ≈ {scaled:.2f} ms, an estimate, not the target)"
    )
    print(
        f"ratio full/incremental               {ratio:7.1f}x          target >= {RATIO_TARGET:.0f}x: {'met' if ok_ratio else 'MISSED'}"
    )
    same = "yes" if runs.mismatches == 0 else f"NO ({runs.mismatches} differ)"
    print(f"incremental == full rescan on {len(runs.full)} blocks: {same}")
    return 0 if ok_median and ok_ratio and runs.mismatches == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
