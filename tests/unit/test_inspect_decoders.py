"""The inspector's decoders and classifiers on hand-made traces and logs (no node, no fixtures)."""

from __future__ import annotations

from dataclasses import replace

import pytest

from mevops.inspect.abi import ETH, address, int256
from mevops.inspect.arbitrage import find_arbitrages
from mevops.inspect.block import BadBlock, line_of, parse_block
from mevops.inspect.liquidations import AAVE_EVENT, COMPOUND_EVENT, tx_liquidations
from mevops.inspect.report import inspect_block
from mevops.inspect.sandwich import find_sandwiches
from mevops.inspect.swaps import V2_SWAP_TOPIC, V3_SWAP_TOPIC, tx_swaps
from mevops.inspect.transfers import TRANSFER_TOPIC

WETH, USDC, DAI = "0x" + "c0" * 20, "0x" + "a0" * 20, "0x" + "da" * 20
PAIR, PAIR2, V3POOL = "0x" + "01" * 20, "0x" + "02" * 20, "0x" + "03" * 20
BOT, EOA, USER, ROUTER = "0x" + "b0" * 20, "0x" + "e0" * 20, "0x" + "0e" * 20, "0x" + "7a" * 20


def word(value: int | str) -> str:
    if isinstance(value, str):
        return value[2:].rjust(64, "0")
    return format(value % 2**256, "064x")


def calldata(selector: str, *values: int | str) -> str:
    return "0x" + selector + "".join(word(v) for v in values)


def call(address: list[int], frm: str, to: str, data: str = "0x", output: str = "0x", value: int = 0,
         error: str | None = None, call_type: str = "call", tx: str = "0x" + "aa" * 32, position: int = 0) -> dict:
    return {"action": {"from": frm, "callType": call_type, "gas": "0x0", "input": data, "to": to, "value": hex(value)},
            "result": None if error else {"gasUsed": "0x0", "output": output}, "subtraces": 0,
            "trace_address": address, "transaction_hash": tx, "transaction_position": position, "type": "call",
            "error": error}


def transfer(address_: list[int], token: str, frm: str, to: str, amount: int, **kw) -> dict:
    return call(address_, frm, token, calldata("a9059cbb", to, amount), word(1), **kw)


def transfer_from(address_: list[int], caller: str, token: str, frm: str, to: str, amount: int, **kw) -> dict:
    return call(address_, caller, token, calldata("23b872dd", frm, to, amount), word(1), **kw)


def v2_swap(address_: list[int], caller: str, pair: str, out0: int, out1: int, to: str, **kw) -> dict:
    return call(address_, caller, pair, calldata("022c0d9f", out0, out1, to, 0x80, 0), **kw)


def v3_swap(address_: list[int], caller: str, pool: str, recipient: str, amount0: int, amount1: int, **kw) -> dict:
    return call(address_, caller, pool, calldata("128acb08", recipient, 1, 5, 0, 0xa0, 0),
                "0x" + word(amount0) + word(amount1), **kw)


def block(*traces: dict, receipts: list[dict] | None = None) -> dict:
    return {"block_number": 1, "miner": "0x" + "4d" * 20, "traces": list(traces), "receipts": receipts or []}


def one_tx(*traces: dict, **kw):
    return parse_block(block(*traces, **kw)).txs[0]


# --- abi and block shape ---


def test_abi_words():
    assert address(word(WETH), 0) == WETH
    assert address("00" * 11 + "ff" + WETH[2:], 0) == WETH  # dirty high bytes are ignored, as the EVM did
    assert address("00" * 10, 0) is None
    assert int256(word(-5), 0) == -5 and int256(word(5), 0) == 5


def test_reverted_subtree_is_marked_and_tree_is_linked():
    tx = one_tx(call([], EOA, BOT), call([0], BOT, PAIR, error="Reverted"), call([0, 0], PAIR, WETH),
                call([0, 0, 0], WETH, USER), call([1], BOT, PAIR2))
    assert [c.reverted for c in tx.calls] == [False, True, True, True, False]
    assert [c.end for c in tx.calls] == [5, 4, 4, 4, 5]
    assert not tx.reverted and tx.sender == EOA and tx.to == BOT


