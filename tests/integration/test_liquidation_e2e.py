"""Liquidations on anvil: positions tracked from events, HF < 1 detected after an oracle update,
liquidated within the close factor with flash-borrowed debt, the seized collateral sold on V2."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("web3")

from mevops.contracts import devnet
from mevops.contracts.devnet_flash import protocol_contract
from mevops.contracts.devnet_lending import (  # noqa: F401
    BORROWER,
    DEV,
    FLASH_LIQUIDITY,
    SEARCHER,
    USD,
    ReserveSpec,
    deploy_flash_liquidator,
    deploy_lending_market,
    deploy_liquidation_scenario,
    set_price,
)
from mevops.contracts.protocol_artifacts import encode_call
from mevops.contracts.transactions import TxFailed, TxSender, connected
from mevops.engine.dex.v2 import Pool
from mevops.engine.flash import flash_premium
from mevops.engine.lending import LiquidationStrategy, PositionTracker, decode_log
from mevops.engine.lending.executor import LiquidationTxExecutor
from mevops.engine.lending.health import HF_ONE


async def balance(w3, token: str, owner: str) -> int:
    return await devnet.contract(w3, "ERC20", token).functions.balanceOf(owner).call()


async def logs(w3, address: str, from_block: int) -> list:
    return [e for log in await w3.eth.get_logs({"address": address, "fromBlock": from_block, "toBlock": "latest"})
            if (e := decode_log(log)) is not None]


setup = deploy_liquidation_scenario  # the same market `mevops demo --scenario liquidation` uses


async def chain_account(w3, lending, user):
    return tuple(await protocol_contract(w3, "LendingMarket", lending).functions.getUserAccountData(user).call())


def test_liquidation_after_oracle_update_with_flash_loan(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        dex, lending, flash_pool, liquidator, pools = await setup(w3)
        link, usdc = dex.address("LINK"), dex.address("USDC")
        strategy = LiquidationStrategy(lending, PositionTracker(), pools, premium_bps=5)
        strategy.sync_state(await logs(w3, lending, 0))  # positions rebuilt from Supply/Borrow/... events
        tracked = strategy.tracker.account(BORROWER)
        assert (tracked.total_collateral, tracked.total_debt, tracked.available_borrows, tracked.liquidation_threshold,
            tracked.ltv, tracked.health_factor) == await chain_account(w3, lending, BORROWER)
        assert tracked.health_factor > HF_ONE and strategy.evaluate() == []

        # the oracle update: LINK $15 -> $13; the DEX still pays ~$15
        start = await w3.eth.block_number + 1
        await set_price(w3, DEV, lending, link, 13 * USD)
        trades = []
        for event in await logs(w3, lending, start):
            trades += strategy.process_event(event)
        (trade,) = trades
        before = await chain_account(w3, lending, BORROWER)
        assert before[5] < HF_ONE and trade.health_factor == before[5]
        owed = await protocol_contract(w3, "LendingMarket", lending).functions.debt(BORROWER, usdc).call()
        assert trade.debt_to_cover <= owed // 2  # the close factor
        assert trade.flash_fee == flash_premium(trade.debt_to_cover, 5)
        assert await balance(w3, usdc, SEARCHER) == 0 and await balance(w3, usdc, liquidator) == 0

        result = await LiquidationTxExecutor(w3, SEARCHER, liquidator).execute(trade)
        assert result.status == "mined", result.reason
        assert result.realized_profit == trade.expected_profit > 0
        assert await balance(w3, usdc, liquidator) == trade.expected_profit
        assert await balance(w3, usdc, flash_pool) == FLASH_LIQUIDITY + trade.flash_fee
        assert await balance(w3, link, liquidator) == 0  # every seized LINK was sold
        after = await chain_account(w3, lending, BORROWER)
        assert after[5] > before[5]  # the liquidation improved the health factor

        # the tracker follows the LiquidationCall event to the chain's exact state
        events = await logs(w3, lending, result.block)
        for event in events:
            strategy.process_event(event)
        mirrored = strategy.tracker.account(BORROWER)
        assert (mirrored.total_collateral, mirrored.total_debt, mirrored.health_factor) == (after[0], after[1], after[5])
        return trade, result, before[5], after[5]

    trade, result, hf_before, hf_after = asyncio.run(_run(url, scenario))
    print(f"liquidation: covered {trade.debt_to_cover / 1e6:.2f} USDC (flash fee {trade.flash_fee}), seized "
          f"{trade.expected_seized / 1e18:.4f} LINK, profit {result.realized_profit / 1e6:.6f} USDC, "
          f"HF {hf_before / 1e18:.4f} -> {hf_after / 1e18:.4f}, gas {result.gas_used}")


def test_healthy_position_cannot_be_liquidated(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        dex, lending, _flash_pool, liquidator, pools = await setup(w3)
        link, usdc = dex.address("LINK"), dex.address("USDC")
        data = encode_call("FlashLiquidator", "liquidate", lending, link, usdc, BORROWER, 1000 * 10**6,
                           pools[0].address, pools[0].token0 == link.lower(), 30, 1)
        with pytest.raises(Exception, match="health factor not below threshold"):
            await w3.eth.call({"from": SEARCHER, "to": liquidator, "data": data, "gas": 1_000_000})
        with pytest.raises(Exception, match="not owner"):
            await w3.eth.call({"from": DEV, "to": liquidator, "data": data, "gas": 1_000_000})

    asyncio.run(_run(url, scenario))


def test_unprofitable_liquidation_is_not_emitted_and_reverts_when_forced(start_anvil):
    """LINK's oracle price drops to $13 but the DEX crashes to ~$9: selling the seized collateral
    cannot repay the flash loan. The strategy emits nothing; forced, the contract reverts, costing gas only."""
    url, _ = start_anvil()

    async def scenario(w3):
        dex, lending, flash_pool, liquidator, _pools = await setup(w3)
        link, usdc = dex.address("LINK"), dex.address("USDC")
        pair = dex.pairs[0]
        await devnet.fund(w3, link, pair.address, 45_000 * 10**18)  # +67% LINK in the pool: ~$9 a LINK
        tx = await TxSender.open(w3, DEV)
        tx.call(pair.address, "UniswapV2Pair", "sync", gas=100_000)
        await tx.settle()
        r0, r1, _ = await devnet.contract(w3, "UniswapV2Pair", pair.address).functions.getReserves().call()
        strategy = LiquidationStrategy(lending, PositionTracker(),
                                       [Pool(pair.address, pair.token0, pair.token1, r0, r1, pair.fee_bps)])
        strategy.sync_state(await logs(w3, lending, 0))
        start = await w3.eth.block_number + 1
        await set_price(w3, DEV, lending, link, 13 * USD)
        for event in await logs(w3, lending, start):
            assert strategy.process_event(event) == []
        assert strategy.tracker.liquidatable() == [BORROWER.lower()]  # detected, but not worth it

        debt_before = await protocol_contract(w3, "LendingMarket", lending).functions.debt(BORROWER, usdc).call()
        eth_before = await w3.eth.get_balance(SEARCHER)
        data = encode_call("FlashLiquidator", "liquidate", lending, link, usdc, BORROWER, 5_000 * 10**6,
                           pair.address, pair.token0 == link, 30, 1)
        tx = await TxSender.open(w3, SEARCHER)
        tx.send(liquidator, data, gas=700_000)
        with pytest.raises(TxFailed) as failed:
            await tx.settle()
        receipt = await w3.eth.get_transaction_receipt(failed.value.tx_hash)
        assert receipt["status"] == 0
        assert await w3.eth.get_balance(SEARCHER) == eth_before - receipt["gasUsed"] * receipt["effectiveGasPrice"]
        assert await protocol_contract(w3, "LendingMarket", lending).functions.debt(BORROWER, usdc).call() == debt_before
        assert await balance(w3, usdc, flash_pool) == FLASH_LIQUIDITY and await balance(w3, usdc, liquidator) == 0

    asyncio.run(_run(url, scenario))


async def _run(url, scenario):
    async with connected(url) as w3:
        return await scenario(w3)
