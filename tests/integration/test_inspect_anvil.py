"""`mevops inspect block NUMBER --rpc URL` against a real anvil (it answers trace_block and
eth_getBlockReceipts): one block holding a sandwich, an atomic arbitrage and a reverted
arbitrage, built with the devnet contracts; and the backrun helpers checked against the chain.
"""

from __future__ import annotations

import asyncio
import json

import pytest

pytest.importorskip("web3")

from mevops.contracts import devnet
from mevops.contracts.transactions import TxSender, connected, encode_call
from mevops.engine.dex.curve import optimal_input
from mevops.engine.dex.v2 import Pool, get_amount_out

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's account 0: deployer, liquidity, the whale
SEARCHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # account 1
VICTIM = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # account 2
GWEI = 10**9
MAX = 2**256 - 1


async def _send(w3, sender: str, to: str, data: bytes, tip_gwei: int, gas: int = 600_000) -> str:
    """eth_sendTransaction from an unlocked account with its own priority fee (anvil orders by it)."""
    answer = await w3.provider.make_request("eth_sendTransaction", [{
        "from": sender, "to": to, "data": "0x" + data.hex(), "gas": hex(gas),
        "maxPriorityFeePerGas": hex(tip_gwei * GWEI), "maxFeePerGas": hex(200 * GWEI)}])
    assert "error" not in answer, answer
    return answer["result"].lower()


async def _pool(w3, pair: devnet.Pair) -> Pool:
    r0, r1, _ = await devnet.contract(w3, "UniswapV2Pair", pair.address).functions.getReserves().call()
    return Pool(pair.address, pair.token0, pair.token1, r0, r1, pair.fee_bps, dex=str(pair.dex))


async def _setup(w3):
    """Market (WETH/USDC/DAI on two dexes), funded and approved searcher and victim, an executor."""
    market = await devnet.deploy_market(w3, DEV, tokens=("WETH", "USDC", "DAI"))
    executor = await devnet.deploy_executor(w3, SEARCHER)
    for who, amount in ((SEARCHER, 40 * 10**18), (VICTIM, 40 * 10**18), (executor, 40 * 10**18)):
        await devnet.fund(w3, market.weth, who, amount)
    for who in (SEARCHER, VICTIM, DEV):
        tx = await TxSender.open(w3, who)
        for token, name in ((market.weth, "WETH9"), (market.address("USDC"), "ERC20"), (market.address("DAI"), "ERC20")):
            tx.call(token, name, "approve", market.routers[0], MAX, gas=80_000)
        await tx.settle()
    return market, executor


async def _whale_moves_dai(w3, market) -> None:
    """A big WETH→DAI trade on dex 1, in its own block: WETH/DAI is then cheaper on dex 0."""
    await devnet.fund(w3, market.weth, DEV, 30 * 10**18)
    tx = await TxSender.open(w3, DEV)
    tx.call(market.weth, "WETH9", "approve", market.routers[1], MAX, gas=80_000)
    deadline = (await w3.eth.get_block("latest"))["timestamp"] + 600
    tx.call(market.routers[1], "UniswapV2Router", "swapExactTokensForTokens", 30 * 10**18, 0,
            [market.weth, market.address("DAI")], DEV, deadline, gas=300_000)
    await tx.settle()


def _swap_calldata(amount_in: int, path: list[str], to: str, deadline: int) -> bytes:
    return encode_call("UniswapV2Router", "swapExactTokensForTokens", amount_in, 0, path, to, deadline)


async def _mev_block(w3, market, executor):
    """One block: frontrun, victim, backrun (USDC pool on dex 0), an arbitrage and a reverted one.

    Returns the hashes and the amounts the V2 math predicts for each of them.
    """
    weth, usdc = market.weth, market.address("USDC")
    pair = market.pair("WETH", "USDC", dex=0)
    pool = await _pool(w3, pair)
    deadline = (await w3.eth.get_block("latest"))["timestamp"] + 600
    front_in, victim_in = 10 * 10**18, 20 * 10**18
    weth_is_0 = pool.token0.lower() == weth.lower()
    r_weth, r_usdc = (pool.reserve0, pool.reserve1) if weth_is_0 else (pool.reserve1, pool.reserve0)
    front_out = get_amount_out(front_in, r_weth, r_usdc, pool.fee_bps)
    r_weth, r_usdc = r_weth + front_in, r_usdc - front_out
    victim_out = get_amount_out(victim_in, r_weth, r_usdc, pool.fee_bps)
    r_weth, r_usdc = r_weth + victim_in, r_usdc - victim_out
    back_out = get_amount_out(front_out, r_usdc, r_weth, pool.fee_bps)

    # the whale sold WETH on dex 1, so WETH is cheap there: sell WETH for DAI on dex 0, buy it back on dex 1
    sell_on, buy_on = market.pair("WETH", "DAI", dex=0), market.pair("WETH", "DAI", dex=1)
    p0, p1 = await _pool(w3, sell_on), await _pool(w3, buy_on)
    z0 = p0.token0.lower() == weth.lower()
    z1 = p1.token0.lower() != weth.lower()
    hops = [(p0.reserve0, p0.reserve1, p0.fee_bps) if z0 else (p0.reserve1, p0.reserve0, p0.fee_bps),
            (p1.reserve0, p1.reserve1, p1.fee_bps) if z1 else (p1.reserve1, p1.reserve0, p1.fee_bps)]
    sizing = optimal_input(hops, 30 * 10**18)
    assert sizing is not None and sizing.profit > 0
    execute = encode_call("ArbExecutor", "execute", [sell_on.address, buy_on.address], [z0, z1],
                          [p0.fee_bps, p1.fee_bps], sizing.amount_in, weth, 0)
    losing = encode_call("ArbExecutor", "execute", [sell_on.address, buy_on.address], [z0, z1],
                         [p0.fee_bps, p1.fee_bps], sizing.amount_in, weth, 10**30)

    await w3.provider.make_request("evm_setAutomine", [False])
    try:
        hashes = {
            "front": await _send(w3, SEARCHER, market.routers[0], _swap_calldata(front_in, [weth, usdc], SEARCHER, deadline), 50),
            "victim": await _send(w3, VICTIM, market.routers[0], _swap_calldata(victim_in, [weth, usdc], VICTIM, deadline), 40),
            "back": await _send(w3, SEARCHER, market.routers[0], _swap_calldata(front_out, [usdc, weth], SEARCHER, deadline), 30),
            "arb": await _send(w3, SEARCHER, executor, execute, 20),
            "reverted": await _send(w3, SEARCHER, executor, losing, 10),
        }
        await w3.provider.make_request("evm_mine", [])
    finally:
        await w3.provider.make_request("evm_setAutomine", [True])
    number = await w3.eth.block_number
    expected = {"front_in": front_in, "front_out": front_out, "victim_in": victim_in, "victim_out": victim_out,
                "back_out": back_out, "arb_in": sizing.amount_in, "arb_profit": sizing.profit, "pool": pair.address}
    return number, hashes, expected


