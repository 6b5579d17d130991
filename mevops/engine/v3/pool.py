"""A Uniswap V3 pool simulator with initialized ticks and tick crossing, same results as v3-core.

``V3Pool`` holds slot0 (sqrt price, tick), in-range liquidity and the initialized ticks with
their liquidityNet/liquidityGross. ``swap`` runs v3-core's loop: each step goes to the next
initialized tick *within one 256-bit bitmap word* (v3-core's TickBitmap.nextInitializedTickWithinOneWord)
or to the price limit, so steps end at the same places as on chain (a step boundary changes
rounding, so this matters for exact equality). Fee growth and protocol fees do not change
swap amounts and are not tracked.
"""

from __future__ import annotations

import bisect
from dataclasses import dataclass, field

from mevops.engine.v3.math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    U128,
    V3MathError,
    compute_swap_step,
    get_amount0_delta_signed,
    get_amount1_delta_signed,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)


def num_usable_ticks(tick_spacing: int) -> int:
    """Initializable ticks for a spacing: the extreme multiples (Solidity truncates toward zero)."""
    max_tick = MAX_TICK // tick_spacing * tick_spacing
    return 2 * max_tick // tick_spacing + 1


@dataclass
class V3Pool:
    """One pool's state; ``fee`` in pips (3000 == 0.30%), ticks multiples of ``tick_spacing``."""

    fee: int  # pips: 3000 == 0.30%
    tick_spacing: int
    sqrt_price_x96: int = 0
    tick: int = 0
    liquidity: int = 0
    liquidity_net: dict[int, int] = field(default_factory=dict)
    liquidity_gross: dict[int, int] = field(default_factory=dict)
    _sorted: list[int] = field(default_factory=list)  # initialized ticks, ascending

    @property
    def max_liquidity_per_tick(self) -> int:
        """v3-core's Tick.tickSpacingToMaxLiquidityPerTick: uint128 max shared by every usable tick."""
        return U128 // num_usable_ticks(self.tick_spacing)

    # ------------------------------------------------------------------ state changes
    def initialize(self, sqrt_price_x96: int) -> None:
        self.sqrt_price_x96 = sqrt_price_x96
        self.tick = get_tick_at_sqrt_ratio(sqrt_price_x96)

    def _update_tick(self, tick: int, delta: int, upper: bool) -> None:
        gross = self.liquidity_gross.get(tick, 0) + delta
        if gross < 0:
            raise V3MathError("LS")
        if gross > self.max_liquidity_per_tick:
            raise V3MathError("LO")
        net = self.liquidity_net.get(tick, 0) + (-delta if upper else delta)
        if gross == 0:
            self.liquidity_gross.pop(tick, None)
            self.liquidity_net.pop(tick, None)
            i = bisect.bisect_left(self._sorted, tick)
            if i < len(self._sorted) and self._sorted[i] == tick:
                del self._sorted[i]
        else:
            if tick not in self.liquidity_gross:
                bisect.insort(self._sorted, tick)
            self.liquidity_gross[tick] = gross
            self.liquidity_net[tick] = net

    def modify_position(self, tick_lower: int, tick_upper: int, liquidity_delta: int) -> tuple[int, int]:
        """Mint (delta > 0) or burn (delta < 0) liquidity; returns v3-core's signed (amount0, amount1)."""
        if not (MIN_TICK <= tick_lower < tick_upper <= MAX_TICK):
            raise V3MathError("bad tick range")
        if tick_lower % self.tick_spacing or tick_upper % self.tick_spacing:
            raise V3MathError("ticks must be multiples of the tick spacing")
        if liquidity_delta:
            self._update_tick(tick_lower, liquidity_delta, False)
            self._update_tick(tick_upper, liquidity_delta, True)
        lower, upper = get_sqrt_ratio_at_tick(tick_lower), get_sqrt_ratio_at_tick(tick_upper)
        amount0 = amount1 = 0
        if self.tick < tick_lower:
            amount0 = get_amount0_delta_signed(lower, upper, liquidity_delta)
        elif self.tick < tick_upper:
            amount0 = get_amount0_delta_signed(self.sqrt_price_x96, upper, liquidity_delta)
            amount1 = get_amount1_delta_signed(lower, self.sqrt_price_x96, liquidity_delta)
            self.liquidity += liquidity_delta
            if self.liquidity < 0:
                raise V3MathError("liquidity underflow")
        else:
            amount1 = get_amount1_delta_signed(lower, upper, liquidity_delta)
        return amount0, amount1

    def mint(self, tick_lower: int, tick_upper: int, amount: int) -> tuple[int, int]:
        if amount <= 0:
            raise V3MathError("mint amount must be positive")
        return self.modify_position(tick_lower, tick_upper, amount)

    def burn(self, tick_lower: int, tick_upper: int, amount: int) -> tuple[int, int]:
        a0, a1 = self.modify_position(tick_lower, tick_upper, -amount)
        return -a0, -a1

    # ------------------------------------------------------------------ tick bitmap semantics
    def next_initialized_tick_within_one_word(self, tick: int, lte: bool) -> tuple[int, bool]:
        """v3-core's TickBitmap search over compressed ticks (tick // spacing, floored)."""
        spacing = self.tick_spacing
        compressed = tick // spacing  # Python floors, as v3-core's "round towards negative infinity"
        if lte:
            word_start = (compressed >> 8) << 8
            lo, hi = word_start * spacing, compressed * spacing  # search [lo, hi]
            i = bisect.bisect_right(self._sorted, hi) - 1
            if i >= 0 and self._sorted[i] >= lo:
                return self._sorted[i], True
            return lo, False
        compressed += 1
        word_end = ((compressed >> 8) << 8) + 255
        lo, hi = compressed * spacing, word_end * spacing
        i = bisect.bisect_left(self._sorted, lo)
        if i < len(self._sorted) and self._sorted[i] <= hi:
            return self._sorted[i], True
        return hi, False

    # ------------------------------------------------------------------ swaps
    def swap(self, zero_for_one: bool, amount_specified: int, sqrt_price_limit_x96: int | None = None,
             *, commit: bool = True) -> tuple[int, int]:
        """v3-core's swap: ``amount_specified`` > 0 exact input, < 0 exact output. Returns the
        signed (amount0, amount1); with ``commit`` the pool moves to the post-swap state."""
        if amount_specified == 0:
            raise V3MathError("AS")
        if sqrt_price_limit_x96 is None:
            sqrt_price_limit_x96 = MIN_SQRT_RATIO + 1 if zero_for_one else MAX_SQRT_RATIO - 1
        sqrt_p, tick, liquidity = self.sqrt_price_x96, self.tick, self.liquidity
        if zero_for_one:
            if not (MIN_SQRT_RATIO < sqrt_price_limit_x96 < sqrt_p):
                raise V3MathError("SPL")
        elif not (sqrt_p < sqrt_price_limit_x96 < MAX_SQRT_RATIO):
            raise V3MathError("SPL")
        exact_input = amount_specified > 0
        remaining, calculated = amount_specified, 0
        fee, net = self.fee, self.liquidity_net
        while remaining != 0 and sqrt_p != sqrt_price_limit_x96:
            start = sqrt_p
            tick_next, initialized = self.next_initialized_tick_within_one_word(tick, zero_for_one)
            if tick_next < MIN_TICK:
                tick_next = MIN_TICK
            elif tick_next > MAX_TICK:
                tick_next = MAX_TICK
            sqrt_next = get_sqrt_ratio_at_tick(tick_next)
            if (sqrt_next < sqrt_price_limit_x96) if zero_for_one else (sqrt_next > sqrt_price_limit_x96):
                target = sqrt_price_limit_x96
            else:
                target = sqrt_next
            sqrt_p, amount_in, amount_out, fee_amount = compute_swap_step(sqrt_p, target, liquidity, remaining, fee)
            if exact_input:
                remaining -= amount_in + fee_amount
                calculated -= amount_out
            else:
                remaining += amount_out
                calculated += amount_in + fee_amount
            if sqrt_p == sqrt_next:
                if initialized:
                    liquidity_net = net[tick_next]
                    if zero_for_one:
                        liquidity_net = -liquidity_net
                    liquidity += liquidity_net
                    if liquidity < 0 or liquidity > U128:
                        raise V3MathError("liquidity out of range")
                tick = tick_next - 1 if zero_for_one else tick_next
            elif sqrt_p != start:
                tick = get_tick_at_sqrt_ratio(sqrt_p)
        if zero_for_one == exact_input:
            amounts = (amount_specified - remaining, calculated)
        else:
            amounts = (calculated, amount_specified - remaining)
        if commit:
            self.sqrt_price_x96, self.tick, self.liquidity = sqrt_p, tick, liquidity
        return amounts

    def quote_exact_in(self, zero_for_one: bool, amount_in: int) -> int:
        """Output (positive) of an exact-input swap of ``amount_in`` without changing the pool;
        0 if the pool cannot take it (no liquidity, price at its limit)."""
        if amount_in <= 0:
            return 0
        try:
            a0, a1 = self.swap(zero_for_one, amount_in, commit=False)
        except V3MathError:
            return 0
        return -(a1 if zero_for_one else a0)

    def copy(self) -> V3Pool:
        return V3Pool(self.fee, self.tick_spacing, self.sqrt_price_x96, self.tick, self.liquidity,
                      dict(self.liquidity_net), dict(self.liquidity_gross), list(self._sorted))
