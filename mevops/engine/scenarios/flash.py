"""Flash-loan arbitrage: a searcher holding no tokens borrows USDC from an Aave-style pool, buys DAI
where it is cheap, sells it where it is not, repays loan + premium and keeps the rest — one transaction."""

from __future__ import annotations

from typing import Any

from mevops.engine.scenarios import ScenarioResult, check, checked_receipt, token_balance

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"       # anvil account 0: deploys the market, mints
SEARCHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil account 1: owns the executor, holds no tokens
LIQUIDITY = 5_000_000 * 10**6                            # USDC in the flash-loan pool
PREMIUM_BPS = 5


async def run(rpc_url: str, **_: Any) -> ScenarioResult:
    from mevops.contracts import devnet
    from mevops.contracts.devnet_flash import deploy_flash_executor, deploy_flash_pool
    from mevops.contracts.transactions import TxSender, connected
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.flash import FlashArbStrategy, FlashCycle
    from mevops.engine.flash.executor import FlashArbTxExecutor
    from mevops.engine.types import Hop, PoolSync

    async with connected(rpc_url) as w3:
        market = await devnet.deploy_market(w3, DEV, tokens=("USDC", "DAI"), dexes=2, fees_bps=(30, 25), spread_bps=0)
        usdc, dai = market.address("USDC"), market.address("DAI")
        p0, p1 = market.pair(usdc, dai, 0), market.pair(usdc, dai, 1)
        # the dislocation: 30,000 DAI lands in dex 0's pool (DAI ~3% cheap there)
        await devnet.fund(w3, dai, p0.address, 30_000 * 10**18)
        tx = await TxSender.open(w3, DEV)
        tx.call(p0.address, "UniswapV2Pair", "sync", gas=100_000)
        await tx.settle()
        flash_pool = await deploy_flash_pool(w3, DEV, PREMIUM_BPS, {usdc: LIQUIDITY})
        executor = await deploy_flash_executor(w3, SEARCHER, flash_pool)
        cycles = [FlashCycle(usdc, (Hop(a.address, usdc, dai, a.token0 == usdc, a.fee_bps),
                                    Hop(b.address, dai, usdc, b.token0 == dai, b.fee_bps))) for a, b in ((p0, p1), (p1, p0))]
        pools, events = [], []
        head = await w3.eth.block_number
        for i, p in enumerate(market.pairs):
            r0, r1, _ = await devnet.contract(w3, "UniswapV2Pair", p.address).functions.getReserves().call()
            pools.append(Pool(p.address, p.token0, p.token1, r0, r1, fee_bps=p.fee_bps))
            events.append(PoolSync(p.address, r0, r1, block=head, log_index=i))
        strategy = FlashArbStrategy(pools, cycles, premium_bps=PREMIUM_BPS, liquidity={usdc: LIQUIDITY})
        trades = [t for event in events for t in strategy.process_event(event)]
        check(bool(trades), "the dislocated market offered no flash arbitrage")
        trade = max(trades, key=lambda t: t.net_profit)
        before = {a: await token_balance(w3, usdc, a) for a in (executor, flash_pool, SEARCHER)}
        check(before[executor] == 0 and before[SEARCHER] == 0, "the searcher and its executor must start with no USDC")
        result = await FlashArbTxExecutor(w3, SEARCHER, executor).execute(trade)
        check(result.status == "mined", f"the flash arbitrage did not land: {result.status} {result.reason}")
        receipt = await checked_receipt(w3, result.tx_hash, result.block)
        gain = await token_balance(w3, usdc, executor) - before[executor]
        fee = await token_balance(w3, usdc, flash_pool) - before[flash_pool]
        check(gain == result.realized_profit == trade.expected_profit > 0,
              f"executor USDC grew by {gain}, reported {result.realized_profit}, predicted {trade.expected_profit}")
        check(fee == trade.flash_fee, f"the flash pool earned {fee}, the trade priced its premium at {trade.flash_fee}")
        check(await token_balance(w3, usdc, SEARCHER) == 0, "the searcher ended up holding USDC")
    return ScenarioResult(
        "flash", f"flash-loan arbitrage: borrowed {trade.amount_in / 1e6:,.2f} USDC ({trade.funding}), premium "
                 f"{trade.flash_fee / 1e6:.6f} USDC, zero inventory",
        result.tx_hash, result.block, receipt["gasUsed"], gain, "USDC", 6,
        facts={"executor": executor, "flash_pool": flash_pool, "token": usdc, "borrowed": trade.amount_in,
               "flash_fee": trade.flash_fee, "funding": trade.funding, "searcher_balance": 0})
