"""The flash-arbitrage strategy inside the real Engine on anvil: Sync logs from the existing
``PoolLogCollector``, a dislocation appears, the zero-inventory searcher's trade lands once."""

from __future__ import annotations

import asyncio

import pytest

pytest.importorskip("web3")

from mevops.contracts.transactions import connected
from mevops.engine.collectors.pool_logs import PoolLogCollector
from mevops.engine.collectors.rpc import HttpRpc
from mevops.engine.core import Engine
from mevops.engine.flash import FlashArbStrategy
from mevops.engine.flash.executor import FlashArbTxExecutor
from tests.integration.test_flash_arb import POOL_LIQUIDITY, SEARCHER, balance, cycles_for, setup, skew


def test_engine_lands_a_flash_arbitrage_from_sync_logs(start_anvil):
    url, _ = start_anvil()

    async def scenario(w3):
        market, _flash_pool, _vault, executor, pools = await setup(w3)
        usdc, dai = market.address("USDC"), market.address("DAI")
        strategy = FlashArbStrategy(pools, cycles_for(market), premium_bps=5, liquidity={usdc: POOL_LIQUIDITY})
        # the market starts dislocated: trade it by hand first, so the engine starts from a flat market
        results = []
        await FlashArbTxExecutor(w3, SEARCHER, executor).execute(strategy.evaluate()[0])
        first_profit = await balance(w3, usdc, executor)
        http = HttpRpc(url)
        head = await w3.eth.block_number
        engine = Engine([PoolLogCollector(http, [p.address for p in market.pairs], start_block=head, poll_interval=0.05)],
                        [strategy], [FlashArbTxExecutor(w3, SEARCHER, executor)],
                        on_result=lambda action, result: results.append((action, result)))
        await engine.start()
        try:
            await asyncio.sleep(0.2)
            await skew(w3, market, market.pair(usdc, dai, 1), "DAI", 20_000 * 10**18)  # now DAI is cheap on dex 1
            for _ in range(300):
                if any(r.status == "mined" for _, r in results):
                    break
                await asyncio.sleep(0.02)
        finally:
            await engine.stop()
            await http.close()
        mined = [(a, r) for a, r in results if r.status == "mined"]
        ((action, result),) = mined
        assert action.hops[0].pool == market.pair(usdc, dai, 1).address
        assert result.realized_profit == action.expected_profit > 0
        assert await balance(w3, usdc, executor) == first_profit + action.expected_profit
        assert await balance(w3, usdc, SEARCHER) == 0

    async def main():
        async with connected(url) as w3:
            await scenario(w3)

    asyncio.run(main())
