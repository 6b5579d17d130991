"""Health-factor and liquidation math (exact integers, as LendingMarket.vy), tracker and strategy."""

from __future__ import annotations

from fractions import Fraction

from hypothesis import assume, given, settings
from hypothesis import strategies as st

from mevops.engine.dex.v2 import Pool
from mevops.engine.lending import LiquidationStrategy, PositionTracker, account_data, liquidation_amounts
from mevops.engine.lending.events import Borrowed, Liquidated, PriceUpdated, Repaid, ReserveListed, Supplied
from mevops.engine.lending.health import HF_ONE, MAX_UINT256, ReserveConfig, max_liquidatable_debt
from mevops.engine.lending.sizing import LiquidationTerms, size_liquidation

COLL, DEBT, USER = "0x" + "c0" * 20, "0x" + "d0" * 20, "0x" + "ee" * 20
PAIR = "0x" + "99" * 20


def configs(lt=8000, bonus=10500, coll_dec=18, debt_dec=6):
    return {COLL: ReserveConfig(COLL, coll_dec, lt - 500, lt, bonus), DEBT: ReserveConfig(DEBT, debt_dec, 8000, 8500, 10500)}


def hf(coll, debt, coll_price, debt_price, lt=8000, bonus=10500):
    return account_data({COLL: coll}, {DEBT: debt}, {COLL: coll_price, DEBT: debt_price}, configs(lt, bonus)).health_factor


amounts = st.integers(10**6, 10**30)
prices = st.integers(1, 10**14)


def test_health_factor_worked_example():
    # 1000 collateral at $13 (LT 80%) against 11,000 debt at $1: 10,400 / 11,000
    assert hf(1000 * 10**18, 11_000 * 10**6, 13 * 10**8, 10**8) == 1_040_000_000_000 * HF_ONE // 1_100_000_000_000
    assert hf(10**18, 0, 10**8, 10**8) == MAX_UINT256


@settings(max_examples=200, deadline=None)
@given(coll=amounts, debt=amounts, p1=prices, p2=prices, dp=prices)
def test_health_factor_is_monotone_in_prices(coll, debt, p1, p2, dp):
    lo, hi = sorted((p1, p2))
    assert hf(coll, debt, lo, dp) <= hf(coll, debt, hi, dp)  # collateral price up: HF never down
    assert hf(coll, debt, dp, hi) <= hf(coll, debt, dp, lo)  # debt price up: HF never up


@settings(max_examples=200, deadline=None)
@given(owed=amounts, held=amounts, cover=amounts, dp=prices, cp=prices, bonus=st.integers(10_000, 11_500))
def test_close_factor_and_collateral_bounds(owed, held, cover, dp, cp, bonus):
    repaid, seized = liquidation_amounts(cover, owed, held, dp, cp, 6, 18, bonus)
    assert 0 <= repaid <= min(cover, max_liquidatable_debt(owed)) <= owed // 2
    assert 0 <= seized <= held
    assert (repaid == 0) == (seized == 0)  # no collateral for nothing (the contract reverts)
    # the liquidator never gets more collateral value than (repaid + 1 debt unit of rounding) × bonus
    assert Fraction(seized * cp, 10**18) <= Fraction((repaid + 1) * dp * bonus, 10**6 * 10_000)


@settings(max_examples=200, deadline=None)
@given(debt=st.integers(10**9, 10**17), cp=st.integers(10**6, 10**12), lt=st.integers(5000, 9000),
       bonus=st.integers(10_000, 11_000), where=st.integers(0, 10**6), frac=st.integers(1, 100))
