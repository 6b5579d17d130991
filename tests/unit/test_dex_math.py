"""Exact V2 swap math and the closed-form cycle sizing, against Uniswap's library and brute force."""

from __future__ import annotations

from fractions import Fraction

import pytest
from hypothesis import assume, example, given, settings
from hypothesis import strategies as st

from mevops.engine.dex import (
    SYNC_TOPIC,
    Pool,
    PoolState,
    cycle_curve,
    decode_sync_data,
    get_amount_in,
    get_amount_out,
    hop_curve,
    optimal_input,
    simulate,
)

reserves = st.integers(min_value=1, max_value=2**112 - 1)
amounts = st.integers(min_value=1, max_value=2**100)
fees = st.sampled_from([0, 1, 5, 20, 25, 30, 100, 300, 9999])


def uniswap_get_amount_out(amount_in: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountOut, transcribed (0.3% as 997/1000)."""
    amount_in_with_fee = amount_in * 997
    return amount_in_with_fee * reserve_out // (reserve_in * 1000 + amount_in_with_fee)


def uniswap_get_amount_in(amount_out: int, reserve_in: int, reserve_out: int) -> int:
    """UniswapV2Library.getAmountIn, transcribed."""
    return reserve_in * amount_out * 1000 // ((reserve_out - amount_out) * 997) + 1


# -- single hop ------------------------------------------------------------------------------


def test_uniswap_rounding_examples():
    assert get_amount_out(2, 100, 100) == 1
    assert get_amount_in(1, 100, 100) == 2
    assert get_amount_out(1, 100, 100) == 0  # 1 wei in buys nothing: floor
    assert get_amount_out(10**18, 10**21, 3 * 10**24) == uniswap_get_amount_out(10**18, 10**21, 3 * 10**24)


@pytest.mark.parametrize(
    ("call", "message"),
    [
        (lambda: get_amount_out(0, 100, 100), "INSUFFICIENT_INPUT_AMOUNT"),
        (lambda: get_amount_out(-1, 100, 100), "INSUFFICIENT_INPUT_AMOUNT"),
        (lambda: get_amount_out(1, 0, 100), "INSUFFICIENT_LIQUIDITY"),
        (lambda: get_amount_out(1, 100, 0), "INSUFFICIENT_LIQUIDITY"),
        (lambda: get_amount_in(0, 100, 100), "INSUFFICIENT_OUTPUT_AMOUNT"),
        (lambda: get_amount_in(100, 100, 100), "INSUFFICIENT_LIQUIDITY"),
        (lambda: get_amount_in(1, 0, 100), "INSUFFICIENT_LIQUIDITY"),
        (lambda: get_amount_out(1, 100, 100, fee_bps=10_000), "fee_bps"),
        (lambda: get_amount_in(1, 100, 100, fee_bps=-1), "fee_bps"),
    ],
)
def test_errors_as_in_uniswap(call, message):
    with pytest.raises(ValueError, match=message):
        call()


@settings(max_examples=300, deadline=None)
@given(amounts, reserves, reserves)
def test_fee_30_equals_uniswap_library(amount_in, reserve_in, reserve_out):
    assert get_amount_out(amount_in, reserve_in, reserve_out) == uniswap_get_amount_out(amount_in, reserve_in, reserve_out)
    amount_out = min(amount_in, reserve_out - 1)
    if amount_out > 0:
        assert get_amount_in(amount_out, reserve_in, reserve_out) == uniswap_get_amount_in(amount_out, reserve_in, reserve_out)


@settings(max_examples=300, deadline=None)
@given(amounts, amounts, reserves, reserves, fees)
def test_out_below_reserve_and_monotonic(x1, x2, reserve_in, reserve_out, fee):
    lo, hi = sorted((x1, x2))
    out_lo, out_hi = get_amount_out(lo, reserve_in, reserve_out, fee), get_amount_out(hi, reserve_in, reserve_out, fee)
    assert 0 <= out_lo <= out_hi < reserve_out
    assert out_hi <= hi * reserve_out // reserve_in  # never better than the spot price


@settings(max_examples=300, deadline=None)
@given(amounts, reserves, reserves, fees)
@example(100, 100, 200, 0)  # exact division: get_amount_in returns x + 1
def test_amount_in_and_out_are_near_inverses(x, reserve_in, reserve_out, fee):
    y = get_amount_out(x, reserve_in, reserve_out, fee)
    assume(y > 0)
    needed = get_amount_in(y, reserve_in, reserve_out, fee)
    assert needed <= x + 1  # x buys y, so the quote is at most Uniswap's +1 above it
    assert get_amount_out(needed, reserve_in, reserve_out, fee) >= y  # the quote always suffices
    if needed > 2:
        assert get_amount_out(needed - 2, reserve_in, reserve_out, fee) < y  # and is at most 1 too generous


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 2**80), st.integers(1, 2**90), st.integers(1, 2**90), fees)
def test_amount_out_suffices_for_quoted_input(y, reserve_in, reserve_out, fee):
    assume(y < reserve_out)
    assert get_amount_out(get_amount_in(y, reserve_in, reserve_out, fee), reserve_in, reserve_out, fee) >= y


# -- composition -----------------------------------------------------------------------------

hop = st.tuples(st.integers(1, 10**30), st.integers(1, 10**30), fees)


@settings(max_examples=200, deadline=None)
@given(st.lists(hop, min_size=1, max_size=3), st.integers(1, 10**30))
def test_composed_curve_is_the_exact_real_chain(hops, x):
    value = Fraction(x)
    for r_in, r_out, fee in hops:
        g = Fraction(10_000 - fee, 10_000)
        value = g * r_out * value / (r_in + g * value)
    a, b, c = cycle_curve(hops)
    assert Fraction(a * x, b + c * x) == value
    assert cycle_curve(hops[:1]) == hop_curve(*hops[0])


# -- optimal input vs brute force ------------------------------------------------------------


def brute_force(hops, cap=None):
    """Best (profit, smallest input) over every input that can matter."""
    a, b, c = cycle_curve(hops)
    top = (a - b) // c + 2 if a > b else 2  # real profit is negative beyond (a - b)/c
    if cap is not None:
        top = min(top, cap)
    best = None
    for x in range(1, top + 1):
        profit = simulate(x, hops) - x
        if best is None or profit > best[0]:
            best = (profit, x)
    return best


small_hop = st.tuples(st.integers(50, 1500), st.integers(50, 1500), st.sampled_from([0, 5, 30, 100]))
small_cycle = st.lists(small_hop, min_size=2, max_size=3)


@settings(max_examples=200, deadline=None)
@given(small_cycle, st.one_of(st.none(), st.integers(1, 400)))
def test_optimum_equals_brute_force_on_small_cycles(hops, cap):
    best = brute_force(hops, cap)
    exact = optimal_input(hops, cap, exhaustive_limit=10**6)
    if exact is None:  # proven: a <= b, no input profits
        assert best is None or best[0] <= 0
        return
    assert exact.gap == 0
    assert (exact.profit, exact.amount_in) == best
    assert exact.amount_out == simulate(exact.amount_in, hops)
    assert cap is None or exact.amount_in <= cap
    quick = optimal_input(hops, cap, exhaustive_limit=0)  # neighbourhood of x* only
    assert quick.profit <= best[0] <= quick.profit + quick.gap
    assert quick.amount_out == simulate(quick.amount_in, hops)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(st.integers(10**15, 10**27), st.integers(10**15, 10**27), fees), min_size=2, max_size=3))
@example([(10**15, 10**15, 0), (10**15, 10**15 + 1, 0)])  # a real edge below 1 wei: proven -1, gap 0
def test_large_reserves_gap_is_an_honest_bound(hops):
    found = optimal_input(hops)
    if found is None:
        return
    a, b, c = cycle_curve(hops)
    real_best = Fraction(a * found.amount_in, b + c * found.amount_in) - found.amount_in
    assert found.profit <= real_best  # floors only lose
    if found.gap > 0:  # not proven optimal: the gap must then cover the real optimum (√a − √b)²/c
        assert found.profit + found.gap >= (a + b - 2 * _isqrt_ceil(a * b)) // c
    for x in (found.amount_in - 7, found.amount_in + 7, found.amount_in * 2, found.amount_in // 2):
        if x >= 1:
            assert simulate(x, hops) - x <= found.profit + found.gap


def _isqrt_ceil(n: int) -> int:
    from math import isqrt

    r = isqrt(n)
    return r if r * r == n else r + 1


def test_two_pool_example_and_cap():
    hops = [(1000 * 10**18, 3_030_000 * 10**6, 30), (3_000_000 * 10**6, 1000 * 10**18, 30)]  # WETH→USDC→WETH
    found = optimal_input(hops)
    assert found.profit > 0 and found.amount_out == simulate(found.amount_in, hops)
    capped = optimal_input(hops, max_input=10**17)
    assert capped.amount_in <= 10**17 < found.amount_in
    assert 0 < capped.profit < found.profit
    assert optimal_input([(1000, 1000, 30), (1000, 1000, 30)]) is None  # no edge: a <= b
    assert optimal_input(hops, max_input=0) is None


# -- Sync logs -------------------------------------------------------------------------------


def test_sync_log_updates_pool_state():
    state = PoolState([Pool("0xAbC0000000000000000000000000000000000001", "WETH", "USDC", 1, 1)])
    data = "0x" + (5 * 10**18).to_bytes(32, "big").hex() + (15_000 * 10**6).to_bytes(32, "big").hex()
    assert decode_sync_data(data) == (5 * 10**18, 15_000 * 10**6)
    pool = state.apply_log({"address": "0xabc0000000000000000000000000000000000001", "topics": [SYNC_TOPIC], "data": data})
    assert pool is not None and (pool.reserve0, pool.reserve1) == (5 * 10**18, 15_000 * 10**6)
    assert state.apply_log({"address": pool.address, "topics": ["0x" + "00" * 32], "data": data}) is None
    assert state.on_sync("0x" + "99" * 20, 1, 1) is None  # not ours: ignored
    with pytest.raises(ValueError):
        state.on_sync(pool.address, 2**112, 1)
    with pytest.raises(ValueError):
        decode_sync_data("0x1234")
