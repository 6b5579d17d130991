"""Size one liquidation: how much debt to cover so that selling the seized collateral on a V2 pool
repays the (optionally flash-borrowed) debt with the most left over, in exact integers.

profit(d) = amountOut(seized(d)) − repaid(d) − premium(d) for liquidationCall(debtToCover=d); seized is linear in d up to the
user's collateral and the V2 output is concave, so profit is (up to floors) concave on
[1, close-factor maximum]: an integer ternary search finds its maximum, then a short scan settles
the floors.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevops.engine.dex.v2 import get_amount_out
from mevops.engine.flash.sizing import flash_premium
from mevops.engine.lending.health import liquidation_amounts, max_liquidatable_debt


@dataclass(frozen=True, slots=True)
class LiquidationSizing:
    debt_to_cover: int  # passed to liquidationCall (and flash-borrowed)
    repaid: int  # what the market takes (less than debt_to_cover only when the collateral runs out)
    collateral_seized: int
    swap_out: int  # debt asset bought back with the seized collateral
    flash_fee: int
    profit: int  # swap_out - repaid - flash_fee, in the debt asset


@dataclass(frozen=True, slots=True)
class LiquidationTerms:
    owed: int
    held: int
    debt_price: int
    coll_price: int
    debt_decimals: int
    coll_decimals: int
    bonus: int
    reserve_coll: int  # swap pool reserve of the collateral (in)
    reserve_debt: int  # swap pool reserve of the debt asset (out)
    pool_fee_bps: int
    premium_bps: int = 0  # 0: liquidate from inventory / no flash fee

    def outcome(self, debt_to_cover: int) -> LiquidationSizing | None:
        repaid, seized = liquidation_amounts(debt_to_cover, self.owed, self.held, self.debt_price, self.coll_price,
                                             self.debt_decimals, self.coll_decimals, self.bonus)
        if repaid <= 0 or seized <= 0:
            return None
        out = get_amount_out(seized, self.reserve_coll, self.reserve_debt, self.pool_fee_bps)
        fee = flash_premium(debt_to_cover, self.premium_bps)
        return LiquidationSizing(debt_to_cover, repaid, seized, out, fee, out - repaid - fee)


def size_liquidation(terms: LiquidationTerms) -> LiquidationSizing | None:
    """The most profitable ``debt_to_cover`` (None if none profits)."""
    hi = max_liquidatable_debt(terms.owed)
    if hi <= 0 or terms.held <= 0 or terms.reserve_coll <= 0 or terms.reserve_debt <= 0:
        return None

    def profit(d: int) -> int:
        sized = terms.outcome(d)
        return sized.profit if sized else -(2**255)

    lo = 1
    while hi - lo > 8:
        m1, m2 = lo + (hi - lo) // 3, hi - (hi - lo) // 3
        if profit(m1) < profit(m2):
            lo = m1 + 1
        else:
            hi = m2 - 1 if profit(m1) > profit(m2) else m2
    best = max((terms.outcome(d) for d in range(lo, hi + 1)), key=lambda s: s.profit if s else -(2**255))
    return best if best is not None and best.profit > 0 else None