def test_liquidation_never_lowers_hf_when_hf_above_lt_times_bonus(debt, cp, lt, bonus, where, frac):
    """(C − r·b)·LT/(D − r) ≥ C·LT/D  ⇔  C ≥ b·D  ⇔  HF ≥ LT·b: then a liquidation can only help.
    Positions are built with collateral/debt value between b·1.001 and 1/LT (liquidatable, not too deep)."""
    assume(lt * bonus * 1001 < 10_000 * 10_000 * 1000)
    lo, hi = Fraction(bonus * 1001, 10_000 * 1000), Fraction(10_000, lt)
    ratio = lo + (hi - lo) * Fraction(where, 10**6 + 1)
    coll = int(ratio * debt * 10**8 // 10**6 * 10**18 / cp) + 1  # collateral value ≈ ratio × debt value
    before = hf(coll, debt, cp, 10**8, lt, bonus)
    assume(before < HF_ONE and before * 10_000 * 10_000 >= lt * bonus * HF_ONE * 1001 // 1000)
    repaid, seized = liquidation_amounts(max_liquidatable_debt(debt) * frac // 100, debt, coll, 10**8, cp, 6, 18, bonus)
    assume(repaid > 0)
    after = hf(coll - seized, debt - repaid, cp, 10**8, lt, bonus)
    assert after * 1_000_000 >= before * 999_999  # up to the floors of value() in 8-decimal base units


def tracked() -> PositionTracker:
    tracker = PositionTracker()
    for event in (ReserveListed(COLL, 18, 7500, 8000, 10500), ReserveListed(DEBT, 6, 8000, 8500, 10500),
                  PriceUpdated(COLL, 15 * 10**8), PriceUpdated(DEBT, 10**8),
                  Supplied(COLL, USER, 1000 * 10**18), Borrowed(DEBT, USER, 12_000 * 10**6),
                  Repaid(DEBT, USER, 1_000 * 10**6)):
        tracker.apply(event)
    return tracker


def test_tracker_builds_positions_from_events():
    tracker = tracked()
    position = tracker.position(USER)
    assert position.collateral == {COLL: 1000 * 10**18} and position.debt == {DEBT: 11_000 * 10**6}
    assert tracker.liquidatable() == []
    assert tracker.apply(PriceUpdated(COLL, 13 * 10**8)) == {USER}
    assert tracker.liquidatable() == [USER]
    tracker.apply(Liquidated(COLL, DEBT, USER, 5_500 * 10**6, 444 * 10**18, "0x" + "11" * 20))
    assert position.debt[DEBT] == 5_500 * 10**6 and position.collateral[COLL] == 556 * 10**18
    assert tracker.liquidatable() == []


def test_strategy_detects_hf_below_one_after_the_oracle_update_and_sizes_within_the_close_factor():
    pool = Pool(PAIR, COLL, DEBT, 66_666 * 10**18, 1_000_000 * 10**6, 30)
    strategy = LiquidationStrategy("0x" + "aa" * 20, tracked(), [pool], premium_bps=5)
    assert strategy.evaluate() == []
    (trade,) = strategy.process_event(PriceUpdated(COLL, 13 * 10**8, block=7))
    assert trade.user == USER and trade.block == 7 and trade.health_factor < HF_ONE
    assert trade.debt_to_cover <= 11_000 * 10**6 // 2 and trade.expected_profit > 0
    assert trade.zero_for_one is (pool.token0 == COLL)
    # deeper pool slippage or a bigger premium can only cut the profit
    thin = LiquidationStrategy("0x" + "aa" * 20, tracked(), [Pool(PAIR, COLL, DEBT, 6_666 * 10**18, 100_000 * 10**6, 30)])
    (thin_trade,) = thin.process_event(PriceUpdated(COLL, 13 * 10**8))
    assert thin_trade.expected_profit < trade.expected_profit


@settings(max_examples=100, deadline=None)
@given(owed=st.integers(10**6, 10**13), held=st.integers(10**18, 10**24), cp=st.integers(10**8, 10**10),
       r=st.integers(10**20, 10**26), ratio=st.integers(5, 50), premium=st.integers(0, 50))
def test_sizing_is_the_exact_outcome_and_beats_the_alternatives(owed, held, cp, r, ratio, premium):
    terms = LiquidationTerms(owed, held, 10**8, cp, 6, 18, 10500, r, r * cp // 10**20 * ratio // 10, 30, premium)
    assume(terms.reserve_debt > 0)
    sized = size_liquidation(terms)
    alternatives = [terms.outcome(max_liquidatable_debt(owed) * k // 8) for k in range(1, 9)]
    best_alt = max((a.profit for a in alternatives if a), default=0)
    if sized is None:
        assert best_alt <= 0
        return
    assert sized == terms.outcome(sized.debt_to_cover) and sized.debt_to_cover <= owed // 2
    assert sized.profit >= best_alt - 2
