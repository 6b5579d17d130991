"""Flash-loan funded arbitrage on anvil: a searcher holding no tokens borrows, trades, repays, profits."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("web3")

from mevops.contracts import devnet
from mevops.contracts.devnet_flash import deploy_flash_executor, deploy_flash_pool, deploy_flash_vault
from mevops.contracts.protocol_artifacts import encode_call
from mevops.contracts.transactions import TxSender, connected
from mevops.engine.dex.v2 import Pool
from mevops.engine.flash import FlashArbStrategy, FlashCycle, FlashFee, flash_premium
from mevops.engine.flash.executor import FlashArbTxExecutor
from mevops.engine.types import Hop, PoolSync

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"  # anvil account 0: deploys the market, mints
SEARCHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil account 1: owns the executor, holds no tokens
POOL_LIQUIDITY = 5_000_000 * 10**6  # USDC in the flash-loan pool (and in the vault)
VAULT_FEE = 3 * 10**14  # Balancer-style fee percentage: 0.03%


async def balance(w3, token: str, owner: str) -> int:
    return await devnet.contract(w3, "ERC20", token).functions.balanceOf(owner).call()


async def reserves(w3, pair: str) -> tuple[int, int]:
    r0, r1, _ = await devnet.contract(w3, "UniswapV2Pair", pair).functions.getReserves().call()
    return r0, r1


async def skew(w3, market, pair, symbol: str, amount: int) -> None:
    """Make ``symbol`` cheaper in ``pair``: mint it into the pair and sync (a price dislocation)."""
    await devnet.fund(w3, market.address(symbol), pair.address, amount)
    tx = await TxSender.open(w3, DEV)
    tx.call(pair.address, "UniswapV2Pair", "sync", gas=100_000)
    await tx.settle()


def cycles_for(market) -> list[FlashCycle]:
    usdc, dai = market.address("USDC"), market.address("DAI")
    p0, p1 = market.pair(usdc, dai, 0), market.pair(usdc, dai, 1)
    out = []
    for first, second in ((p0, p1), (p1, p0)):
        z1 = first.token0 == usdc
        z2 = second.token0 == dai
        out.append(FlashCycle(usdc, (Hop(first.address, usdc, dai, z1, first.fee_bps),
                                     Hop(second.address, dai, usdc, z2, second.fee_bps))))
    return out


async def setup(w3, premium_bps: int = 5):
    market = await devnet.deploy_market(w3, DEV, tokens=("USDC", "DAI"), dexes=2, fees_bps=(30, 25), spread_bps=0)
    usdc, dai = market.address("USDC"), market.address("DAI")
    await skew(w3, market, market.pair(usdc, dai, 0), "DAI", 30_000 * 10**18)  # DAI 3% cheap on dex 0
    flash_pool = await deploy_flash_pool(w3, DEV, premium_bps, {usdc: POOL_LIQUIDITY})
    vault = await deploy_flash_vault(w3, DEV, VAULT_FEE, {usdc: POOL_LIQUIDITY})
    executor = await deploy_flash_executor(w3, SEARCHER, flash_pool, vault)
    pools = [Pool(p.address, p.token0, p.token1, *(await reserves(w3, p.address)), fee_bps=p.fee_bps)
             for p in market.pairs]
    return market, flash_pool, vault, executor, pools


async def sync_events(w3, market, block: int) -> list[PoolSync]:
    return [PoolSync(p.address, *(await reserves(w3, p.address)), block=block, log_index=i)
            for i, p in enumerate(market.pairs)]


def test_zero_inventory_searcher_profits_with_aave_style_flash_loan(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        market, flash_pool, _vault, executor, pools = await setup(w3)
        usdc, dai = market.address("USDC"), market.address("DAI")
        assert await balance(w3, usdc, SEARCHER) == 0 and await balance(w3, dai, SEARCHER) == 0
        assert await balance(w3, usdc, executor) == 0
        strategy = FlashArbStrategy(pools, cycles_for(market), premium_bps=5, liquidity={usdc: POOL_LIQUIDITY})
        trades = []
        for event in await sync_events(w3, market, await w3.eth.block_number):
            trades += strategy.process_event(event)
        best = max(trades, key=lambda t: t.net_profit)
        assert best.funding == "aave" and best.flash_fee == flash_premium(best.amount_in, 5) > 0
        assert best.hops[0].pool == market.pair(usdc, dai, 0).address  # buy the cheap DAI first
        result = await FlashArbTxExecutor(w3, SEARCHER, executor).execute(best)
        assert result.status == "mined", result.reason
        assert result.realized_profit == best.expected_profit  # the exact-integer prediction, to the wei
        assert await balance(w3, usdc, executor) == best.expected_profit > 0
        assert await balance(w3, usdc, flash_pool) == POOL_LIQUIDITY + best.flash_fee  # the pool got its premium
        assert await balance(w3, usdc, SEARCHER) == 0  # never held a token

        # the owner can withdraw the profit
        tx = await TxSender.open(w3, SEARCHER)
        tx.send(executor, encode_call("FlashArbExecutor", "withdraw", usdc, best.expected_profit, SEARCHER), gas=100_000)
        await tx.settle()
        assert await balance(w3, usdc, SEARCHER) == best.expected_profit
        return best, result

    best, result = asyncio.run(_run(url, scenario))
    print(f"flash arb: borrowed {best.amount_in} USDC-wei, premium {best.flash_fee}, profit {result.realized_profit},"
          f" gas {result.gas_used}")


def test_unprofitable_flash_attempt_reverts_and_costs_only_gas(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        market, flash_pool, _vault, executor, pools = await setup(w3)
        usdc = market.address("USDC")
        strategy = FlashArbStrategy(pools, cycles_for(market), premium_bps=5, liquidity={usdc: POOL_LIQUIDITY})
        best = strategy.evaluate()[0]
        runner = FlashArbTxExecutor(w3, SEARCHER, executor)
        assert (await runner.execute(best)).status == "mined"  # the dislocation is gone now
        after_arb = {a: await balance(w3, usdc, a) for a in (executor, flash_pool)}
        reserves_before = [await reserves(w3, p.address) for p in market.pairs]
        eth_before = await w3.eth.get_balance(SEARCHER)

        # the same trade again: the strategy finds nothing, the executor refuses on simulation,
        for event in await sync_events(w3, market, await w3.eth.block_number):
            strategy.process_event(event)
        assert strategy.evaluate() == []
        assert (await runner.execute(best)).status == "simulated_fail"
        # and sent anyway, the contract reverts: only gas is lost
        sent = await runner.send_unchecked(best)
        assert sent.status == "reverted" and sent.tx_hash
        receipt = await w3.eth.get_transaction_receipt(sent.tx_hash)
        assert receipt["status"] == 0
        gas_paid = receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert await w3.eth.get_balance(SEARCHER) == eth_before - gas_paid
        assert {a: await balance(w3, usdc, a) for a in (executor, flash_pool)} == after_arb
        assert [await reserves(w3, p.address) for p in market.pairs] == reserves_before

        # a stranger cannot use the executor, nor call its callback directly
        call = {"from": DEV, "to": executor, "gas": 1_000_000}
        for data in (encode_call("FlashArbExecutor", "flash_arb", usdc, 10**6, [market.pairs[0].address], [True], [30], 0),
                     encode_call("FlashArbExecutor", "executeOperation", usdc, 10**6, 0, DEV, b"")):
            with pytest.raises(Exception, match="not owner|untrusted"):
                await w3.eth.call({**call, "data": data})

    asyncio.run(_run(url, scenario))


def test_uniswap_v2_flash_swap_funding(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        market, flash_pool, _vault, executor, pools = await setup(w3)
        usdc = market.address("USDC")
        strategy = FlashArbStrategy(pools, cycles_for(market), funding="uniswap_v2")
        best = strategy.evaluate()[0]
        assert best.flash_fee == 0
        result = await FlashArbTxExecutor(w3, SEARCHER, executor).execute(best)
        assert result.status == "mined", result.reason
        assert result.realized_profit == best.expected_profit > 0
        assert await balance(w3, usdc, executor) == best.expected_profit
        assert await balance(w3, usdc, flash_pool) == POOL_LIQUIDITY  # the Aave-style pool was not used
        # the premium-free flash swap earns at least as much as the Aave-style loan would
        aave = FlashArbStrategy(pools, cycles_for(market), premium_bps=5).evaluate()
        assert not aave or aave[0].expected_profit <= best.expected_profit

    asyncio.run(_run(url, scenario))


def test_balancer_style_vault_funding(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        market, flash_pool, vault, executor, pools = await setup(w3)
        usdc = market.address("USDC")
        strategy = FlashArbStrategy(pools, cycles_for(market), funding="balancer", vault_fee_percentage=VAULT_FEE,
                                    liquidity={usdc: POOL_LIQUIDITY})
        best = strategy.evaluate()[0]
        assert best.flash_fee == FlashFee.balancer(VAULT_FEE)(best.amount_in) == -(-best.amount_in * 3 // 10_000)
        result = await FlashArbTxExecutor(w3, SEARCHER, executor).execute(best)
        assert result.status == "mined", result.reason
        assert result.realized_profit == best.expected_profit > 0
        assert await balance(w3, usdc, executor) == best.expected_profit
        assert await balance(w3, usdc, vault) == POOL_LIQUIDITY + best.flash_fee
        assert await balance(w3, usdc, flash_pool) == POOL_LIQUIDITY
        # the vault's callback cannot be triggered by anyone else
        data = encode_call("FlashArbExecutor", "receiveFlashLoan", [usdc], [1], [0], b"")
        with pytest.raises(Exception, match="untrusted"):
            await w3.eth.call({"from": DEV, "to": executor, "data": data, "gas": 500_000})

    asyncio.run(_run(url, scenario))


async def _run(url, scenario):
    async with connected(url) as w3:
        return await scenario(w3)
