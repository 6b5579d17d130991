"""Liquidation: an oracle update drops LINK from $15 to $13, the borrower's health factor falls
below 1, and the searcher liquidates within the close factor with flash-borrowed USDC, sells the
seized LINK on a V2 pool, repays the loan and keeps the bonus — one transaction, no inventory."""

from __future__ import annotations

from typing import Any

from mevops.engine.scenarios import ScenarioResult, check, checked_receipt, token_balance


async def run(rpc_url: str, **_: Any) -> ScenarioResult:
    from mevops.contracts.devnet_flash import protocol_contract
    from mevops.contracts.devnet_lending import BORROWER, DEV, SEARCHER, USD, deploy_liquidation_scenario, set_price
    from mevops.contracts.transactions import connected
    from mevops.engine.lending import LiquidationStrategy, PositionTracker, decode_log
    from mevops.engine.lending.executor import LiquidationTxExecutor
    from mevops.engine.lending.health import HF_ONE

    async with connected(rpc_url) as w3:
        async def events(lending: str, start: int) -> list:
            logs = await w3.eth.get_logs({"address": lending, "fromBlock": start, "toBlock": "latest"})
            return [e for log in logs if (e := decode_log(log)) is not None]

        async def health(lending: str) -> int:
            return (await protocol_contract(w3, "LendingMarket", lending).functions.getUserAccountData(BORROWER).call())[5]

        dex, lending, flash_pool, liquidator, pools = await deploy_liquidation_scenario(w3)
        link, usdc = dex.address("LINK"), dex.address("USDC")
        strategy = LiquidationStrategy(lending, PositionTracker(), pools, premium_bps=5)
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