def test_inspect_block_from_anvil(start_anvil, run):
    url, _ = start_anvil()

    async def scenario(w3):
        market, executor = await _setup(w3)
        await _whale_moves_dai(w3, market)
        return market, *await _mev_block(w3, market, executor)

    async def main():
        async with connected(url) as w3:
            return await scenario(w3)

    market, number, hashes, expected = asyncio.run(main())
    result = run("inspect", "block", str(number), "--rpc", url, "--json")
    assert result.code == 0, result.err
    report = json.loads(result.out)
    weth = market.weth.lower()
    assert report["block_number"] == number
    assert report["reverted_transactions"] == [hashes["reverted"]]
    (sandwich,) = report["sandwiches"]
    assert sandwich["frontrun_transaction"] == hashes["front"]
    assert sandwich["victim_transactions"] == [hashes["victim"]]
    assert sandwich["backrun_transaction"] == hashes["back"]
    assert sandwich["pools"] == [expected["pool"].lower()]
    assert sandwich["searcher"] == SEARCHER.lower()
    assert sandwich["profit_token"] == weth
    assert sandwich["profit_amount"] == str(expected["back_out"] - expected["front_in"])
    (arbitrage,) = report["arbitrages"]
    assert arbitrage["transaction_hash"] == hashes["arb"]
    assert arbitrage["profit_token"] == weth
    assert arbitrage["start_amount"] == str(expected["arb_in"])
    assert arbitrage["profit_amount"] == str(expected["arb_profit"])
    assert all(s["transaction_hash"] != hashes["reverted"] for s in report["swaps"])
    assert report["liquidations"] == []

    # the event decoder (node receipts have logs) and the trace decoder (the fixtures' way) agree
    from mevops.inspect.block import parse_block
    from mevops.inspect.report import inspect_block
    from mevops.inspect.rpc import fetch_block_document

    doc = fetch_block_document(url, number)
    from_logs = inspect_block(parse_block(doc))
    for receipt in doc["receipts"]:
        receipt.pop("logs")
    from_traces = inspect_block(parse_block(doc))
    assert from_traces.to_json() == from_logs.to_json()
    assert from_traces.reverted == [hashes["reverted"]]


def test_backrun_plan_matches_the_chain(start_anvil):
    """decode a pending router swap, predict the pools after it, size the backrun, then land the
    swap and the backrun (in that order) and compare with what the chain did, to the wei."""
    from mevops.inspect.backrun import apply_router_swap, decode_router_swap, find_backrun

    url, _ = start_anvil()

    async def scenario(w3):
        market, executor = await _setup(w3)
        weth, dai = market.weth, market.address("DAI")
        deadline = (await w3.eth.get_block("latest"))["timestamp"] + 600
        calldata = _swap_calldata(25 * 10**18, [weth, dai], VICTIM, deadline)
        pools = [await _pool(w3, p) for p in market.pairs]
        pending = decode_router_swap(calldata)
        assert pending is not None and pending.path == (weth.lower(), dai.lower())
        post = apply_router_swap(pending, pools, dex="0")
        assert post is not None
        plan = find_backrun(post, pools, base_tokens=[weth])
        assert plan is not None and plan.profit > 0 and plan.token == weth.lower()
        # the user sold WETH on dex 0: sell WETH on dex 1, buy it back cheaply on dex 0
        assert plan.pools == (market.pair("WETH", "DAI", dex=1).address.lower(), market.pair("WETH", "DAI", dex=0).address.lower())

        await _send(w3, VICTIM, market.routers[0], calldata, 5)  # the user's swap, mined first
        await w3.provider.make_request("evm_mine", [])
        after = {p.address.lower(): await _pool(w3, p) for p in market.pairs}
        for moved in post.pools:
            assert (after[moved.address].reserve0, after[moved.address].reserve1) == (moved.reserve0, moved.reserve1)
        first, second = (after[a] for a in plan.pools)
        before = await devnet.contract(w3, "WETH9", weth).functions.balanceOf(executor).call()
        tx = await TxSender.open(w3, SEARCHER)
        tx.call(executor, "ArbExecutor", "execute", [first.address, second.address], list(plan.zero_for_one),
                [first.fee_bps, second.fee_bps], plan.amount_in, weth, 1, gas=400_000)
        await tx.settle()
        gained = await devnet.contract(w3, "WETH9", weth).functions.balanceOf(executor).call() - before
        assert gained == plan.profit

    async def main():
        async with connected(url) as w3:
            await scenario(w3)

    asyncio.run(main())
