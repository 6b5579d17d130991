"""The liquidation strategy inside the real Engine on anvil: the market's logs collected by
``LendingLogCollector``, positions rebuilt from history, the oracle update detected, the
liquidation landed by ``LiquidationTxExecutor`` — no hand-fed events."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("web3")

from mevops.contracts.devnet_lending import set_price
from mevops.contracts.transactions import connected
from mevops.engine.collectors.rpc import HttpRpc
from mevops.engine.core import Engine
from mevops.engine.lending import LiquidationStrategy, PositionTracker
from mevops.engine.lending.collector import LendingLogCollector
from mevops.engine.lending.executor import LiquidationTxExecutor
from tests.integration.test_liquidation_e2e import BORROWER, DEV, SEARCHER, USD, balance, setup


def test_engine_liquidates_after_the_oracle_update(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        dex, lending, _flash_pool, liquidator, pools = await setup(w3)
        link, usdc = dex.address("LINK"), dex.address("USDC")
        http = HttpRpc(url)
        strategy = LiquidationStrategy(lending, PositionTracker(), pools, premium_bps=5)
        results = []
        engine = Engine([LendingLogCollector(http, lending, 0, poll_interval=0.05)], [strategy],
                        [LiquidationTxExecutor(w3, SEARCHER, liquidator)],
                        on_result=lambda action, result: results.append((action, result)))
        await engine.start()
        try:
            for _ in range(200):  # history replayed: the borrower's position is known
                if strategy.tracker.positions and strategy.tracker.account(BORROWER).total_debt > 0:
                    break
                await asyncio.sleep(0.02)
            assert strategy.tracker.account(BORROWER).total_debt > 0
            await set_price(w3, DEV, lending, link, 13 * USD)
            for _ in range(300):
                if results:
                    break
                await asyncio.sleep(0.02)
        finally:
            await engine.stop()
            await http.close()
        ((action, result),) = results
        assert result.status == "mined", result.reason
        assert result.realized_profit == action.expected_profit > 0
        assert await balance(w3, usdc, liquidator) == action.expected_profit
        assert engine.metrics.results["mined"] == 1 and not engine.metrics.errors

    async def main():
        async with connected(url) as w3:
            await scenario(w3)

    asyncio.run(main())
