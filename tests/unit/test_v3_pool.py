"""The V3 pool simulator: v3-core's pool spec values, tick bitmap search, swap properties, tracker."""

from __future__ import annotations

import math
import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from mevops.engine.v3.math import MAX_TICK, MIN_TICK, V3MathError, get_sqrt_ratio_at_tick
from mevops.engine.v3.pool import V3Pool
from mevops.engine.v3.tracker import BURN_TOPIC, MINT_TOPIC, SWAP_TOPIC, V3PoolTracker


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    return math.isqrt(reserve1 * 2**192 // reserve0)


def v3_core_pool() -> V3Pool:
    """v3-core's UniswapV3Pool.spec "mint" fixture: fee 3000, spacing 60, price 1:10, 3161 full range."""
    pool = V3Pool(3000, 60)
    pool.initialize(encode_price_sqrt(1, 10))
    assert pool.mint(-887220, 887220, 3161) == (9996, 1000)
    return pool


def test_topics_are_uniswap_v3s():
    from eth_utils import keccak

    from mevops.contracts import v3pool
    from mevops.engine.v3.tracker import INITIALIZE_TOPIC

    assert SWAP_TOPIC == "c42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"  # seen on mainnet
    for topic, signature in ((SWAP_TOPIC, v3pool.SWAP_EVENT), (MINT_TOPIC, v3pool.MINT_EVENT),
                             (BURN_TOPIC, v3pool.BURN_EVENT), (INITIALIZE_TOPIC, v3pool.INITIALIZE_EVENT)):
        assert keccak(text=signature).hex().removeprefix("0x") == topic


@pytest.mark.parametrize(("lower", "upper", "liquidity", "amounts"), [
    (-22980, 0, 10000, (21549, 0)),  # above the price: token0 only
    (887220 - 60, 887220, 2**102, (828011525, 0)),  # max tick with max leverage
    (-22980, 887220, 10000, (31549, 0)),
])
def test_mint_amounts_match_v3_core(lower, upper, liquidity, amounts):
    assert v3_core_pool().mint(lower, upper, liquidity) == amounts


def test_burn_rounds_down_after_mint_rounds_up():
    pool = v3_core_pool()
    paid = pool.mint(-240, 0, 10000)
    assert pool.burn(-240, 0, 10000) == (120, 0) and paid[0] == 121
    assert -240 not in pool.liquidity_gross and 0 not in pool.liquidity_net


def test_liquidity_net_and_gross_and_in_range_liquidity():
    pool = v3_core_pool()
    pool.mint(-240, 0, 100)
    pool.mint(-23100, -22800, 50)  # contains the current tick (-23028)
    assert pool.liquidity_gross[-240] == 100 and pool.liquidity_net[0] == -100
    assert pool.liquidity == 3161 + 50
    with pytest.raises(V3MathError):
        pool.mint(-241, 0, 1)  # not a multiple of the tick spacing
    with pytest.raises(V3MathError):
        pool.mint(0, -240, 1)


def brute_next(ticks: set[int], tick: int, spacing: int, lte: bool) -> tuple[int, bool]:
    """TickBitmap.nextInitializedTickWithinOneWord by its definition, one compressed tick at a time."""
    compressed = math.floor(tick / spacing)
    if lte:
        word = compressed >> 8
        c = compressed
        while c >> 8 == word:
            if c * spacing in ticks:
                return c * spacing, True
            c -= 1
        return (c + 1) * spacing, False
    c = compressed + 1
    word = c >> 8
    while c >> 8 == word:
        if c * spacing in ticks:
            return c * spacing, True
        c += 1
    return (c - 1) * spacing, False


@settings(max_examples=200, deadline=None)
@given(st.sampled_from([1, 10, 60, 200]), st.lists(st.integers(-3000, 3000), max_size=12),
       st.integers(-300000, 300000), st.booleans())
def test_next_initialized_tick_is_v3_cores_within_one_word(spacing, compressed_ticks, tick, lte):
    pool = V3Pool(3000, spacing)
    pool.initialize(get_sqrt_ratio_at_tick(0))
    for c in sorted(set(compressed_ticks)):
        pool._update_tick(c * spacing, 1, False)
    assert pool.next_initialized_tick_within_one_word(tick, lte) == brute_next(
        {c * spacing for c in compressed_ticks}, tick, spacing, lte)


def random_pool(seed: int) -> V3Pool:
    rng = random.Random(seed)
    pool = V3Pool(rng.choice((100, 500, 3000, 10000)), rng.choice((1, 10, 60)))
    pool.initialize(get_sqrt_ratio_at_tick(rng.randrange(-1000, 1000)) + rng.randrange(10**15))
    s = pool.tick_spacing
    pool.mint((MIN_TICK // s + 1) * s, MAX_TICK // s * s, 10**19)
    for _ in range(6):
        lo = rng.randrange(-5000, 5000) // s * s
        pool.mint(lo, lo + rng.randrange(1, 2000 // s + 2) * s, rng.randrange(10**17, 10**21))
    return pool


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6), st.booleans(), st.integers(1, 10**21))
def test_exact_in_spends_everything_and_round_trips_lose(seed, zero_for_one, amount):
    pool = random_pool(seed)
    a0, a1 = pool.swap(zero_for_one, amount)
    paid, got = (a0, -a1) if zero_for_one else (a1, -a0)
    assert paid == amount and got >= 0  # no price limit hit: the whole input is used
    back = pool.swap(not zero_for_one, got) if got else (0, 0)
    returned = -(back[0] if not zero_for_one else back[1]) if got else 0
    assert returned <= amount  # fees and rounding: a round trip never profits


@settings(max_examples=150, deadline=None)
@given(st.integers(0, 10**6), st.booleans(), st.integers(1, 10**19))
def test_exact_out_delivers_exactly_and_costs_no_less_than_exact_in(seed, zero_for_one, want):
    pool = random_pool(seed)
    a0, a1 = pool.swap(zero_for_one, -want, commit=False)
    paid, got = (a0, -a1) if zero_for_one else (a1, -a0)
    assert got == want
    # paying the same amount as an exact input gets at least what was asked for
    assert pool.quote_exact_in(zero_for_one, paid) >= want
    assert pool.quote_exact_in(zero_for_one, paid - 1) <= want


@settings(max_examples=100, deadline=None)
@given(st.integers(0, 10**6), st.booleans(), st.integers(1, 10**20), st.integers(1, 10**20))
def test_output_is_monotone_in_input(seed, zero_for_one, x, y):
    pool = random_pool(seed)
    lo, hi = sorted((x, y))
    assert pool.quote_exact_in(zero_for_one, lo) <= pool.quote_exact_in(zero_for_one, hi)


def test_swap_crosses_ticks_and_updates_liquidity_and_limit_stops_it():
    pool = V3Pool(3000, 60)
    pool.initialize(get_sqrt_ratio_at_tick(0))
    pool.mint(-600, 600, 10**18)
    pool.mint(-1200, -600, 2 * 10**18)
    pool.mint(-887220, 887220, 10**15)
    assert pool.liquidity == 10**18 + 10**15
    pool.swap(True, 6 * 10**16)
    assert -1000 < pool.tick < -600 and pool.liquidity == 2 * 10**18 + 10**15
    limit = get_sqrt_ratio_at_tick(-1000)
    a0, _ = pool.swap(True, 10**30, limit)
    assert pool.sqrt_price_x96 == limit and pool.tick == -1000 and 0 < a0 < 10**30
    pool.swap(False, 10**30, get_sqrt_ratio_at_tick(700))
    assert pool.liquidity == 10**15 and pool.tick == 700
    with pytest.raises(V3MathError):
        pool.swap(False, 1, get_sqrt_ratio_at_tick(700))  # limit at the price
    with pytest.raises(V3MathError):
        pool.swap(True, 0)


def encode_log(topic: str, indexed: list[int], data_words: list[int]) -> dict:
    def word(x: int) -> str:
        return "0x" + (x % 2**256).to_bytes(32, "big").hex()

    return {"address": "0x00000000000000000000000000000000000000aa",
            "topics": ["0x" + topic] + [word(i) for i in indexed],
            "data": "0x" + "".join(word(w)[2:] for w in data_words)}


def test_tracker_rebuilds_the_pool_from_logs():
    sim = V3Pool(500, 10)
    sim.initialize(get_sqrt_ratio_at_tick(5))
    tracked = V3PoolTracker(V3Pool(500, 10), "0x00000000000000000000000000000000000000AA")
    tracked.pool.initialize(get_sqrt_ratio_at_tick(5))
    logs = []
    for lo, hi, amount in ((-100, 100, 10**18), (-1000, -50, 5 * 10**17), (20, 400, 3 * 10**17)):
        a0, a1 = sim.mint(lo, hi, amount)
        logs.append(encode_log(MINT_TOPIC, [0xBEEF, lo, hi], [0xBEEF, amount, a0, a1]))
    a0, a1 = sim.burn(-1000, -50, 10**17)
    logs.append(encode_log(BURN_TOPIC, [0xBEEF, -1000, -50], [10**17, a0, a1]))
    for zero_for_one, amount in ((True, 3 * 10**16), (False, 10**17), (True, -10**15)):
        a0, a1 = sim.swap(zero_for_one, amount)
        logs.append(encode_log(SWAP_TOPIC, [1, 2], [a0, a1, sim.sqrt_price_x96, sim.liquidity, sim.tick]))
    other = dict(logs[-1], address="0x00000000000000000000000000000000000000bb")
    assert tracked.apply(other) is None
    assert tracked.apply_all(logs) == len(logs)
    t = tracked.pool
    assert (t.sqrt_price_x96, t.tick, t.liquidity) == (sim.sqrt_price_x96, sim.tick, sim.liquidity)
    assert t.liquidity_net == sim.liquidity_net and t.liquidity_gross == sim.liquidity_gross
    # and the tracked pool quotes the next swap exactly as the simulator does
    assert t.swap(True, 10**16) == sim.swap(True, 10**16)


@pytest.mark.parametrize(("spacing", "expected"), [
    (10, 1917569901783203986719870431555990), (60, 11505743598341114571880798222544994),
    (200, 38350317471085141830651933667504588), (887272, (2**128 - 1) // 3),
    (2302, 441351967472034323558203122479595605),
])
def test_max_liquidity_per_tick_is_v3_cores(spacing, expected):
    pool = V3Pool(3000, spacing)
    assert pool.max_liquidity_per_tick == expected
    if spacing == 60:
        pool.initialize(get_sqrt_ratio_at_tick(0))
        pool.mint(-60, 60, expected)
        with pytest.raises(V3MathError):
            pool.mint(-60, 120, 1)  # tick -60 would exceed its maximum
