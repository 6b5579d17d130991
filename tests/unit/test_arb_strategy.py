"""ArbStrategy is an I/O-free state machine: plain events in, exactly sized actions out."""

from __future__ import annotations

from mevops.engine.dex.v2 import Pool, get_amount_out
from mevops.engine.strategies.arbitrage import ArbSettings, ArbStrategy
from mevops.engine.types import ArbTrade, NewBlock, PoolSync

WETH = "0x" + "11" * 20
USDC = "0x" + "22" * 20
A = "0x" + "aa" * 20
B = "0x" + "bb" * 20
E18 = 10**18


def strategy(max_input: int = 100 * E18) -> ArbStrategy:
    pools = [Pool(A, WETH, USDC, 1000 * E18, 3_000_000 * 10**6, 30), Pool(B, WETH, USDC, 1000 * E18, 3_000_000 * 10**6, 25)]
    return ArbStrategy("arb", pools, ArbSettings("ethereum", [WETH], WETH, tip=10**9, max_input={WETH: max_input}))


def block(n: int, base_fee: int = 10**9) -> NewBlock:
    return NewBlock(n, f"0x{n:064x}", 1_700_000_000 + n, base_fee)


def test_balanced_pools_give_no_trade():
    s = strategy()
    assert s.process_event(block(1)) == []


def test_a_dislocation_becomes_one_exactly_sized_trade():
    s = strategy()
    assert s.process_event(block(1)) == []
    # someone sells 50 WETH into pool A: WETH is cheap there
    out = get_amount_out(50 * E18, 1000 * E18, 3_000_000 * 10**6, 30)
    assert s.process_event(PoolSync(A, 1050 * E18, 3_000_000 * 10**6 - out, 2, 0)) == []  # waits for its block
    (trade,) = s.process_event(block(2))
    assert isinstance(trade, ArbTrade)
    first, second = trade.hops
    assert first.pool == B.lower() and first.token_in == WETH.lower()  # buy USDC with WETH where WETH is dear
    assert second.pool == A.lower() and second.token_out == WETH.lower()
    # the expected output is exactly the integer V2 chain at the current reserves
    mid = get_amount_out(trade.amount_in, 1000 * E18, 3_000_000 * 10**6, 25)
    final = get_amount_out(mid, 3_000_000 * 10**6 - out, 1050 * E18, 30)
    assert trade.expected_out == final and trade.expected_profit == final - trade.amount_in
    assert trade.min_profit == trade.gas_cost + 1 and trade.expected_profit > trade.min_profit
    assert trade.max_fee_per_gas == 2 * 10**9 + 10**9 and trade.block == 2
    # the same pools are locked until the next block: a late log does not trigger a second trade
    assert s.process_event(PoolSync(B, 1000 * E18, 3_000_000 * 10**6, 2, 5)) == []


def test_position_cap_limits_the_input():
    s = strategy(max_input=E18)
    out = get_amount_out(50 * E18, 1000 * E18, 3_000_000 * 10**6, 30)
    s.process_event(PoolSync(A, 1050 * E18, 3_000_000 * 10**6 - out, 1, 0))
    (trade,) = s.process_event(block(1))
    assert trade.amount_in <= E18


def test_old_blocks_and_unknown_pools_are_ignored():
    s = strategy()
    s.process_event(block(5))
    assert s.process_event(block(4)) == []
    assert s.process_event(PoolSync("0x" + "cc" * 20, 1, 1, 5, 0)) == []
    assert s.syncs_applied == 0