def test_bad_shapes_name_the_key_and_line():
    with pytest.raises(BadBlock) as caught:
        parse_block({"block_number": 1, "traces": {}})
    assert caught.value.path == ("traces",)
    bad = block(call([], EOA, BOT))
    del bad["traces"][0]["action"]["input"]
    with pytest.raises(BadBlock) as caught:
        parse_block(bad)
    assert caught.value.path == ("traces", 0, "action", "input") and caught.value.reason == "missing"
    with pytest.raises(BadBlock):
        parse_block({"traces": []})  # no block number
    text = '{\n "block_number": 1,\n "traces": [\n  {"a": 1},\n  {"type": 7}\n ]\n}'
    assert line_of(text, ("traces", 1, "type")) == 5
    assert line_of(text, ("traces", 9)) == 3  # the deepest part that exists
    assert line_of("not json", ("x",)) == 1


# --- swaps from traces ---


def test_v2_router_swap_from_traces():
    tx = one_tx(call([], USER, ROUTER), transfer_from([0], ROUTER, WETH, USER, PAIR, 10**18),
                v2_swap([1], ROUTER, PAIR, 0, 3000 * 10**6, USER), transfer([1, 0], USDC, PAIR, USER, 3000 * 10**6))
    (swap,) = tx_swaps(tx)
    assert (swap.protocol, swap.pool, swap.caller, swap.payer, swap.recipient) == ("uniswap-v2", PAIR, ROUTER, USER, USER)
    assert (swap.token_in, swap.amount_in, swap.token_out, swap.amount_out) == (WETH, 10**18, USDC, 3000 * 10**6)


def test_v2_flash_swap_is_paid_inside_the_callback():
    tx = one_tx(call([], EOA, BOT), v2_swap([0], BOT, PAIR, 5, 0, BOT),
                transfer([0, 0], WETH, PAIR, BOT, 5), call([0, 1], PAIR, BOT, "0x10d1e85c"),
                transfer([0, 1, 0], USDC, BOT, PAIR, 7))
    (swap,) = tx_swaps(tx)
    assert (swap.token_in, swap.amount_in, swap.token_out, swap.amount_out) == (USDC, 7, WETH, 5)


def test_fee_taking_token_pays_the_pair_when_its_transfer_returns():
    """A token whose transfer first swaps its own fees in the same pair (seen on mainnet): the
    user's payment lands after that inner swap, so it pays the outer swap, not the inner one."""
    tok = "0x" + "fe" * 20
    tx = one_tx(call([], USER, ROUTER),
                transfer_from([0], ROUTER, tok, USER, PAIR, 1000),
                transfer([0, 0], tok, tok, PAIR, 30),
                v2_swap([0, 1], tok, PAIR, 2, 0, tok), transfer([0, 1, 0], WETH, PAIR, tok, 2),
                v2_swap([1], ROUTER, PAIR, 60, 0, USER), transfer([1, 0], WETH, PAIR, USER, 60))
    inner, outer = tx_swaps(tx)
    assert (inner.amount_in, inner.amount_out) == (30, 2)
    assert (outer.amount_in, outer.amount_out, outer.payer) == (1000, 60, USER)


def test_v3_swap_amounts_are_the_signed_return_values():
    tx = one_tx(call([], EOA, BOT), v3_swap([0], BOT, V3POOL, BOT, -3000 * 10**6, 10**18),
                transfer([0, 0], USDC, V3POOL, BOT, 3000 * 10**6), call([0, 1], V3POOL, BOT, "0xfa461e33"),
                transfer([0, 1, 0], WETH, BOT, V3POOL, 10**18))
    (swap,) = tx_swaps(tx)
    assert (swap.protocol, swap.token_in, swap.amount_in, swap.token_out, swap.amount_out) == (
        "uniswap-v3", WETH, 10**18, USDC, 3000 * 10**6)


