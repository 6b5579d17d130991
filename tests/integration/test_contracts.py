"""The devnet contracts on a real anvil: V2 pair math and events, the arbitrage executor, artifacts."""

from __future__ import annotations

import asyncio
import itertools
import json
import random
import time

import pytest

from mevops.contracts import CONTRACTS, abi, artifact, source_sha256

pytest.importorskip("web3")

from eth_abi import encode
from eth_utils import keccak
from web3.exceptions import ContractLogicError
from web3.logs import DISCARD

from mevops.contracts import devnet
from mevops.contracts.transactions import TxFailed, TxSender, connected, create_address, encode_call

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil's account 0 (unlocked)
OTHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil's account 1 (unlocked)
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"  # anvil's public test key of DEV
SWAP_TOPIC = "d78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"  # Uniswap V2's, from mainnet logs
SYNC_TOPIC = "1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"


def amount_out(amount_in: int, reserve_in: int, reserve_out: int, fee_bps: int) -> int:
    """Uniswap V2's getAmountOut with the fee in basis points (30 == V2's 997/1000)."""
    with_fee = amount_in * (10_000 - fee_bps)
    return with_fee * reserve_out // (reserve_in * 10_000 + with_fee)


def run(url: str, scenario):
    """Run ``scenario(w3)`` against the node at ``url``."""

    async def main():
        async with connected(url) as w3:
            return await scenario(w3)

    return asyncio.run(main())


async def reserves(w3, pair: str) -> tuple[int, int]:
    r0, r1, _ = await devnet.contract(w3, "UniswapV2Pair", pair).functions.getReserves().call()
    return r0, r1


async def balance(w3, token: str, owner: str) -> int:
    return await devnet.contract(w3, "ERC20", token).functions.balanceOf(owner).call()


async def revert_reason(w3, to: str, data: bytes, sender: str = DEV) -> str:
    with pytest.raises(ContractLogicError) as caught:
        await w3.eth.call({"from": sender, "to": to, "data": data, "gas": 2_000_000})
    return str(caught.value)


async def send(w3, sender: str, to: str, name: str, fn: str, *args, gas: int = 500_000, value: int = 0) -> str:
    tx = await TxSender.open(w3, sender)
    tx.call(to, name, fn, *args, gas=gas, value=value)
    return (await tx.settle())[0]


# --- the V2 pair ---

FEES = (0, 1, 5, 25, 30, 100, 1000)


