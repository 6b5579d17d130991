"""Protection and backrun helpers: router calldata, the post-swap state, backrun sizing, sandwich checks."""

from __future__ import annotations

import pytest
from eth_abi import encode

from mevops.engine.dex.v2 import Pool, get_amount_out
from mevops.inspect.backrun import apply_router_swap, decode_router_swap, find_backrun
from mevops.inspect.block import parse_block
from mevops.inspect.protect import sandwiches_of, tight_amount_out_min, was_sandwiched
from tests.unit.test_inspect_decoders import BOT, USER, block, h, pool_swap

WETH, USDC, DAI = "0x" + "c0" * 20, "0x" + "a0" * 20, "0x" + "da" * 20
TO = "0x" + "0e" * 20


def router_call(selector: str, types: list[str], values: list) -> bytes:
    return bytes.fromhex(selector) + encode(types, values)


TOKENS_FOR_TOKENS = ["uint256", "uint256", "address[]", "address", "uint256"]
ETH_FOR_TOKENS = ["uint256", "address[]", "address", "uint256"]


def test_decode_router_swaps():
    data = router_call("38ed1739", TOKENS_FOR_TOKENS, [10**18, 5, [WETH, USDC, DAI], TO, 99])
    swap = decode_router_swap(data)
    assert (swap.function, swap.amount_in, swap.amount_out_min, swap.path, swap.recipient, swap.deadline,
            swap.fee_on_transfer) == ("swapExactTokensForTokens", 10**18, 5, (WETH, USDC, DAI), TO, 99, False)
    assert decode_router_swap("0x" + data.hex().upper()[:8].lower() + data.hex()[8:]) == swap  # hex string input
    eth = decode_router_swap(router_call("7ff36ab5", ETH_FOR_TOKENS, [7, [WETH, DAI], TO, 99]), value=3 * 10**18)
    assert (eth.function, eth.amount_in, eth.amount_out_min, eth.path) == ("swapExactETHForTokens", 3 * 10**18, 7, (WETH, DAI))
    fot = decode_router_swap(router_call("791ac947", TOKENS_FOR_TOKENS, [1, 0, [DAI, WETH], TO, 1]))
    assert fot.fee_on_transfer and fot.function.startswith("swapExactTokensForETH")


@pytest.mark.parametrize("data", [
    b"",
    router_call("a9059cbb", ["address", "uint256"], [TO, 1]),  # an ERC20 transfer
    router_call("38ed1739", TOKENS_FOR_TOKENS, [1, 0, [WETH, USDC], TO, 1])[:100],  # cut short
    router_call("38ed1739", TOKENS_FOR_TOKENS, [1, 0, [WETH], TO, 1]),  # one-token path
    router_call("38ed1739", TOKENS_FOR_TOKENS, [1, 0, [WETH, USDC, WETH], TO, 1]),  # a token twice
    router_call("38ed1739", TOKENS_FOR_TOKENS, [0, 0, [WETH, USDC], TO, 1]),  # nothing in
    router_call("7ff36ab5", ETH_FOR_TOKENS, [0, [WETH, DAI], TO, 1]),  # ETH variant without value
])
def test_decode_rejects(data):
    assert decode_router_swap(data) is None


def pools() -> list[Pool]:
    return [Pool("0x" + "01" * 20, WETH, USDC, 1000 * 10**18, 3_000_000 * 10**6, 30, dex="a"),
            Pool("0x" + "02" * 20, USDC, DAI, 5_000_000 * 10**6, 5_000_000 * 10**18, 30, dex="a"),
            Pool("0x" + "03" * 20, WETH, USDC, 800 * 10**18, 2_400_000 * 10**6, 25, dex="b")]