def test_nothing_counts_from_reverted_calls_or_transactions_or_false_transfers():
    reverted_inner = one_tx(call([], EOA, BOT), call([0], BOT, BOT, error="Reverted"),
                            transfer([0, 0], WETH, BOT, PAIR, 5), v2_swap([0, 1], BOT, PAIR, 0, 9, BOT),
                            transfer([0, 1, 0], USDC, PAIR, BOT, 9))
    assert tx_swaps(reverted_inner) == []
    status_zero = parse_block(block(call([], EOA, BOT), transfer([0], WETH, BOT, PAIR, 5),
                                    v2_swap([1], BOT, PAIR, 0, 9, BOT), transfer([1, 0], USDC, PAIR, BOT, 9),
                                    receipts=[{"transaction_hash": "0x" + "aa" * 32, "status": "0x0"}]))
    assert status_zero.txs[0].reverted and inspect_block(status_zero).swaps == []
    false_transfer = call([0], BOT, WETH, calldata("a9059cbb", PAIR, 5), word(0))
    proxy_copy = call([0, 0], WETH, "0x" + "11" * 20, calldata("a9059cbb", PAIR, 5), word(1), call_type="delegatecall")
    tx = one_tx(call([], EOA, BOT), false_transfer, proxy_copy, v2_swap([1], BOT, PAIR, 0, 9, BOT),
                transfer([1, 0], USDC, PAIR, BOT, 9))
    assert tx_swaps(tx) == []  # the pair was never paid


# --- swaps from logs ---


def log(address_: str, topics: list[str], data: str, index: int) -> dict:
    return {"address": address_, "topics": topics, "data": data, "logIndex": hex(index)}


def topic(addr: str) -> str:
    return "0x" + word(addr)


def transfer_log(token: str, frm: str, to: str, amount: int, index: int) -> dict:
    return log(token, [TRANSFER_TOPIC, topic(frm), topic(to)], "0x" + word(amount), index)


def with_logs(*logs: dict, status: str = "0x1") -> dict:
    tx = "0x" + "aa" * 32
    return block(call([], USER, ROUTER, tx=tx), receipts=[{"transactionHash": tx, "status": status, "logs": list(logs)}])


def test_v2_swap_event_with_transfers():
    doc = with_logs(transfer_log(WETH, USER, PAIR, 10**18, 0), transfer_log(USDC, PAIR, USER, 3 * 10**9, 1),
                    log(PAIR, [V2_SWAP_TOPIC, topic(ROUTER), topic(USER)],
                        "0x" + word(10**18) + word(0) + word(0) + word(3 * 10**9), 2))
    (swap,) = inspect_block(parse_block(doc)).swaps
    assert (swap.caller, swap.payer, swap.recipient, swap.token_in, swap.amount_in, swap.token_out, swap.amount_out) == (
        ROUTER, USER, USER, WETH, 10**18, USDC, 3 * 10**9)


def test_v3_swap_event_with_signed_amounts():
    doc = with_logs(transfer_log(DAI, V3POOL, USER, 2 * 10**18, 0), transfer_log(USDC, USER, V3POOL, 2 * 10**6, 1),
                    log(V3POOL, [V3_SWAP_TOPIC, topic(ROUTER), topic(USER)],
                        "0x" + word(-2 * 10**18) + word(2 * 10**6) + word(2**96) + word(10**20) + word(-3), 2))
    (swap,) = inspect_block(parse_block(doc)).swaps
    assert (swap.protocol, swap.token_in, swap.amount_in, swap.token_out, swap.amount_out) == (
        "uniswap-v3", USDC, 2 * 10**6, DAI, 2 * 10**18)


def test_reverted_receipt_has_no_swaps():
    doc = with_logs(transfer_log(WETH, USER, PAIR, 1, 0), transfer_log(USDC, PAIR, USER, 1, 1),
                    log(PAIR, [V2_SWAP_TOPIC, topic(ROUTER), topic(USER)], "0x" + word(1) + word(0) + word(0) + word(1), 2),
                    status="0x0")
    assert inspect_block(parse_block(doc)).swaps == []


# --- arbitrage ---


def arb_tx(back_out: int, *, second_pool: str = PAIR2):
    """BOT: WETH 100 -> PAIR -> 50 USDC sent straight to the next pool -> ``back_out`` WETH."""
    return one_tx(call([], EOA, BOT), transfer([0], WETH, BOT, PAIR, 100), v2_swap([1], BOT, PAIR, 0, 50, second_pool),
                  transfer([1, 0], USDC, PAIR, second_pool, 50), v2_swap([2], BOT, second_pool, back_out, 0, BOT),
                  transfer([2, 0], WETH, second_pool, BOT, back_out))


def test_profitable_cycle_is_an_arbitrage():
    tx = arb_tx(130)
    (arb,) = find_arbitrages(tx, tx_swaps(tx))
    assert (arb.profit_token, arb.start_amount, arb.end_amount, arb.profit, arb.searcher) == (WETH, 100, 130, 30, EOA)
    assert [s.pool for s in arb.swaps] == [PAIR, PAIR2]


