"""mevops.engine.v3 math against Uniswap v3-core's published test values, plus properties.

Spec values: v3-core's TickMath, SqrtPriceMath and SwapMath test suites (test/*.spec.ts and the
TickMath snapshot). ``encode_price_sqrt(r1, r0)`` is their encodePriceSqrt: floor(sqrt(r1/r0) * 2**96).
"""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mevops.engine.v3.math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    Q96,
    U128,
    U256,
    V3MathError,
    compute_swap_step,
    get_amount0_delta,
    get_amount1_delta,
    get_next_sqrt_price_from_input,
    get_next_sqrt_price_from_output,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
    mul_div,
    mul_div_rounding_up,
)

E18 = 10**18


def encode_price_sqrt(reserve1: int, reserve0: int) -> int:
    return math.isqrt(reserve1 * 2**192 // reserve0)


# ----------------------------------------------------------------------------- TickMath: spec values

def test_tick_bounds_and_their_ratios():
    assert (MIN_TICK, MAX_TICK) == (-887272, 887272)
    assert get_sqrt_ratio_at_tick(MIN_TICK) == MIN_SQRT_RATIO == 4295128739
    assert get_sqrt_ratio_at_tick(MAX_TICK) == MAX_SQRT_RATIO == 1461446703485210103287273052203988822378723970342
    assert get_sqrt_ratio_at_tick(MIN_TICK + 1) == 4295343490
    assert get_sqrt_ratio_at_tick(MAX_TICK - 1) == 1461373636630004318706518188784493106690254656249
    assert get_sqrt_ratio_at_tick(0) == 2**96
    for bad in (MIN_TICK - 1, MAX_TICK + 1):
        with pytest.raises(V3MathError):
            get_sqrt_ratio_at_tick(bad)


@pytest.mark.parametrize(("tick", "expected"), [
    (-50, 79030349367926598376800521322), (50, 79426470787362580746886972461),
    (-100, 78833030112140176575862854579), (100, 79625275426524748796330556128),
    (-1000, 75364347830767020784054125655), (1000, 83290069058676223003182343270),
    (-50000, 6504256538020985011912221507), (50000, 965075977353221155028623082916),
    (-500000, 1101692437043807371), (500000, 5697689776495288729098254600827762987878),
    (-738203, 7409801140451), (738203, 847134979253254120489401328389043031315994541),
])
def test_sqrt_ratio_matches_v3_core_snapshot(tick, expected):
    assert get_sqrt_ratio_at_tick(tick) == expected


def test_tick_at_sqrt_ratio_at_the_boundaries():
    assert get_tick_at_sqrt_ratio(MIN_SQRT_RATIO) == MIN_TICK
    assert get_tick_at_sqrt_ratio(4295343490) == MIN_TICK + 1
    assert get_tick_at_sqrt_ratio(1461373636630004318706518188784493106690254656249) == MAX_TICK - 1
    assert get_tick_at_sqrt_ratio(MAX_SQRT_RATIO - 1) == MAX_TICK - 1
    assert get_tick_at_sqrt_ratio(2**96) == 0 and get_tick_at_sqrt_ratio(2**96 - 1) == -1
    for bad in (MIN_SQRT_RATIO - 1, MAX_SQRT_RATIO):
        with pytest.raises(V3MathError):
            get_tick_at_sqrt_ratio(bad)


def test_ratio_is_within_one_part_in_1e8_of_the_real_sqrt_price():
    # v3-core's own check: the table product is close to sqrt(1.0001**tick) (50 digits of precision)
    from decimal import Context, Decimal

    ctx = Context(prec=60)  # a local context: vyper (imported by other tests) forbids changing the global one
    for tick in (MIN_TICK, -500000, -1, 1, 12345, 500000, MAX_TICK):
        exact = ctx.multiply(ctx.sqrt(ctx.power(Decimal("1.0001"), tick)), Decimal(2**96))
        error = ctx.divide(abs(ctx.subtract(Decimal(get_sqrt_ratio_at_tick(tick)), exact)), exact)
        assert error < Decimal("1e-8")


# ------------------------------------------------------------------------ SqrtPriceMath: spec values

def test_next_sqrt_price_from_input_spec_values():
    one = encode_price_sqrt(1, 1)
    assert get_next_sqrt_price_from_input(one, E18, E18 // 10, False) == 87150978765690771352898345369
    assert get_next_sqrt_price_from_input(one, E18, E18 // 10, True) == 72025602285694852357767227579
    assert get_next_sqrt_price_from_input(one, 10 * E18, 2**100, True) == 624999999995069620
    assert get_next_sqrt_price_from_input(one, 1, U256 // 2, True) == 1
    assert get_next_sqrt_price_from_input(1, 1, 2**255, True) == 1  # cannot underflow the price
    assert get_next_sqrt_price_from_input(one, E18 // 10, 0, True) == one
    assert get_next_sqrt_price_from_input(one, E18 // 10, 0, False) == one
    with pytest.raises(V3MathError):
        get_next_sqrt_price_from_input(2**160 - 1, 1024, 1024, False)  # overflows uint160
    with pytest.raises(V3MathError):
        get_next_sqrt_price_from_input(0, 0, E18 // 10, False)
    with pytest.raises(V3MathError):
        get_next_sqrt_price_from_input(1, 0, E18 // 10, True)
    # "sqrtP * sqrtQ overflows"
    sqrt_p, liquidity = 1025574284609383690408304870162715216695788925244, 50015962439936049619261659728067971248
    sqrt_q = get_next_sqrt_price_from_input(sqrt_p, liquidity, 406, True)
    assert sqrt_q == 1025574284609383582644711336373707553698163132913
    assert get_amount0_delta(sqrt_p, sqrt_q, liquidity, True) == 406


def test_next_sqrt_price_from_output_spec_values():
    one = encode_price_sqrt(1, 1)
    assert get_next_sqrt_price_from_output(one, E18, E18 // 10, False) == 88031291682515930659493278152
    assert get_next_sqrt_price_from_output(one, E18, E18 // 10, True) == 71305346262837903834189555302
    price = 20282409603651670423947251286016
    # token1's virtual reserves are 262144 and token0's 4: taking all or more of either reverts
    for amount, zero_for_one in ((4, False), (5, False), (262144, True), (262145, True)):
        with pytest.raises(V3MathError):
            get_next_sqrt_price_from_output(price, 1024, amount, zero_for_one)
    for zero_for_one in (True, False):
        with pytest.raises(V3MathError):
            get_next_sqrt_price_from_output(one, 1, U256, zero_for_one)


def test_amount_deltas_spec_values():
    one, p121 = encode_price_sqrt(1, 1), encode_price_sqrt(121, 100)
    assert get_amount0_delta(p121, one, E18, True) == 90909090909090910
    assert get_amount0_delta(p121, one, E18, False) == 90909090909090909
    assert get_amount1_delta(one, p121, E18, True) == 100000000000000000
    assert get_amount1_delta(one, p121, E18, False) == 99999999999999999
    assert get_amount0_delta(encode_price_sqrt(2, 1), one, 0, True) == 0
    assert get_amount1_delta(one, encode_price_sqrt(2, 1), 0, True) == 0
    hi, lo = encode_price_sqrt(2**96, 1), encode_price_sqrt(2**90, 1)  # products overflow 256 bits
    assert get_amount0_delta(hi, lo, E18, True) == get_amount0_delta(hi, lo, E18, False) + 1


# ----------------------------------------------------------------------------- SwapMath: spec values

@pytest.mark.parametrize(("args", "expected"), [
    # (sqrtP, target, liquidity, amountRemaining, fee) -> (sqrtQ, amountIn, amountOut, feeAmount)
    ((encode_price_sqrt(1, 1), encode_price_sqrt(101, 100), 2 * E18, E18, 600),
     (encode_price_sqrt(101, 100), 9975124224178055, 9925619580021728, 5988667735148)),
    ((encode_price_sqrt(1, 1), encode_price_sqrt(101, 100), 2 * E18, -E18, 600),
     (encode_price_sqrt(101, 100), 9975124224178055, 9925619580021728, 5988667735148)),
    ((417332158212080721273783715441582, 1452870262520218020823638996, 159344665391607089467575320103, -1, 1),
     (417332158212080721273783715441581, 1, 1, 1)),
    ((2, 1, 1, 3915081100057732413702495386755767, 1),
     (1, 39614081257132168796771975168, 0, 39614120871253040049813)),
    ((2413, 79887613182836312, 1985041575832132834610021537970, 10, 1872), (2413, 0, 0, 10)),
    ((20282409603651670423947251286016, 20282409603651670423947251286016 * 11 // 10, 1024, -4, 3000),
     (20282409603651670423947251286016 * 11 // 10, 26215, 0, 79)),
    ((20282409603651670423947251286016, 20282409603651670423947251286016 * 9 // 10, 1024, -263000, 3000),
     (20282409603651670423947251286016 * 9 // 10, 1, 26214, 1)),
])
def test_compute_swap_step_spec_values(args, expected):
    assert compute_swap_step(*args) == expected


def test_compute_swap_step_fully_spent_and_fully_received():
    one = encode_price_sqrt(1, 1)
    target = encode_price_sqrt(1000, 100)
    sqrt_q, amount_in, amount_out, fee = compute_swap_step(one, target, 2 * E18, E18, 600)
    assert (amount_in, fee, amount_out) == (999400000000000000, 600000000000000, 666399946655997866)
    assert sqrt_q < target and sqrt_q == get_next_sqrt_price_from_input(one, 2 * E18, E18 - fee, False)
    target = encode_price_sqrt(10000, 100)
    sqrt_q, amount_in, amount_out, fee = compute_swap_step(one, target, 2 * E18, -E18, 600)
    assert (amount_in, fee, amount_out) == (2000000000000000000, 1200720432259356, E18)
    assert sqrt_q < target and sqrt_q == get_next_sqrt_price_from_output(one, 2 * E18, E18, False)


# ------------------------------------------------------------------------------------- properties

ticks = st.integers(MIN_TICK, MAX_TICK)
prices = st.integers(MIN_SQRT_RATIO, MAX_SQRT_RATIO - 1)
uint256 = st.integers(0, U256)


@settings(max_examples=300, deadline=None)
@given(ticks)
def test_ratio_is_strictly_increasing_and_inverts(tick):
    ratio = get_sqrt_ratio_at_tick(tick)
    if tick < MAX_TICK:
        assert ratio < get_sqrt_ratio_at_tick(tick + 1)
        assert get_tick_at_sqrt_ratio(ratio) == tick
    if tick > MIN_TICK:
        assert get_tick_at_sqrt_ratio(ratio - 1) == tick - 1
    assert get_sqrt_ratio_at_tick(-tick) * ratio // 2**96 in range(2**96 - 2**64, 2**96 + 2**64)


@settings(max_examples=300, deadline=None)
@given(prices)
def test_tick_at_sqrt_ratio_is_the_greatest_tick_not_above(price):
    tick = get_tick_at_sqrt_ratio(price)
    assert get_sqrt_ratio_at_tick(tick) <= price < get_sqrt_ratio_at_tick(tick + 1)


@settings(max_examples=300, deadline=None)
@given(uint256, uint256, st.integers(1, U256))
def test_mul_div_is_floor_and_ceiling_of_the_full_product(a, b, d):
    exact = Fraction(a * b, d)
    if exact > U256:
        with pytest.raises(V3MathError):
            mul_div(a, b, d)
        return
    assert mul_div(a, b, d) == math.floor(exact)
    if math.ceil(exact) > U256:
        with pytest.raises(V3MathError):
            mul_div_rounding_up(a, b, d)
    else:
        assert mul_div_rounding_up(a, b, d) == math.ceil(exact)


@settings(max_examples=300, deadline=None)
@given(prices, prices, st.integers(0, U128))
def test_amount_deltas_bracket_the_exact_amounts(pa, pb, liquidity):
    lo, hi = min(pa, pb), max(pa, pb)
    exact0 = Fraction(liquidity * Q96 * (hi - lo), lo * hi)
    exact1 = Fraction(liquidity * (hi - lo), Q96)
    up0, down0 = get_amount0_delta(pa, pb, liquidity, True), get_amount0_delta(pa, pb, liquidity, False)
    up1, down1 = get_amount1_delta(pa, pb, liquidity, True), get_amount1_delta(pa, pb, liquidity, False)
    assert down0 <= exact0 <= up0 and up0 - down0 <= 1  # v3-core's two-stage rounding: within 1
    assert down1 == math.floor(exact1) and up1 == math.ceil(exact1)


@settings(max_examples=400, deadline=None)
@given(prices, prices, st.integers(1, U128), st.integers(-(2**200), 2**200).filter(bool),
       st.integers(0, 999_999))
def test_swap_step_rounds_in_the_pools_favour(current, target, liquidity, remaining, fee):
    try:
        sqrt_next, amount_in, amount_out, fee_amount = compute_swap_step(current, target, liquidity, remaining, fee)
    except V3MathError:
        return  # v3-core would revert on these inputs too (a price or amount out of range)
    zero_for_one = current >= target
    lo, hi = sorted((current, sqrt_next))
    assert (target <= sqrt_next <= current) if zero_for_one else (current <= sqrt_next <= target)
    if remaining > 0:
        assert amount_in + fee_amount <= remaining
    else:
        assert amount_out <= -remaining
    if lo == hi:
        assert amount_in == 0
        return
    in_exact = (Fraction(liquidity * Q96 * (hi - lo), lo * hi) if zero_for_one
                else Fraction(liquidity * (hi - lo), Q96))
    out_exact = (Fraction(liquidity * (hi - lo), Q96) if zero_for_one
                 else Fraction(liquidity * Q96 * (hi - lo), lo * hi))
    assert amount_in >= in_exact  # paid in: rounded up
    assert amount_out <= out_exact  # paid out: rounded down
    assert fee_amount * (1_000_000 - fee) >= amount_in * fee or (remaining > 0 and sqrt_next != target)
