"""Differential test: mevops.engine.v3's Python pool vs the Vyper V3-style pool on anvil.

The pool (mevops/contracts/UniswapV3StylePool.vy) runs v3-core's swap loop on chain with EVM
uint256 arithmetic and an independent getTickAtSqrtRatio (binary search); the simulator runs the
same specification in Python integers. Positions span several ranges (one full range, several
that overlap, ticks in more than one bitmap word), then a few hundred seeded random swaps —
exact input and exact output, both directions, some with a price limit, a few burns — go on
chain. Every Swap event's amounts and post-swap sqrtPriceX96/liquidity/tick must equal the
simulator's, and a tracker fed only the chain's logs must end in the simulator's state.
"""

from __future__ import annotations

import asyncio
import random

import pytest

pytest.importorskip("web3")

from mevops.contracts import v3pool
from mevops.contracts.transactions import TxSender, connected, create_address
from mevops.engine.v3.math import MAX_SQRT_RATIO, MAX_TICK, MIN_SQRT_RATIO, MIN_TICK, V3MathError, get_sqrt_ratio_at_tick
from mevops.engine.v3.pool import V3Pool
from mevops.engine.v3.tracker import SWAP_TOPIC, V3PoolTracker

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's account 0 (unlocked)
SWAP_GAS = 6_000_000