async def _pairs_with_fees(w3) -> tuple[devnet.Market, list[devnet.Pair]]:
    """A market plus one USDC/DAI pair per fee in FEES, each on its own factory (default fee 30)."""
    market = await devnet.deploy_market(w3, DEV, tokens=("USDC", "DAI"), dexes=1)
    tx = await TxSender.open(w3, DEV)
    usdc, dai = market.address("USDC"), market.address("DAI")
    token0, token1 = sorted((usdc, dai), key=lambda a: int(a, 16))
    pairs = []
    for fee in FEES:
        factory = tx.deploy("UniswapV2Factory", market.pair_blueprint, 30, gas=devnet.GAS["UniswapV2Factory"])
        if fee == 30:  # the default fee goes through createPair, the others through createPairWithFee
            tx.call(factory, "UniswapV2Factory", "createPair", usdc, dai, gas=devnet.GAS["createPair"])
        else:
            tx.call(factory, "UniswapV2Factory", "createPairWithFee", usdc, dai, fee, gas=devnet.GAS["createPair"])
        pair = devnet.pair_address(factory, usdc, dai, fee)
        tx.call(usdc, "ERC20", "mint", pair, 10**6 * 10**6 + fee, gas=90_000)
        tx.call(dai, "ERC20", "mint", pair, 10**6 * 10**18 // 3, gas=90_000)
        tx.call(pair, "UniswapV2Pair", "mint", DEV, gas=200_000)
        pairs.append(devnet.Pair(len(pairs), pair, token0, token1, fee))
    await tx.settle()
    return market, pairs


def test_pair_swap_output_equals_the_v2_formula_exactly(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        _, pairs = await _pairs_with_fees(w3)
        rng = random.Random(1234)
        for pair in pairs:
            assert await devnet.contract(w3, "UniswapV2Pair", pair.address).functions.fee().call() == pair.fee_bps
        for _ in range(36):
            pair = rng.choice(pairs)
            zero_for_one = rng.random() < 0.5
            token_in = pair.token0 if zero_for_one else pair.token1
            r0, r1 = await reserves(w3, pair.address)
            r_in, r_out = (r0, r1) if zero_for_one else (r1, r0)
            amount_in = rng.randint(1, 10 ** rng.randint(1, len(str(r_in)) + 1))
            out = amount_out(amount_in, r_in, r_out, pair.fee_bps)
            if out == 0 or out >= r_out:
                continue
            await send(w3, DEV, token_in, "ERC20", "mint", pair.address, amount_in, gas=90_000)
            outs = (0, out) if zero_for_one else (out, 0)
            greedy = (0, out + 1) if zero_for_one else (out + 1, 0)
            # one wei more than the formula breaks the invariant: the formula is the exact maximum
            reason = await revert_reason(w3, pair.address, encode_call("UniswapV2Pair", "swap", *greedy, OTHER, b""))
            assert "UniswapV2: K" in reason
            tx_hash = await send(w3, DEV, pair.address, "UniswapV2Pair", "swap", *outs, OTHER, b"", gas=200_000)
            receipt = await w3.eth.get_transaction_receipt(tx_hash)
            pair_c = devnet.contract(w3, "UniswapV2Pair", pair.address)
            (swap,) = pair_c.events.Swap().process_receipt(receipt, errors=DISCARD)
            ins = (amount_in, 0) if zero_for_one else (0, amount_in)
            assert (swap.args.amount0In, swap.args.amount1In) == ins
            assert (swap.args.amount0Out, swap.args.amount1Out) == outs
            assert swap.args.to == OTHER and swap.args.sender == DEV
            expected = (r0 + amount_in, r1 - out) if zero_for_one else (r0 - out, r1 + amount_in)
            assert await reserves(w3, pair.address) == expected
            (sync,) = pair_c.events.Sync().process_receipt(receipt, errors=DISCARD)
            assert (sync.args.reserve0, sync.args.reserve1) == expected

    run(url, scenario)


def test_event_topics_and_selectors_are_uniswap_v2s(start_anvil):
    def topic(name: str, event: str) -> str:
        item = next(i for i in abi(name) if i.get("type") == "event" and i["name"] == event)
        return keccak(text=f"{event}({','.join(i['type'] for i in item['inputs'])})").hex()

    def indexed(name: str, event: str) -> list[str]:
        item = next(i for i in abi(name) if i.get("type") == "event" and i["name"] == event)
        return [i["name"] for i in item["inputs"] if i["indexed"]]

    assert topic("UniswapV2Pair", "Swap") == SWAP_TOPIC
    assert topic("UniswapV2Pair", "Sync") == SYNC_TOPIC
    assert topic("UniswapV2Pair", "Mint") == keccak(text="Mint(address,uint256,uint256)").hex()
    assert topic("UniswapV2Pair", "Burn") == keccak(text="Burn(address,uint256,uint256,address)").hex()
    assert topic("UniswapV2Factory", "PairCreated") == keccak(text="PairCreated(address,address,address,uint256)").hex()
    assert indexed("UniswapV2Pair", "Swap") == ["sender", "to"]
    assert indexed("UniswapV2Pair", "Mint") == ["sender"]
    assert indexed("UniswapV2Pair", "Burn") == ["sender", "to"]
    assert indexed("UniswapV2Pair", "Sync") == []
    assert indexed("UniswapV2Factory", "PairCreated") == ["token0", "token1"]
    selectors = {
        "UniswapV2Pair": ["swap(uint256,uint256,address,bytes)", "getReserves()", "mint(address)", "burn(address)",
                          "skim(address)", "sync()", "token0()", "token1()", "factory()", "price0CumulativeLast()",
                          "price1CumulativeLast()", "MINIMUM_LIQUIDITY()", "totalSupply()", "balanceOf(address)"],
        "UniswapV2Factory": ["createPair(address,address)", "getPair(address,address)", "allPairs(uint256)",
                             "allPairsLength()"],
        "UniswapV2Router": ["swapExactTokensForTokens(uint256,uint256,address[],address,uint256)",
                            "getAmountsOut(uint256,address[])"],
        "WETH9": ["deposit()", "withdraw(uint256)", "transfer(address,uint256)", "approve(address,uint256)",
                  "transferFrom(address,address,uint256)", "totalSupply()", "decimals()"],
    }
    for name, signatures in selectors.items():
        have = {f"{i['name']}({','.join(x['type'] for x in i['inputs'])})" for i in abi(name) if i.get("type") == "function"}
        assert set(signatures) <= have, (name, set(signatures) - have)
    outputs = next(i for i in abi("UniswapV2Pair") if i.get("name") == "getReserves")["outputs"]
    assert [o["type"] for o in outputs] == ["uint112", "uint112", "uint32"]

    url, _ = start_anvil()

    async def emitted(w3) -> set[str]:
        market = await devnet.deploy_market(w3, DEV, tokens=("USDC", "DAI"), dexes=1)
        pair = market.pairs[0]
        await send(w3, DEV, pair.token0, "ERC20", "mint", pair.address, 10**15, gas=90_000)
        tx_hash = await send(w3, DEV, pair.address, "UniswapV2Pair", "swap", 0, 1000, DEV, b"")
        receipt = await w3.eth.get_transaction_receipt(tx_hash)
        return {bytes(log["topics"][0]).hex() for log in receipt["logs"] if log["address"] == pair.address}

    assert {SWAP_TOPIC, SYNC_TOPIC} <= run(url, emitted)


FLASH_CALLEE = """#pragma version ~=0.4.3
from ethereum.ercs import IERC20
@external
def uniswapV2Call(sender: address, amount0: uint256, amount1: uint256, data: Bytes[2048]):
    token: address = empty(address)
    amount: uint256 = 0
    token, amount = abi_decode(data, (address, uint256))
    extcall IERC20(token).transfer(msg.sender, amount)
"""


def test_flash_swap_callback_needs_the_exact_repayment(start_anvil):
    vyper = pytest.importorskip("vyper")
    callee_code = bytes.fromhex(vyper.compile_code(FLASH_CALLEE, output_formats=["bytecode"])["bytecode"][2:])
    url, _ = start_anvil()

    async def scenario(w3):
        pair = (await devnet.deploy_market(w3, DEV, tokens=("USDC", "DAI"), dexes=1)).pairs[0]
        r0, r1 = await reserves(w3, pair.address)
        tx = await TxSender.open(w3, DEV)
        callee = create_address(DEV, tx.nonce)
        tx.send(None, callee_code, gas=500_000, label="deploy callee")
        await tx.settle()
        # borrow token1, repay token1 inside the callback: ceil(borrowed / (1 - fee)) passes, one wei less fails
        borrowed = r1 // 10
        repay = -(-borrowed * 10_000 // (10_000 - pair.fee_bps))
        await devnet.fund(w3, pair.token1, callee, repay)
        def repaying(amount: int) -> bytes:
            return encode(["address", "uint256"], [pair.token1, amount])

        short = encode_call("UniswapV2Pair", "swap", 0, borrowed, callee, repaying(repay - 1))
        assert "UniswapV2: K" in await revert_reason(w3, pair.address, short)
        await send(w3, DEV, pair.address, "UniswapV2Pair", "swap", 0, borrowed, callee, repaying(repay))
        assert await reserves(w3, pair.address) == (r0, r1 - borrowed + repay)
        assert await balance(w3, pair.token1, callee) == borrowed  # funded `repay`, got `borrowed`, paid `repay`

    run(url, scenario)


def test_burn_skim_and_sync(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        pair = (await devnet.deploy_market(w3, DEV, tokens=("USDC", "DAI"), dexes=1)).pairs[0]
        pair_c = devnet.contract(w3, "UniswapV2Pair", pair.address)
        r0, _ = await reserves(w3, pair.address)
        await devnet.fund(w3, pair.token0, pair.address, 777)
        await send(w3, DEV, pair.address, "UniswapV2Pair", "skim", OTHER)
        assert await balance(w3, pair.token0, OTHER) == 777
        await devnet.fund(w3, pair.token0, pair.address, 555)
        await send(w3, DEV, pair.address, "UniswapV2Pair", "sync")
        assert (await reserves(w3, pair.address))[0] == r0 + 555
        # burn a tenth of the LP tokens: amounts are pro rata, floored
        supply, lp = await pair_c.functions.totalSupply().call(), await pair_c.functions.balanceOf(DEV).call()
        assert supply == lp + 1000  # MINIMUM_LIQUIDITY is locked at address(0)
        b0, b1 = await reserves(w3, pair.address)
        await send(w3, DEV, pair.address, "UniswapV2Pair", "transfer", pair.address, lp // 10)
        await send(w3, DEV, pair.address, "UniswapV2Pair", "burn", OTHER)
        assert await balance(w3, pair.token1, OTHER) == lp // 10 * b1 // supply
        assert await reserves(w3, pair.address) == (b0 - lp // 10 * b0 // supply, b1 - lp // 10 * b1 // supply)

    run(url, scenario)


# --- market deployment, router, WETH ---

def test_deploy_market_is_fast_and_consistent(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        started = time.perf_counter()
        market = await devnet.deploy_market(w3, DEV, tokens=("WETH", "USDC", "DAI", "WBTC"), fees_bps=(30, 25))
        elapsed = time.perf_counter() - started
        assert len(market.pairs) == 12 and len(market.factories) == 2 and len(market.routers) == 2
        for pair in market.pairs:
            factory = devnet.contract(w3, "UniswapV2Factory", market.factories[pair.dex])
            pair_c = devnet.contract(w3, "UniswapV2Pair", pair.address)
            assert await factory.functions.getPair(pair.token1, pair.token0).call() == pair.address
            assert await pair_c.functions.token0().call() == pair.token0
            assert int(pair.token0, 16) < int(pair.token1, 16)
            assert await pair_c.functions.fee().call() == pair.fee_bps == (30, 25)[pair.dex]
            assert min(await reserves(w3, pair.address)) > 0
        assert await devnet.contract(w3, "UniswapV2Factory", market.factories[1]).functions.allPairsLength().call() == 6
        weth_usdc = [await reserves(w3, p.address) for p in market.pairs_of("WETH", "USDC")]
        assert weth_usdc[0] != weth_usdc[1]  # slightly different prices per dex
        json.dumps(market.to_dict())
        return elapsed

    elapsed = run(url, scenario)
    print(f"deploy_market (4 tokens, 2 dexes, 12 pools): {elapsed * 1000:.0f} ms")
    assert elapsed < 3.0


def test_router_weth_and_fund(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        market = await devnet.deploy_market(w3, DEV, tokens=("WETH", "USDC", "DAI"))
        weth, usdc, dai = market.weth, market.address("USDC"), market.address("DAI")
        router = devnet.contract(w3, "UniswapV2Router", market.routers[1])
        path = [weth, usdc, dai]
        amounts = await router.functions.getAmountsOut(10**18, path).call()
        expected = [10**18]
        for a, b in itertools.pairwise(path):
            pair = market.pair(a, b, dex=1)
            r0, r1 = await reserves(w3, pair.address)
            r_in, r_out = (r0, r1) if a == pair.token0 else (r1, r0)
            expected.append(amount_out(expected[-1], r_in, r_out, pair.fee_bps))
        assert amounts == expected
        await devnet.fund(w3, weth, OTHER, 10**18)  # wraps DEV's ether and transfers it
        assert await balance(w3, weth, OTHER) == 10**18
        await send(w3, OTHER, weth, "WETH9", "approve", market.routers[1], 2**256 - 1)
        deadline = (await w3.eth.get_block("latest"))["timestamp"] + 60
        await send(w3, OTHER, market.routers[1], "UniswapV2Router", "swapExactTokensForTokens",
                   10**18, expected[-1], path, OTHER, deadline)
        assert await balance(w3, dai, OTHER) == expected[-1]
        assert await balance(w3, weth, OTHER) == 0
        assert await devnet.contract(w3, "WETH9", weth).functions.allowance(OTHER, market.routers[1]).call() == 2**256 - 1
        # WETH9: withdraw unwraps, the payable default function wraps
        await send(w3, OTHER, weth, "WETH9", "deposit", value=5)
        before = await w3.eth.get_balance(weth)
        await send(w3, OTHER, weth, "WETH9", "withdraw", 3)
        assert await w3.eth.get_balance(weth) == before - 3
        tx = await TxSender.open(w3, OTHER)
        tx.send(weth, b"", gas=60_000, value=7, label="plain ether")
        await tx.settle()
        assert await balance(w3, weth, OTHER) == 9
        assert await devnet.contract(w3, "WETH9", weth).functions.totalSupply().call() == await w3.eth.get_balance(weth)
        assert "not minter" in await revert_reason(w3, usdc, encode_call("ERC20", "mint", OTHER, 1), sender=OTHER)
        token = await devnet.deploy(w3, "ERC20", "Test", "TST", 7, sender=OTHER)  # gas from eth_estimateGas
        assert await devnet.contract(w3, "ERC20", token).functions.decimals().call() == 7

    run(url, scenario)


def test_locally_signed_transactions(start_anvil):
    from eth_account import Account

    url, _ = start_anvil(chain_id=4242)
    account = Account.from_key(DEV_KEY)
    assert account.address == DEV

    async def scenario(w3):
        executor = await devnet.deploy_executor(w3, account)  # eth_sendRawTransaction
        assert await devnet.contract(w3, "ArbExecutor", executor).functions.owner().call() == account.address
        market = await devnet.deploy_market(w3, account, tokens=("USDC", "DAI"), dexes=1)
        await devnet.fund(w3, market.address("DAI"), executor, 10**18, sender=account)
        await send(w3, DEV, executor, "ArbExecutor", "withdraw", market.address("DAI"), 10**18, OTHER)
        assert await balance(w3, market.address("DAI"), OTHER) == 10**18

    run(url, scenario)


# --- the arbitrage executor ---

def _route(market: devnet.Market, hops: list[tuple[int, str, str]]) -> tuple[list[str], list[bool], list[int]]:
    pools, directions, fees = [], [], []
    for dex, a, b in hops:
        pair = market.pair(a, b, dex)
        pools.append(pair.address)
        directions.append(market.address(a) == pair.token0)
        fees.append(pair.fee_bps)
    return pools, directions, fees


async def _predict(w3, pools: list[str], directions: list[bool], fees: list[int], amount_in: int) -> int:
    """The cycle's final output by the integer V2 formula over the pools' current reserves."""
    amount = amount_in
    for pool, zero_for_one, fee in zip(pools, directions, fees):
        r0, r1 = await reserves(w3, pool)
        amount = amount_out(amount, r0, r1, fee) if zero_for_one else amount_out(amount, r1, r0, fee)
    return amount


async def _best_amount(w3, route, unit: int) -> tuple[int, int]:
    """(amount_in, profit) maximising profit over a coarse grid of sizes."""
    candidates = [unit * m // 100 for m in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000)]
    profits = [(await _predict(w3, *route, a) - a, a) for a in candidates]
    profit, amount = max(profits)
    return amount, profit


async def _skewed_market(w3) -> tuple[devnet.Market, str]:
    """A market where dex 0's USDC/DAI pool got 5% of its depth in USDC dumped into it; plus an executor."""
    market = await devnet.deploy_market(w3, DEV, tokens=("WETH", "USDC", "DAI"), spread_bps=0)
    pool = market.pair("USDC", "DAI", dex=0)
    usdc = market.address("USDC")
    r0, r1 = await reserves(w3, pool.address)
    dump = 50_000 * 10**6
    out = amount_out(dump, r0, r1, pool.fee_bps) if usdc == pool.token0 else amount_out(dump, r1, r0, pool.fee_bps)
    await devnet.fund(w3, usdc, pool.address, dump)
    outs = (0, out) if usdc == pool.token0 else (out, 0)
    await send(w3, DEV, pool.address, "UniswapV2Pair", "swap", *outs, DEV, b"")
    executor = await devnet.deploy_executor(w3, DEV)
    return market, executor


async def _execute(w3, executor: str, route, amount_in: int, token: str, min_profit: int, sender: str = DEV):
    pools, directions, fees = route
    return await send(w3, sender, executor, "ArbExecutor", "execute", pools, directions, fees, amount_in, token, min_profit,
                      gas=600_000)


@pytest.mark.parametrize("hops, token", [
    ([(0, "DAI", "USDC"), (1, "USDC", "DAI")], "DAI"),
    ([(1, "WETH", "DAI"), (0, "DAI", "USDC"), (1, "USDC", "WETH")], "WETH"),
], ids=["2-hop", "3-hop"])
def test_executor_profit_is_exactly_the_integer_formula(start_anvil, hops, token):
    url, _ = start_anvil()

    async def scenario(w3):
        market, executor = await _skewed_market(w3)
        token_in = market.address(token)
        route = _route(market, hops)
        amount_in, profit = await _best_amount(w3, route, 10 ** market.tokens[token].decimals * (1 if token == "WETH" else 3000))
        assert profit > 0
        await devnet.fund(w3, token_in, executor, amount_in)
        before = [await reserves(w3, p) for p in route[0]]
        tx_hash = await _execute(w3, executor, route, amount_in, token_in, profit)
        receipt = await w3.eth.get_transaction_receipt(tx_hash)
        assert await balance(w3, token_in, executor) == amount_in + profit
        (event,) = devnet.contract(w3, "ArbExecutor", executor).events.Arbitrage().process_receipt(receipt, errors=DISCARD)
        assert (event.args.token, event.args.amount_in, event.args.profit) == (token_in, amount_in, profit)
        assert [await reserves(w3, p) for p in route[0]] != before
        for pool in route[0]:  # nothing left behind in any pool
            pair = devnet.contract(w3, "UniswapV2Pair", pool)
            t0, t1 = await pair.functions.token0().call(), await pair.functions.token1().call()
            assert (await balance(w3, t0, pool), await balance(w3, t1, pool)) == await reserves(w3, pool)
        return receipt["gasUsed"]

    gas = run(url, scenario)
    print(f"execute {len(hops)} hops: {gas} gas")


def test_executor_reverts_unprofitable_and_changes_nothing(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        market, executor = await _skewed_market(w3)
        dai = market.address("DAI")
        route = _route(market, [(0, "DAI", "USDC"), (1, "USDC", "DAI")])
        amount_in, profit = await _best_amount(w3, route, 3000 * 10**18)
        await devnet.fund(w3, dai, executor, amount_in)
        state = [await reserves(w3, p) for p in route[0]], await balance(w3, dai, executor)
        data = encode_call("ArbExecutor", "execute", *route, amount_in, dai, profit + 1)
        assert "unprofitable" in await revert_reason(w3, executor, data)
        with pytest.raises(TxFailed):
            await _execute(w3, executor, route, amount_in, dai, profit + 1)
        assert ([await reserves(w3, p) for p in route[0]], await balance(w3, dai, executor)) == state
        # the reverse cycle loses money: reverts even with min_profit 0
        backwards = _route(market, [(1, "DAI", "USDC"), (0, "USDC", "DAI")])
        data = encode_call("ArbExecutor", "execute", *backwards, amount_in, dai, 0)
        assert "unprofitable" in await revert_reason(w3, executor, data)
        # and the exact profit still goes through afterwards
        await _execute(w3, executor, route, amount_in, dai, profit)
        assert await balance(w3, dai, executor) == amount_in + profit

    run(url, scenario)


def test_executor_is_owner_only_and_withdraw_works(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        market, executor = await _skewed_market(w3)
        dai = market.address("DAI")
        assert await devnet.contract(w3, "ArbExecutor", executor).functions.owner().call() == DEV
        route = _route(market, [(0, "DAI", "USDC"), (1, "USDC", "DAI")])
        await devnet.fund(w3, dai, executor, 10**21)
        data = encode_call("ArbExecutor", "execute", *route, 10**20, dai, 0)
        assert "not owner" in await revert_reason(w3, executor, data, sender=OTHER)
        assert "not owner" in await revert_reason(w3, executor, encode_call("ArbExecutor", "withdraw", dai, 1, OTHER),
                                                  sender=OTHER)
        with pytest.raises(TxFailed):
            await send(w3, OTHER, executor, "ArbExecutor", "withdraw", dai, 1, OTHER)
        assert "bad route" in await revert_reason(w3, executor, encode_call("ArbExecutor", "execute", route[0], [True],
                                                                            route[2], 10**20, dai, 0))
        await send(w3, DEV, executor, "ArbExecutor", "withdraw", dai, 4 * 10**20, OTHER)
        assert await balance(w3, dai, OTHER) == 4 * 10**20
        assert await balance(w3, dai, executor) == 6 * 10**20

    run(url, scenario)


# --- artifacts ---

def test_artifacts_were_built_from_the_current_sources():
    for name in CONTRACTS:
        art = artifact(name)
        assert art["source_sha256"] == source_sha256(name), f"artifacts/{name}.json is stale: python -m mevops.contracts.compile"
        assert art["abi"] and art["bytecode"].startswith("0x") and art["blueprint"].startswith("0x")


@pytest.mark.slow
def test_artifacts_match_a_fresh_compile():
    vyper = pytest.importorskip("vyper")
    from mevops.contracts.compile import compile_all

    versions = {artifact(name)["vyper_version"] for name in CONTRACTS}
    if versions != {vyper.__version__}:
        pytest.skip(f"artifacts were built with vyper {versions}, {vyper.__version__} is installed")
    fresh = compile_all(CONTRACTS)
    for name in CONTRACTS:
        assert fresh[name] == artifact(name), f"artifacts/{name}.json differs from a fresh compile"


def test_importing_the_contracts_package_does_not_import_web3():
    import subprocess
    import sys

    code = "import sys, mevops.contracts, mevops.contracts.devnet; mevops.contracts.artifact('ArbExecutor'); " \
           "assert 'web3' not in sys.modules, 'web3 imported'"
    done = subprocess.run([sys.executable, "-c", code], check=False, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