def test_apply_router_swap_is_the_v2_math_and_copies_the_pools():
    state = pools()
    swap = decode_router_swap(router_call("38ed1739", TOKENS_FOR_TOKENS, [50 * 10**18, 0, [WETH, USDC, DAI], TO, 1]))
    post = apply_router_swap(swap, state, dex="a")
    usdc = get_amount_out(50 * 10**18, 1000 * 10**18, 3_000_000 * 10**6)
    dai = get_amount_out(usdc, 5_000_000 * 10**6, 5_000_000 * 10**18)
    assert post.amounts == (50 * 10**18, usdc, dai) and post.amount_out == dai
    assert (post.pools[0].reserve0, post.pools[0].reserve1) == (1050 * 10**18, 3_000_000 * 10**6 - usdc)
    assert (post.pools[1].reserve0, post.pools[1].reserve1) == (5_000_000 * 10**6 + usdc, 5_000_000 * 10**18 - dai)
    assert state[0].reserve0 == 1000 * 10**18  # untouched
    too_greedy = decode_router_swap(router_call("38ed1739", TOKENS_FOR_TOKENS, [50 * 10**18, dai + 1, [WETH, USDC, DAI], TO, 1]))
    assert apply_router_swap(too_greedy, state, dex="a") is None  # the user's swap would revert: nothing to backrun
    assert apply_router_swap(swap, state, dex="b") is None  # no USDC/DAI pool on dex b
    fot = decode_router_swap(router_call("5c11d795", TOKENS_FOR_TOKENS, [10**18, 0, [WETH, USDC], TO, 1]))
    assert apply_router_swap(fot, state, dex="a") is None


def test_backrun_is_sized_on_the_post_swap_state_only():
    state = pools()
    swap = decode_router_swap(router_call("38ed1739", TOKENS_FOR_TOKENS, [100 * 10**18, 0, [WETH, USDC], TO, 1]))
    post = apply_router_swap(swap, state, dex="a")
    plan = find_backrun(post, state, base_tokens=[WETH])
    # the user sold WETH into pool 01: WETH is cheap there, so sell WETH on 03 and buy it back on 01
    assert plan.after is swap and plan.token == WETH and plan.pools == ("0x" + "03" * 20, "0x" + "01" * 20)
    moved, other = post.pools[0], state[2]
    usdc = get_amount_out(plan.amount_in, other.reserve0, other.reserve1, 25)
    back = get_amount_out(usdc, moved.reserve1, moved.reserve0, 30)
    assert plan.amount_out == back and plan.profit == back - plan.amount_in > 0
    assert find_backrun(post, state, base_tokens=[DAI]) is None  # no pool pair to close a cycle in DAI
    small = decode_router_swap(router_call("38ed1739", TOKENS_FOR_TOKENS, [10**15, 0, [WETH, USDC], TO, 1]))
    level = [Pool("0x" + "01" * 20, WETH, USDC, 10**21, 3 * 10**15, 30, dex="a"),
             Pool("0x" + "03" * 20, WETH, USDC, 10**21, 3 * 10**15, 30, dex="b")]
    assert find_backrun(apply_router_swap(small, level, dex="a"), level) is None  # fees eat the gap


def test_tight_amount_out_min():
    swap = decode_router_swap(router_call("38ed1739", TOKENS_FOR_TOKENS, [10**18, 0, [WETH, USDC], TO, 1]))
    out = get_amount_out(10**18, 1000 * 10**18, 3_000_000 * 10**6)
    assert tight_amount_out_min(swap, pools(), 0, dex="a") == out
    assert tight_amount_out_min(swap, pools(), 50, dex="a") == -(-out * 9950 // 10_000)
    with pytest.raises(ValueError):
        tight_amount_out_min(swap, pools(), 10_000)
    with pytest.raises(ValueError):
        tight_amount_out_min(swap, [], 10)


def test_sandwiches_of_the_users_transaction():
    doc = block(*pool_swap(h(1), 0, BOT, WETH, 10, USDC, 100), *pool_swap(h(2), 1, USER, WETH, 5, USDC, 40),
                *pool_swap(h(3), 2, BOT, USDC, 100, WETH, 12), *pool_swap(h(9), 3, USER, WETH, 1, USDC, 2))
    parsed = parse_block(doc)
    check = sandwiches_of(parsed, h(2).upper().replace("0X", "0x"))
    assert check.sandwiched and check.sandwiches[0].frontrun_tx == h(1) and len(check.swaps) == 1
    assert not was_sandwiched(parsed, h(9))  # after the backrun: not sandwiched
    assert not was_sandwiched(parsed, h(1))  # the searcher's own
    with pytest.raises(KeyError):
        sandwiches_of(parsed, h(77))
