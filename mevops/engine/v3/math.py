"""Exact integer Uniswap V3 math: TickMath, FullMath, SqrtPriceMath and SwapMath.

Every function returns what the v3-core library of the same name returns for the same inputs
(uint256 semantics: results that would overflow, or inputs the Solidity code rejects, raise
``V3MathError`` instead of returning a value). Python integers are unbounded, so the explicit
overflow checks below are the places where v3-core's choice of formula depends on whether an
intermediate product fits in 256 bits; those branches round differently and are kept.

Specification followed (Uniswap v3-core, libraries/*.sol, as documented there):
- sqrt prices are Q64.96: sqrtPriceX96 = sqrt(token1/token0) * 2**96;
- ``get_sqrt_ratio_at_tick`` is v3-core's table product (the 20 Q128 factors below are
  1/sqrt(1.0001)**(2**i) as published in TickMath.sol), rounded *up* from Q128 to Q96;
- ``get_tick_at_sqrt_ratio`` is defined by the spec: the greatest tick whose ratio is <= the
  input (MIN_SQRT_RATIO <= input < MAX_SQRT_RATIO); here an estimate corrected by exact checks;
- amounts a trader pays are rounded up, amounts a trader receives are rounded down.
"""

from __future__ import annotations

import math
from functools import lru_cache

MIN_TICK = -887272
MAX_TICK = 887272
MIN_SQRT_RATIO = 4295128739
MAX_SQRT_RATIO = 1461446703485210103287273052203988822378723970342
Q96 = 1 << 96
Q128 = 1 << 128
U128 = (1 << 128) - 1
U160 = (1 << 160) - 1
U256 = (1 << 256) - 1
FEE_DENOMINATOR = 1_000_000  # fees are in hundredths of a basis point (3000 == 0.30%)

# 1/sqrt(1.0001)**(2**i) in Q128 for i = 0..19, exactly the factors published in v3-core's TickMath.
_TICK_FACTORS = (
    0xFFFCB933BD6FAD37AA2D162D1A594001, 0xFFF97272373D413259A46990580E213A,
    0xFFF2E50F5F656932EF12357CF3C7FDCC, 0xFFE5CACA7E10E4E61C3624EAA0941CD0,
    0xFFCB9843D60F6159C9DB58835C926644, 0xFF973B41FA98C081472E6896DFB254C0,
    0xFF2EA16466C96A3843EC78B326B52861, 0xFE5DEE046A99A2A811C461F1969C3053,
    0xFCBE86C7900A88AEDCFFC83B479AA3A4, 0xF987A7253AC413176F2B074CF7815E54,
    0xF3392B0822B70005940C7A398E4B70F3, 0xE7159475A2C29B7443B29C7FA6E889D9,
    0xD097F3BDFD2022B8845AD8F792AA5825, 0xA9F746462D870FDF8A65DC1F90E061E5,
    0x70D869A156D2A1B890BB3DF62BAF32F7, 0x31BE135F97D08FD981231505542FCFA6,
    0x9AA508B5B7A84E1C677DE54F3E99BC9, 0x5D6AF8DEDB81196699C329225EE604,
    0x2216E584F5FA1EA926041BEDFE98, 0x48A170391F7DC42444E8FA2,
)


class V3MathError(ArithmeticError):
    """An input v3-core rejects (it would revert) or a result that does not fit its type."""


# ---------------------------------------------------------------------------------------- FullMath

def mul_div(a: int, b: int, denominator: int) -> int:
    """floor(a*b/denominator) with a full-precision product; reverts if denominator == 0 or the
    result does not fit in uint256."""
    if denominator <= 0:
        raise V3MathError("mulDiv: zero denominator")
    result = a * b // denominator
    if result > U256:
        raise V3MathError("mulDiv: overflow")
    return result