def plan(seed: int, fee: int, spacing: int, swaps: int):
    """Positions and a random swap sequence, with the simulator's expected result of each and
    how many initialized ticks the swaps crossed."""
    rng = random.Random(seed)
    sim = V3Pool(fee, spacing)
    start_tick = rng.randrange(-2000, 2000)
    start_price = get_sqrt_ratio_at_tick(start_tick) + rng.randrange(1, 10**20)
    sim.initialize(start_price)
    full = (MIN_TICK // spacing + 1) * spacing, (MAX_TICK // spacing) * spacing
    positions = [(full[0], full[1], 10**20)]
    for _ in range(16):  # overlapping ranges around the price, several bitmap words wide
        lo = (start_tick + rng.randrange(-8000, 8000)) // spacing * spacing
        hi = lo + rng.randrange(1, 3000 // spacing) * spacing
        positions.append((lo, hi, rng.randrange(10**18, 10**22)))
    minted = list(positions)
    for lo, hi, amount in positions:
        sim.mint(lo, hi, amount)
    crossings = 0
    ops = []  # ("swap", zeroForOne, amountSpecified, limit, expected) | ("burn", lo, hi, amount)
    while len(ops) < swaps:
        if rng.random() < 0.03 and len(positions) > 1:
            i = rng.randrange(1, len(positions))
            lo, hi, amount = positions[i]
            part = amount // rng.choice((2, 3, 1))
            if part <= 0:
                continue
            positions[i] = (lo, hi, amount - part)
            sim.burn(lo, hi, part)
            ops.append(("burn", lo, hi, part))
            continue
        zero_for_one = rng.random() < 0.5
        if sim.tick > 40000:
            zero_for_one = True
        elif sim.tick < -40000:
            zero_for_one = False
        size = int(10 ** rng.uniform(2, 21.5))
        amount = size if rng.random() < 0.7 else -size
        limit = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        if rng.random() < 0.2:  # a price limit a few hundred ticks away
            t = sim.tick + (-1 if zero_for_one else 1) * rng.randrange(1, 600)
            limit = get_sqrt_ratio_at_tick(max(MIN_TICK, min(MAX_TICK, t))) + rng.randrange(-10**6, 10**6)
        before, trial = sim.tick, sim.copy()
        try:
            a0, a1 = trial.swap(zero_for_one, amount, limit)
        except V3MathError:
            continue
        if abs(trial.tick) > 60000:  # keep the price where the positions are (and gas bounded)
            continue
        sim = trial
        low, high = sorted((before, sim.tick))
        crossings += sum(low < t <= high for t in sim.liquidity_net)
        ops.append(("swap", zero_for_one, amount, limit, (a0, a1, sim.sqrt_price_x96, sim.liquidity, sim.tick)))
    return sim, start_price, minted, ops, crossings


def signed(word: int) -> int:
    return word - (1 << 256) if word >> 255 else word


def test_random_swaps_match_the_onchain_pool_exactly(start_anvil):
    url, _ = start_anvil()
    for seed, fee, spacing, swaps in ((9, 500, 10, 200), (33, 3000, 60, 100)):
        check_pool(url, seed, fee, spacing, swaps)


def check_pool(url: str, seed: int, fee: int, spacing: int, swaps: int) -> None:
    sim, start_price, positions, ops, crossings = plan(seed, fee, spacing, swaps)
    assert crossings > 10, "the random swaps should cross initialized ticks"

    async def scenario():
        async with connected(url) as w3:
            tx = await TxSender.open(w3, DEV)
            pool = create_address(DEV, tx.nonce)
            tx.send(None, v3pool.deploy_data(fee, spacing), gas=8_000_000, label="deploy pool")
            tx.send(pool, v3pool.call_data("initialize", start_price), gas=2_000_000, label="initialize")
            for lo, hi, amount in positions:
                tx.send(pool, v3pool.call_data("mint", DEV, lo, hi, amount), gas=1_000_000, label="mint")
            for op in ops:
                if op[0] == "swap":
                    _, zero_for_one, amount, limit, _ = op
                    tx.send(pool, v3pool.call_data("swap", DEV, zero_for_one, amount, limit), gas=SWAP_GAS, label="swap")
                else:
                    _, lo, hi, amount = op
                    tx.send(pool, v3pool.call_data("burn", lo, hi, amount), gas=1_000_000, label="burn")
            hashes = await tx.settle()
            receipts = await asyncio.gather(*(w3.eth.get_transaction_receipt(h) for h in hashes))
            c = v3pool.contract(w3, pool)
            state = await asyncio.gather(c.functions.sqrtPriceX96().call(), c.functions.liquidity().call(),
                                         c.functions.tick().call())
            assert await c.functions.maxLiquidityPerTick().call() == sim.max_liquidity_per_tick
            nets = {t: await c.functions.liquidityNet(t).call() for t in sim.liquidity_net}
            return pool, receipts, state, nets

    pool, receipts, state, nets = asyncio.run(scenario())
    swap_receipts = receipts[2 + len(positions):]
    compared = 0
    for op, receipt in zip(ops, swap_receipts):
        if op[0] != "swap":
            continue
        (log,) = [lg for lg in receipt["logs"] if lg["topics"][0].hex().removeprefix("0x") == SWAP_TOPIC]
        words = [int(log["data"].hex().removeprefix("0x")[i:i + 64], 16) for i in range(0, 320, 64)]
        got = (signed(words[0]), signed(words[1]), words[2], words[3], signed(words[4]))
        assert got == op[4], f"swap {compared} (zeroForOne={op[1]}, amount={op[2]}): chain {got} != sim {op[4]}"
        compared += 1
    assert compared == sum(op[0] == "swap" for op in ops) >= swaps * 0.9
    assert tuple(state) == (sim.sqrt_price_x96, sim.liquidity, sim.tick)
    assert nets == sim.liquidity_net
    # the chain's logs alone rebuild the pool
    tracker = V3PoolTracker(V3Pool(fee, spacing), pool)
    for receipt in receipts:
        tracker.apply_all(list(receipt["logs"]))
    t = tracker.pool
    assert (t.sqrt_price_x96, t.liquidity, t.tick) == (sim.sqrt_price_x96, sim.liquidity, sim.tick)
    assert t.liquidity_net == sim.liquidity_net and t.liquidity_gross == sim.liquidity_gross
    assert tracker.swaps == compared


def log_uniform(rng: random.Random, lo: int, hi: int) -> int:
    """An integer in [lo, hi] spread over every order of magnitude (edges included now and then)."""
    r = rng.random()
    if r < 0.05:
        return lo
    if r < 0.1:
        return hi
    bits = rng.randint(max(lo, 1).bit_length(), hi.bit_length())
    return min(hi, max(lo, rng.getrandbits(bits)))


def test_library_functions_match_the_contracts_over_their_whole_domain(start_anvil):
    """getSqrtRatioAtTick, getTickAtSqrtRatio and computeSwapStep on chain vs Python for seeded
    random inputs over their full ranges (prices from MIN to MAX, liquidity up to 2**128-1,
    amounts up to 2**250: the overflow fallbacks of SqrtPriceMath are exercised); where Python
    raises (v3-core would revert), the contract must revert too."""
    from eth_abi import decode, encode
    from eth_utils import function_signature_to_4byte_selector as selector

    from mevops.engine.v3.math import compute_swap_step, get_tick_at_sqrt_ratio

    rng = random.Random(2026)
    U128 = 2**128 - 1
    calls = []  # (fn signature, arg types, args, out types, python expectation or None)
    for _ in range(150):
        t = rng.choice((MIN_TICK, MAX_TICK, rng.randint(MIN_TICK, MAX_TICK), rng.randint(-5000, 5000)))
        calls.append(("getSqrtRatioAtTick(int24)", ["int24"], [t], ["uint160"], (get_sqrt_ratio_at_tick(t),)))
    for t in (MIN_TICK - 1, MAX_TICK + 1, -(2**23), 2**23 - 1):  # out of range: both reject
        calls.append(("getSqrtRatioAtTick(int24)", ["int24"], [t], ["uint160"], None))
    for p in (0, MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO, 2**160 - 1):
        calls.append(("getTickAtSqrtRatio(uint160)", ["uint160"], [p], ["int24"], None))
    for _ in range(150):
        p = log_uniform(rng, MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
        calls.append(("getTickAtSqrtRatio(uint160)", ["uint160"], [p], ["int24"], (get_tick_at_sqrt_ratio(p),)))
    step_types = ["uint160", "uint160", "uint128", "int256", "uint24"]
    for _ in range(500):
        cur = log_uniform(rng, MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
        target = cur + rng.choice((-1, 1)) * log_uniform(rng, 1, cur) if rng.random() < 0.7 else \
            log_uniform(rng, MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
        target = min(max(target, MIN_SQRT_RATIO), MAX_SQRT_RATIO - 1)
        liq = log_uniform(rng, 1, U128)
        remaining = rng.choice((-1, 1)) * log_uniform(rng, 1, 2**250)
        fee = rng.choice((0, 1, 100, 500, 3000, 10000, rng.randrange(1_000_000)))
        try:
            expected = compute_swap_step(cur, target, liq, remaining, fee)
        except V3MathError:
            expected = None
        calls.append(("computeSwapStep(uint160,uint160,uint128,int256,uint24)", step_types,
                      [cur, target, liq, remaining, fee], ["uint160", "uint256", "uint256", "uint256"], expected))

    overflowing = 0
    for _ in range(150):  # token0 in at high prices: amount * sqrtP overflows 256 bits (v3-core's fallback)
        cur = log_uniform(rng, 2**120, MAX_SQRT_RATIO - 1)
        liq, remaining = log_uniform(rng, 1, 2**110), log_uniform(rng, 2**100, 2**250)
        fee = rng.choice((0, 500, 3000))
        overflowing += remaining * (1_000_000 - fee) // 1_000_000 * cur >= 2**256
        try:
            expected = compute_swap_step(cur, MIN_SQRT_RATIO, liq, remaining, fee)
        except V3MathError:
            expected = None
        calls.append(("computeSwapStep(uint160,uint160,uint128,int256,uint24)", step_types,
                      [cur, MIN_SQRT_RATIO, liq, remaining, fee], ["uint160", "uint256", "uint256", "uint256"], expected))
    assert overflowing > 30

    async def scenario():
        async with connected(url) as w3:
            tx = await TxSender.open(w3, DEV)
            pool = create_address(DEV, tx.nonce)
            tx.send(None, v3pool.deploy_data(3000, 60), gas=8_000_000, label="deploy pool")
            await tx.settle()

            async def one(sig, types, args):
                data = "0x" + (selector(sig) + encode(types, args)).hex()
                try:
                    return await w3.eth.call({"to": pool, "data": data, "gas": 10_000_000})
                except Exception:  # noqa: BLE001 — a revert (ContractLogicError / execution reverted)
                    return None

            return await asyncio.gather(*(one(sig, types, args) for sig, types, args, _, _ in calls))

    url, _ = start_anvil()
    answers = asyncio.run(scenario())
    ok = reverted = 0
    for (sig, _, args, out_types, expected), answer in zip(calls, answers):
        got = None if answer is None else tuple(decode(out_types, bytes(answer)))
        assert got == expected, f"{sig}{tuple(args)}: chain {got} != python {expected}"
        ok += got is not None
        reverted += got is None
    assert ok > 900 and reverted >= 8
