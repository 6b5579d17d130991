"""Exact integer health-factor and liquidation math of ``LendingMarket.vy`` (Aave-style).

Prices are in the oracle's base currency with 8 decimals; every division floors exactly as the
contract does, so a position's health factor here equals ``getUserAccountData``'s to the unit.

    value          = amount · price // 10**decimals
    healthFactor   = (Σ value(collateral_i) · LT_i // 10000) · 10**18 // debtValue   (max uint256 without debt)
    liquidation    repaid = min(debtToCover, debt · 5000 // 10000)
                   seized = debtPrice · repaid · 10**collDec · bonus // (collPrice · 10**debtDec · 10000)
                   if seized > held: seized = held,
                                     repaid = collPrice · held · 10**debtDec · 10000 // (debtPrice · 10**collDec · bonus)
                                     (0 repaid: the contract reverts; returned as (0, 0))
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

BPS = 10_000
HF_ONE = 10**18
CLOSE_FACTOR_BPS = 5_000
MAX_UINT256 = 2**256 - 1


@dataclass(frozen=True, slots=True)
class ReserveConfig:
    asset: str
    decimals: int
    ltv: int  # bps
    liquidation_threshold: int  # bps
    liquidation_bonus: int  # bps, 10500 = 5% bonus


@dataclass(frozen=True, slots=True)
class AccountData:
    """``getUserAccountData``: values in base currency (8 decimals), thresholds in bps, HF in 1e18."""

    total_collateral: int
    total_debt: int
    available_borrows: int
    liquidation_threshold: int
    ltv: int
    health_factor: int

    @property
    def liquidatable(self) -> bool:
        return self.health_factor < HF_ONE


def value(amount: int, price: int, decimals: int) -> int:
    return amount * price // 10**decimals


def account_data(collateral: Mapping[str, int], debt: Mapping[str, int], prices: Mapping[str, int],
                 configs: Mapping[str, ReserveConfig]) -> AccountData:
    coll = weighted_lt = weighted_ltv = owed = 0
    for asset, amount in collateral.items():
        if amount > 0:
            cfg = configs[asset]
            v = value(amount, prices.get(asset, 0), cfg.decimals)
            coll += v
            weighted_lt += v * cfg.liquidation_threshold
            weighted_ltv += v * cfg.ltv
    for asset, amount in debt.items():
        if amount > 0:
            owed += value(amount, prices.get(asset, 0), configs[asset].decimals)
    lt, ltv = (weighted_lt // coll, weighted_ltv // coll) if coll else (0, 0)
    hf = (weighted_lt // BPS) * HF_ONE // owed if owed else MAX_UINT256
    return AccountData(coll, owed, max(0, weighted_ltv // BPS - owed), lt, ltv, hf)


def max_liquidatable_debt(owed: int) -> int:
    """The close factor: at most half the debt in one liquidationCall."""
    return owed * CLOSE_FACTOR_BPS // BPS


def liquidation_amounts(debt_to_cover: int, owed: int, held: int, debt_price: int, coll_price: int,
                        debt_decimals: int, coll_decimals: int, bonus: int) -> tuple[int, int]:
    """``(debt repaid, collateral seized)`` of ``liquidationCall`` exactly as the contract computes them
    (``(0, 0)`` where the contract reverts for a zero liquidation)."""
    repaid = min(debt_to_cover, max_liquidatable_debt(owed))
    debt_unit, coll_unit = 10**debt_decimals, 10**coll_decimals
    seized = debt_price * repaid * coll_unit * bonus // (coll_price * debt_unit * BPS)
    if seized > held:
        seized = held
        repaid = coll_price * held * debt_unit * BPS // (debt_price * coll_unit * bonus)
        if repaid == 0:
            return 0, 0  # the contract reverts "zero liquidation"
    return repaid, seized
