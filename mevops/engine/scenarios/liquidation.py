"""Liquidation: an oracle update drops LINK from $15 to $13, the borrower's health factor falls
below 1, and the searcher liquidates within the close factor with flash-borrowed USDC, sells the
seized LINK on a V2 pool, repays the loan and keeps the bonus — one transaction, no inventory."""

from __future__ import annotations

from typing import Any

from mevops.engine.scenarios import ScenarioResult, check, checked_receipt, token_balance

DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"       # deploys everything, owns the oracle
SEARCHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # owns the liquidator, holds no tokens
BORROWER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"
USD = 10**8                                              # oracle base unit
FLASH_LIQUIDITY = 1_000_000 * 10**6


async def run(rpc_url: str, **_: Any) -> ScenarioResult:
    from mevops.contracts import devnet
    from mevops.contracts.devnet_flash import deploy_flash_pool, protocol_contract
    from mevops.contracts.devnet_lending import ReserveSpec, deploy_flash_liquidator, deploy_lending_market, set_price
    from mevops.contracts.protocol_artifacts import encode_call
    from mevops.contracts.transactions import TxSender, connected
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.lending import LiquidationStrategy, PositionTracker, decode_log
    from mevops.engine.lending.executor import LiquidationTxExecutor
    from mevops.engine.lending.health import HF_ONE

    async with connected(rpc_url) as w3:
        async def events(lending: str, start: int) -> list:
            logs = await w3.eth.get_logs({"address": lending, "fromBlock": start, "toBlock": "latest"})
            return [e for log in logs if (e := decode_log(log)) is not None]

        async def health(lending: str) -> int:
            return (await protocol_contract(w3, "LendingMarket", lending).functions.getUserAccountData(BORROWER).call())[5]

        dex = await devnet.deploy_market(w3, DEV, tokens=("LINK", "USDC"), dexes=1, fees_bps=(30,), spread_bps=0)
        link, usdc = dex.address("LINK"), dex.address("USDC")
        lending = await deploy_lending_market(
            w3, DEV, [ReserveSpec(link, 18, 7500, 8000, 10500), ReserveSpec(usdc, 6, 8000, 8500, 10500)],
            prices={link: 15 * USD, usdc: 1 * USD}, liquidity={usdc: 500_000 * 10**6})
        flash_pool = await deploy_flash_pool(w3, DEV, 5, {usdc: FLASH_LIQUIDITY})
        liquidator = await deploy_flash_liquidator(w3, SEARCHER, flash_pool)
        # the borrower: 1000 LINK ($15,000) supplied, 11,000 USDC borrowed (LTV 75% allows 11,250)
        await devnet.fund(w3, link, BORROWER, 1000 * 10**18)
        tx = await TxSender.open(w3, BORROWER)
        tx.call(link, "ERC20", "approve", lending, 2**256 - 1, gas=60_000)
        tx.send(lending, encode_call("LendingMarket", "supply", link, 1000 * 10**18, BORROWER, 0), gas=150_000)
        tx.send(lending, encode_call("LendingMarket", "borrow", usdc, 11_000 * 10**6, 2, 0, BORROWER), gas=200_000)
        await tx.settle()
        pair = dex.pairs[0]
        r0, r1, _ = await devnet.contract(w3, "UniswapV2Pair", pair.address).functions.getReserves().call()
        strategy = LiquidationStrategy(lending, PositionTracker(), [Pool(pair.address, pair.token0, pair.token1, r0, r1,
                                                                         pair.fee_bps)], premium_bps=5)
        strategy.sync_state(await events(lending, 0))   # positions rebuilt from Supply/Borrow events
        check(strategy.evaluate() == [] and await health(lending) > HF_ONE, "the position must start healthy")

        start = await w3.eth.block_number + 1
        await set_price(w3, DEV, lending, link, 13 * USD)   # the oracle update; the DEX still pays ~$15
        trades = [t for event in await events(lending, start) for t in strategy.process_event(event)]
        check(len(trades) == 1, f"the oracle update should make one liquidation, the strategy made {len(trades)}")
        (trade,) = trades
        hf_before = await health(lending)
        check(hf_before < HF_ONE and trade.health_factor == hf_before, f"health factor {hf_before} is not below 1")
        before = {a: await token_balance(w3, usdc, a) for a in (liquidator, flash_pool, SEARCHER)}
        result = await LiquidationTxExecutor(w3, SEARCHER, liquidator).execute(trade)
        check(result.status == "mined", f"the liquidation did not land: {result.status} {result.reason}")
        receipt = await checked_receipt(w3, result.tx_hash, result.block)
        gain = await token_balance(w3, usdc, liquidator) - before[liquidator]
        fee = await token_balance(w3, usdc, flash_pool) - before[flash_pool]
        hf_after = await health(lending)
        check(gain == result.realized_profit == trade.expected_profit > 0,
              f"liquidator USDC grew by {gain}, reported {result.realized_profit}, predicted {trade.expected_profit}")
        check(fee == trade.flash_fee, f"the flash pool earned {fee}, the trade priced its premium at {trade.flash_fee}")
        check(hf_after > hf_before, "the liquidation did not improve the health factor")
        check(await token_balance(w3, link, liquidator) == 0, "seized LINK was left unsold")
        check(before[SEARCHER] == 0 == await token_balance(w3, usdc, SEARCHER), "the searcher held USDC")
    return ScenarioResult(
        "liquidation", f"flash-funded liquidation: oracle LINK $15 -> $13, HF {hf_before / 1e18:.4f} -> {hf_after / 1e18:.4f}, "
                       f"covered {trade.debt_to_cover / 1e6:,.2f} USDC, seized {trade.expected_seized / 1e18:.4f} LINK",
        result.tx_hash, result.block, receipt["gasUsed"], gain, "USDC", 6,
        facts={"liquidator": liquidator, "lending_market": lending, "borrower": BORROWER, "token": usdc,
               "debt_covered": trade.debt_to_cover, "flash_fee": trade.flash_fee, "seized_link": trade.expected_seized,
               "health_factor_before": hf_before, "health_factor_after": hf_after})