def mul_div_rounding_up(a: int, b: int, denominator: int) -> int:
    """ceil(a*b/denominator); reverts where mulDiv does or when the rounded result overflows."""
    if denominator <= 0:
        raise V3MathError("mulDiv: zero denominator")
    result = -(-(a * b) // denominator)
    if result > U256:
        raise V3MathError("mulDivRoundingUp: overflow")
    return result


def div_rounding_up(x: int, y: int) -> int:
    """UnsafeMath.divRoundingUp: ceil(x/y) (y == 0 is an error here; EVM division gives 0)."""
    if y <= 0:
        raise V3MathError("divRoundingUp: zero denominator")
    return -(-x // y)


# ---------------------------------------------------------------------------------------- TickMath

@lru_cache(maxsize=1 << 16)  # swaps revisit the same initialized ticks; a quarter of swap time uncached
def get_sqrt_ratio_at_tick(tick: int) -> int:
    """sqrt(1.0001**tick) * 2**96 as v3-core computes it (Q64.96, rounded up from Q128)."""
    abs_tick = -tick if tick < 0 else tick
    if abs_tick > MAX_TICK:
        raise V3MathError("T")
    ratio = Q128
    bit = 0
    while abs_tick:
        if abs_tick & 1:
            ratio = (ratio * _TICK_FACTORS[bit]) >> 128
        abs_tick >>= 1
        bit += 1
    if tick > 0:
        ratio = U256 // ratio
    return (ratio >> 32) + (1 if ratio & 0xFFFFFFFF else 0)


_LOG_SQRT_BASE = math.log(1.0001) / 2


def get_tick_at_sqrt_ratio(sqrt_price_x96: int) -> int:
    """The greatest tick whose sqrt ratio is <= ``sqrt_price_x96`` (v3-core's definition)."""
    if not MIN_SQRT_RATIO <= sqrt_price_x96 < MAX_SQRT_RATIO:
        raise V3MathError("R")
    # log of the Q64.96 value without float overflow: log(x) - 96*log(2)
    estimate = (math.log(sqrt_price_x96) - 96 * math.log(2)) / _LOG_SQRT_BASE
    tick = max(MIN_TICK, min(MAX_TICK - 1, math.floor(estimate)))
    while tick > MIN_TICK and get_sqrt_ratio_at_tick(tick) > sqrt_price_x96:
        tick -= 1
    while tick < MAX_TICK and get_sqrt_ratio_at_tick(tick + 1) <= sqrt_price_x96:
        tick += 1
    return tick


# ----------------------------------------------------------------------------------- SqrtPriceMath

def _to_uint160(x: int) -> int:
    if x < 0 or x > U160:
        raise V3MathError("uint160 overflow")
    return x


def get_next_sqrt_price_from_amount0_rounding_up(sqrt_p: int, liquidity: int, amount: int, add: bool) -> int:
    """Price after adding (``add``) or removing ``amount`` of token0 at ``liquidity``; rounds up
    so the price moves less when token0 is paid in and more when it is taken out."""
    if amount == 0:
        return sqrt_p
    numerator1 = liquidity << 96
    product = amount * sqrt_p
    if add:
        if product <= U256 and numerator1 + product <= U256:
            return mul_div_rounding_up(numerator1, sqrt_p, numerator1 + product)
        # v3-core's fallback when amount*sqrtP (or the sum) overflows: a different rounding
        return _to_uint160(div_rounding_up(numerator1, numerator1 // sqrt_p + amount))
    if product > U256 or numerator1 <= product:
        raise V3MathError("amount0 out exceeds the reserves in range")
    return _to_uint160(mul_div_rounding_up(numerator1, sqrt_p, numerator1 - product))


def get_next_sqrt_price_from_amount1_rounding_down(sqrt_p: int, liquidity: int, amount: int, add: bool) -> int:
    """Price after adding or removing ``amount`` of token1; rounds down (both directions)."""
    if add:
        if amount <= U160:
            quotient = (amount << 96) // liquidity
        else:
            quotient = mul_div(amount, Q96, liquidity)
        return _to_uint160(sqrt_p + quotient)
    if amount <= U160:
        quotient = div_rounding_up(amount << 96, liquidity)
    else:
        quotient = mul_div_rounding_up(amount, Q96, liquidity)
    if sqrt_p <= quotient:
        raise V3MathError("amount1 out exceeds the reserves in range")
    return sqrt_p - quotient


def get_next_sqrt_price_from_input(sqrt_p: int, liquidity: int, amount_in: int, zero_for_one: bool) -> int:
    if sqrt_p <= 0 or liquidity <= 0:
        raise V3MathError("price and liquidity must be positive")
    if zero_for_one:
        return get_next_sqrt_price_from_amount0_rounding_up(sqrt_p, liquidity, amount_in, True)
    return get_next_sqrt_price_from_amount1_rounding_down(sqrt_p, liquidity, amount_in, True)


def get_next_sqrt_price_from_output(sqrt_p: int, liquidity: int, amount_out: int, zero_for_one: bool) -> int:
    if sqrt_p <= 0 or liquidity <= 0:
        raise V3MathError("price and liquidity must be positive")
    if zero_for_one:
        return get_next_sqrt_price_from_amount1_rounding_down(sqrt_p, liquidity, amount_out, False)
    return get_next_sqrt_price_from_amount0_rounding_up(sqrt_p, liquidity, amount_out, False)


def get_amount0_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """token0 between two sqrt prices: L * (sqrtB - sqrtA) / (sqrtA * sqrtB), rounded as asked
    (v3-core's two-stage rounding: mulDiv by sqrtB first, then divide by sqrtA)."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if sqrt_a <= 0:
        raise V3MathError("sqrt price must be positive")
    numerator1 = liquidity << 96
    numerator2 = sqrt_b - sqrt_a
    if round_up:
        return div_rounding_up(mul_div_rounding_up(numerator1, numerator2, sqrt_b), sqrt_a)
    return mul_div(numerator1, numerator2, sqrt_b) // sqrt_a


def get_amount1_delta(sqrt_a: int, sqrt_b: int, liquidity: int, round_up: bool) -> int:
    """token1 between two sqrt prices: L * (sqrtB - sqrtA) / 2**96, rounded as asked."""
    if sqrt_a > sqrt_b:
        sqrt_a, sqrt_b = sqrt_b, sqrt_a
    if round_up:
        return mul_div_rounding_up(liquidity, sqrt_b - sqrt_a, Q96)
    return mul_div(liquidity, sqrt_b - sqrt_a, Q96)


def get_amount0_delta_signed(sqrt_a: int, sqrt_b: int, liquidity_delta: int) -> int:
    """Signed form used by mint (positive: paid in, rounded up) and burn (negative, rounded down)."""
    if liquidity_delta < 0:
        return -get_amount0_delta(sqrt_a, sqrt_b, -liquidity_delta, False)
    return get_amount0_delta(sqrt_a, sqrt_b, liquidity_delta, True)


def get_amount1_delta_signed(sqrt_a: int, sqrt_b: int, liquidity_delta: int) -> int:
    if liquidity_delta < 0:
        return -get_amount1_delta(sqrt_a, sqrt_b, -liquidity_delta, False)
    return get_amount1_delta(sqrt_a, sqrt_b, liquidity_delta, True)


# ---------------------------------------------------------------------------------------- SwapMath

def compute_swap_step(sqrt_current: int, sqrt_target: int, liquidity: int, amount_remaining: int,
                      fee_pips: int) -> tuple[int, int, int, int]:
    """One swap step towards ``sqrt_target``: (sqrt_next, amount_in, amount_out, fee_amount).

    ``amount_remaining`` > 0 is exact input (fee included), < 0 exact output. The direction is
    zeroForOne iff sqrt_current >= sqrt_target. amount_in excludes the fee."""
    zero_for_one = sqrt_current >= sqrt_target
    exact_in = amount_remaining >= 0
    amount_in = amount_out = 0
    if exact_in:
        remaining_less_fee = mul_div(amount_remaining, FEE_DENOMINATOR - fee_pips, FEE_DENOMINATOR)
        amount_in = (get_amount0_delta(sqrt_target, sqrt_current, liquidity, True) if zero_for_one
                     else get_amount1_delta(sqrt_current, sqrt_target, liquidity, True))
        if remaining_less_fee >= amount_in:
            sqrt_next = sqrt_target
        else:
            sqrt_next = get_next_sqrt_price_from_input(sqrt_current, liquidity, remaining_less_fee, zero_for_one)
    else:
        amount_out = (get_amount1_delta(sqrt_target, sqrt_current, liquidity, False) if zero_for_one
                      else get_amount0_delta(sqrt_current, sqrt_target, liquidity, False))
        if -amount_remaining >= amount_out:
            sqrt_next = sqrt_target
        else:
            sqrt_next = get_next_sqrt_price_from_output(sqrt_current, liquidity, -amount_remaining, zero_for_one)
    reached = sqrt_target == sqrt_next
    if zero_for_one:
        if not (reached and exact_in):
            amount_in = get_amount0_delta(sqrt_next, sqrt_current, liquidity, True)
        if not (reached and not exact_in):
            amount_out = get_amount1_delta(sqrt_next, sqrt_current, liquidity, False)
    else:
        if not (reached and exact_in):
            amount_in = get_amount1_delta(sqrt_current, sqrt_next, liquidity, True)
        if not (reached and not exact_in):
            amount_out = get_amount0_delta(sqrt_current, sqrt_next, liquidity, False)
    if not exact_in and amount_out > -amount_remaining:
        amount_out = -amount_remaining  # the output is capped at what was asked for
    if exact_in and sqrt_next != sqrt_target:
        fee_amount = amount_remaining - amount_in  # the rest of the input is the fee
    else:
        fee_amount = mul_div_rounding_up(amount_in, fee_pips, FEE_DENOMINATOR - fee_pips)
    return sqrt_next, amount_in, amount_out, fee_amount
