"""Flash-loan sizing: the premium is in the optimum and the profit is the exact on-chain integer."""

from __future__ import annotations

from hypothesis import example, given, settings
from hypothesis import strategies as st

from mevops.engine.dex.curve import simulate
from mevops.engine.dex.v2 import Pool
from mevops.engine.flash import FlashArbStrategy, FlashCycle, flash_premium, flash_profit, size_flash_cycle
from mevops.engine.flash.calldata import encode_flash_trade
from mevops.engine.types import Hop, PoolSync

A, B = "0x" + "aa" * 20, "0x" + "bb" * 20
P0, P1 = "0x" + "01" * 20, "0x" + "02" * 20


def test_premium_rounds_half_up_like_aave_percent_mul():
    assert flash_premium(10_000, 5) == 5
    assert flash_premium(1_000, 5) == 1  # 0.5 rounds up
    assert flash_premium(999, 5) == 0  # 0.4995 rounds down
    assert flash_premium(0, 5) == 0


def test_premium_turns_a_thin_cycle_unprofitable():
    hops = [(1_000_000 * 10**6, 1_006_500 * 10**18 // 10**12, 30), (1_000_000 * 10**6, 1_000_000 * 10**6, 0)]
    assert size_flash_cycle(hops, 0) is not None
    assert size_flash_cycle(hops, 300) is None  # 3% premium eats the 0.35% edge


reserve = st.integers(10**9, 10**24)


@settings(max_examples=150, deadline=None)
@given(r0=reserve, r1=reserve, skew_bps=st.integers(0, 2000), fee0=st.sampled_from([0, 5, 25, 30]),
       fee1=st.sampled_from([0, 5, 25, 30]), premium=st.integers(0, 50))
# a coarse intermediate token (1 unit ≈ 977,680 input units): the profit is a staircase
@example(r0=977679914735969, r1=1000358507, skew_bps=64, fee0=0, fee1=0, premium=47)
def test_sizing_is_exact_and_beats_nearby_inputs(r0, r1, skew_bps, fee0, fee1, premium):
    hops = [(r0, r1 * (10_000 + skew_bps) // 10_000, fee0), (r1, r0, fee1)]
    sized = size_flash_cycle(hops, premium)
    if sized is None:
        # nothing profits: check a spread of inputs
        for x in (1, 10**3, r0 // 1000, r0 // 100, r0 // 10):
            assert x <= 0 or flash_profit(x, hops, premium) <= 0
        return
    assert sized.profit == simulate(sized.amount_in, hops) - sized.amount_in - flash_premium(sized.amount_in, premium)
    assert sized.premium == flash_premium(sized.amount_in, premium) and sized.profit > 0
    # the optimum: no input noticeably away from it does better (floor noise: a few units)
    for factor in (0.5, 0.9, 0.99, 1.01, 1.1, 2.0):
        x = max(1, int(sized.amount_in * factor))
        assert flash_profit(x, hops, premium) <= sized.profit + 2


@settings(max_examples=60, deadline=None)
@given(r0=reserve, skew_bps=st.integers(100, 2000), premium=st.integers(0, 50), cap_div=st.integers(2, 10**6))
def test_sizing_respects_the_pool_liquidity(r0, skew_bps, premium, cap_div):
    hops = [(r0, r0 * (10_000 + skew_bps) // 10_000, 30), (r0, r0, 0)]
    unbounded = size_flash_cycle(hops, premium)
    cap = max(1, unbounded.amount_in // cap_div) if unbounded else 1
    sized = size_flash_cycle(hops, premium, max_input=cap)
    assert sized is None or sized.amount_in <= cap


@settings(max_examples=60, deadline=None)
@given(r0=reserve, skew_bps=st.integers(100, 2000), premium=st.integers(1, 50))
def test_higher_premium_never_raises_the_profit(r0, skew_bps, premium):
    hops = [(r0, r0 * (10_000 + skew_bps) // 10_000, 30), (r0, r0, 0)]
    cheap, dear = size_flash_cycle(hops, premium - 1), size_flash_cycle(hops, premium)
    assert (dear.profit if dear else 0) <= (cheap.profit if cheap else 0) + 2


def _strategy(**kwargs) -> FlashArbStrategy:
    pools = [Pool(P0, A, B, 10**24, 10**24, 30), Pool(P1, A, B, 10**24, 10**24, 25)]
    cycle = FlashCycle(A, (Hop(P0, A, B, True, 30), Hop(P1, B, A, False, 25)))
    return FlashArbStrategy(pools, [cycle], **kwargs)


def test_strategy_emits_a_trade_when_a_sync_opens_a_gap():
    strategy = _strategy(premium_bps=5, liquidity={A: 10**30})
    assert strategy.process_event(PoolSync(P0, 10**24, 10**24, block=1, log_index=0)) == []
    (trade,) = strategy.process_event(PoolSync(P0, 10**24, 103 * 10**22, block=2, log_index=0))
    assert trade.funding == "aave" and trade.block == 2 and trade.token == A
    assert trade.flash_fee == flash_premium(trade.amount_in, 5)
    hops = strategy.hop_reserves(strategy.cycles[0])
    assert trade.expected_profit == flash_profit(trade.amount_in, hops, 5) == trade.min_profit
    assert trade.expected_out == simulate(trade.amount_in, hops)


def test_gas_cost_in_token_filters_small_trades():
    event = PoolSync(P0, 10**24, 1_0065 * 10**20, block=2, log_index=0)
    assert _strategy().process_event(event)
    # 600k gas at 1 gwei costs 6e14 wei of ether; priced at 1e30 token units per ether, that is 6e26
    assert _strategy(gas_price_in_token={A: 10**30}).process_event(event) == []


def test_calldata_selects_the_funding_path():
    (trade,) = _strategy().process_event(PoolSync(P0, 10**24, 103 * 10**22, block=2, log_index=0))
    from eth_abi import decode
    from eth_utils import function_signature_to_4byte_selector as sel

    data = encode_flash_trade(trade)
    assert data[:4] == sel("flash_arb(address,uint256,address[],bool[],uint256[],uint256)")
    token, amount, pools, zfo, fees, min_profit = decode(["address", "uint256", "address[]", "bool[]", "uint256[]",
                                                           "uint256"], data[4:])
    assert (token, amount, pools, zfo, fees, min_profit) == (A, trade.amount_in, (P0, P1), (True, False), (30, 25),
                                                             trade.min_profit)
    (swap,) = _strategy(funding="uniswap_v2").process_event(PoolSync(P0, 10**24, 103 * 10**22, block=2, log_index=0))
    assert encode_flash_trade(swap)[:4] == sel("flash_swap_arb(uint256,address[],bool[],uint256[],uint256)")
    assert swap.flash_fee == 0 and swap.expected_profit >= trade.expected_profit
