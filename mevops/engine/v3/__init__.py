"""Uniswap V3 concentrated liquidity: exact v3-core math, a pool simulator, a log tracker, cycles."""

from mevops.engine.v3.math import (
    MAX_SQRT_RATIO,
    MAX_TICK,
    MIN_SQRT_RATIO,
    MIN_TICK,
    V3MathError,
    compute_swap_step,
    get_sqrt_ratio_at_tick,
    get_tick_at_sqrt_ratio,
)
from mevops.engine.v3.pool import V3Pool

__all__ = ["MAX_SQRT_RATIO", "MAX_TICK", "MIN_SQRT_RATIO", "MIN_TICK", "V3MathError", "V3Pool",
           "compute_swap_step", "get_sqrt_ratio_at_tick", "get_tick_at_sqrt_ratio"]