def test_losing_cycle_and_round_trip_are_not():
    tx = arb_tx(90)
    assert find_arbitrages(tx, tx_swaps(tx)) == []
    tx = one_tx(call([], EOA, BOT), transfer([0], WETH, BOT, PAIR, 100), v2_swap([1], BOT, PAIR, 0, 50, BOT),
                transfer([1, 0], USDC, PAIR, BOT, 50), transfer([2], USDC, BOT, PAIR, 50),
                v2_swap([3], BOT, PAIR, 130, 0, BOT), transfer([3, 0], WETH, PAIR, BOT, 130))
    assert len(tx_swaps(tx)) == 2 and find_arbitrages(tx, tx_swaps(tx)) == []


def test_nested_callback_cycle_starts_where_the_surplus_is():
    """V3 pool A pays WETH out first, then is paid USDC from inside its callback by pool B's swap,
    which is paid DAI by a V2 pair: in call order A, B, C; as a trade C, B, A."""
    tx = one_tx(call([], EOA, BOT),
                v3_swap([0], BOT, V3POOL, BOT, 50, -200), transfer([0, 0], WETH, V3POOL, BOT, 200),
                call([0, 1], V3POOL, BOT, "0xfa461e33"),
                v3_swap([0, 1, 0], BOT, PAIR2, V3POOL, 70, -50), transfer([0, 1, 0, 0], USDC, PAIR2, V3POOL, 50),
                call([0, 1, 0, 1], PAIR2, BOT, "0xfa461e33"),
                transfer([0, 1, 0, 1, 0], WETH, BOT, PAIR, 120), v2_swap([0, 1, 0, 1, 1], BOT, PAIR, 70, 0, PAIR2),
                transfer([0, 1, 0, 1, 1, 0], DAI, PAIR, PAIR2, 70))
    (arb,) = find_arbitrages(tx, tx_swaps(tx))
    assert [s.pool for s in arb.swaps] == [PAIR, PAIR2, V3POOL]
    assert (arb.profit_token, arb.start_amount, arb.end_amount) == (WETH, 120, 200)


# --- sandwiches ---


def pool_swap(tx: str, position: int, who: str, token_in: str, amount_in: int, token_out: str, amount_out: int) -> list[dict]:
    kw = {"tx": tx, "position": position}
    out0, out1 = (amount_out, 0) if token_out == WETH else (0, amount_out)
    return [call([], who, ROUTER, **kw), transfer_from([0], ROUTER, token_in, who, PAIR, amount_in, **kw),
            v2_swap([1], ROUTER, PAIR, out0, out1, who, **kw), transfer([1, 0], token_out, PAIR, who, amount_out, **kw)]


def h(n: int) -> str:
    return "0x" + format(n, "064x")


def test_sandwich_frontrun_victims_backrun():
    doc = block(*pool_swap(h(1), 0, BOT, WETH, 10, USDC, 100), *pool_swap(h(2), 1, USER, WETH, 5, USDC, 40),
                *pool_swap(h(3), 2, EOA, USDC, 7, WETH, 1),  # someone else going the other way: not a victim
                *pool_swap(h(4), 3, BOT, USDC, 100, WETH, 12))
    report = inspect_block(parse_block(doc))
    (s,) = report.sandwiches
    assert (s.searcher, s.frontrun_tx, s.victim_txs, s.backrun_tx) == (BOT, h(1), [h(2)], h(4))
    assert (s.profit_token, s.profit, s.net) == (WETH, 2, {WETH: 2, USDC: 0})


def test_no_victim_no_sandwich_and_profit_in_the_bought_token():
    doc = block(*pool_swap(h(1), 0, BOT, WETH, 10, USDC, 100), *pool_swap(h(4), 1, BOT, USDC, 100, WETH, 12))
    assert inspect_block(parse_block(doc)).sandwiches == []
    # sells USDC first and buys back exactly as much: USDC nets to 0, the profit is in WETH
    doc = block(*pool_swap(h(1), 0, BOT, USDC, 100, WETH, 12), *pool_swap(h(2), 1, USER, USDC, 50, WETH, 5),
                *pool_swap(h(3), 2, BOT, WETH, 11, USDC, 100))
    (s,) = inspect_block(parse_block(doc)).sandwiches
    assert (s.profit_token, s.profit) == (WETH, 1)


def test_find_sandwiches_merges_legs_of_one_attack():
    doc = block(*pool_swap(h(1), 0, BOT, WETH, 10, USDC, 100), *pool_swap(h(2), 1, USER, WETH, 5, USDC, 40),
                *pool_swap(h(3), 2, BOT, USDC, 100, WETH, 12))
    swaps = inspect_block(parse_block(doc)).swaps
    moved = [replace(s, pool=PAIR2, at=s.at + 100) for s in swaps]  # the same trades in a second pool
    (s,) = find_sandwiches(swaps + moved, {h(1): BOT, h(2): USER, h(3): BOT})
    assert [leg.pool for leg in s.legs] == [PAIR, PAIR2]


# --- liquidations ---


def test_aave_and_compound_events():
    aave = log("0x7d2768de32b0b80b7a3454c06bdac94a69ddc7a9", [AAVE_EVENT, topic(WETH), topic(USDC), topic(USER)],
               "0x" + word(500) + word(7) + word(BOT) + word(0), 3)
    ctoken, collateral = "0x" + "c1" * 20, "0x" + "c2" * 20
    comp = log(ctoken, [COMPOUND_EVENT], "0x" + word(BOT) + word(USER) + word(900) + word(collateral) + word(44), 6)
    cether = log("0x" + "ce" * 20, [COMPOUND_EVENT], "0x" + word(BOT) + word(USER) + word(5) + word(collateral) + word(1), 8)
    doc = with_logs(aave, transfer_log(DAI, BOT, ctoken, 900, 5), comp, cether)
    a, c, e = tx_liquidations(parse_block(doc).txs[0])
    assert (a.protocol, a.liquidator, a.borrower, a.debt_token, a.debt_repaid, a.collateral_token, a.collateral_seized) == (
        "aave-v2", BOT, USER, USDC, 500, WETH, 7)
    assert (c.protocol, c.debt_token, c.debt_repaid, c.collateral_token, c.collateral_seized) == ("compound", DAI, 900,
                                                                                                collateral, 44)
    assert e.debt_token == ETH


def test_aave_liquidation_call_from_traces():
    lending_pool = "0x398ec7346dcd622edc5ae82352f02be94c62d119"
    tx = one_tx(call([], EOA, BOT),
                call([0], BOT, lending_pool, calldata("00a718a9", WETH, USDC, USER, 500, 0)),
                call([0, 0], lending_pool, "0x" + "99" * 20, calldata("00a718a9", WETH, USDC, USER, 500, 0),
                     call_type="delegatecall"),
                transfer_from([0, 0, 0], lending_pool, USDC, BOT, "0x" + "ac" * 20, 500),
                transfer([0, 0, 1], WETH, "0x" + "ac" * 20, BOT, 7))
    (q,) = tx_liquidations(tx)
    assert (q.protocol, q.liquidator, q.debt_repaid, q.collateral_seized) == ("aave-v1", BOT, 500, 7)


def test_two_users_of_one_router_are_not_a_sandwich():
    """A user's two-hop router trade pays the first pool's output straight into the next pool, so
    the router (the caller) is all that ties it to a later trade: a different user's reverse trade
    through the same router, paid by that user, is not a backrun."""
    other = "0x" + "0f" * 20
    first = [call([], USER, ROUTER, tx=h(1)), transfer_from([0], ROUTER, WETH, USER, PAIR, 10, tx=h(1)),
             v2_swap([1], ROUTER, PAIR, 0, 100, PAIR2, tx=h(1)), transfer([1, 0], USDC, PAIR, PAIR2, 100, tx=h(1)),
             v2_swap([2], ROUTER, PAIR2, 0, 50, USER, tx=h(1)), transfer([2, 0], DAI, PAIR2, USER, 50, tx=h(1))]
    direct = [call([], BOT, PAIR, tx=h(2), position=1), transfer([0], WETH, BOT, PAIR, 5, tx=h(2), position=1),
              v2_swap([1], BOT, PAIR, 0, 40, BOT, tx=h(2), position=1),
              transfer([1, 0], USDC, PAIR, BOT, 40, tx=h(2), position=1)]
    doc = block(*first, *direct, *pool_swap(h(3), 2, other, USDC, 100, WETH, 12))
    report = inspect_block(parse_block(doc))
    assert len(report.swaps) == 4 and report.sandwiches == []
