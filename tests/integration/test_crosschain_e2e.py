"""Cross-chain inventory arbitrage end to end on two anvils (chain ids 31337 and 31338).

Each chain gets WETH, USDC and one V2 WETH/USDC pool at the same price; the searcher holds 20
WETH and 60 000 USDC on each chain and has approved the routers. A tiny dislocation emits
nothing; after a large one on chain B, one cycle lands a buy on A and a sell on B, the combined
inventory value rises by exactly the strategy's predicted amount, and drift is reported with a
rebalance report past the threshold.
"""

from __future__ import annotations

import asyncio
from pathlib import Path

from mevops.engine.crosschain import (
    ChainEvent,
    CrossChainArb,
    CrossChainExecutor,
    CrossChainSettings,
    CrossChainStrategy,
    InventoryReport,
    RebalanceNeeded,
    Venue,
    chain_risk_from_yaml,
)
from mevops.engine.crosschain.executor import ChainAccess
from mevops.engine.types import NewBlock, PoolSync

DEPLOYER = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
SEARCHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"
SEARCHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"  # anvil's public dev key #1
REPO = Path(__file__).resolve().parents[2]
PRICE = 3000 * 10**6            # USDC units per 1 WETH


async def _setup(url: str) -> dict:
    from mevops.contracts.devnet import deploy_market, fund
    from mevops.contracts.transactions import TxSender, connected

    async with connected(url) as w3:
        market = await deploy_market(w3, DEPLOYER, tokens=("WETH", "USDC"), dexes=1, fees_bps=(30,),
                                     liquidity_usd=300_000, spread_bps=0, seed=0)
        weth, usdc, router = market.weth, market.address("USDC"), market.routers[0]
        await fund(w3, weth, SEARCHER, 20 * 10**18, sender=DEPLOYER)
        await fund(w3, usdc, SEARCHER, 60_000 * 10**6, sender=DEPLOYER)
        await fund(w3, usdc, DEPLOYER, 100_000 * 10**6, sender=DEPLOYER)
        tx = await TxSender.open(w3, SEARCHER)
        tx.call(weth, "WETH9", "approve", router, 2**256 - 1, gas=80_000)
        tx.call(usdc, "ERC20", "approve", router, 2**256 - 1, gas=80_000)
        await tx.settle()
        tx = await TxSender.open(w3, DEPLOYER)
        tx.call(usdc, "ERC20", "approve", router, 2**256 - 1, gas=80_000)
        await tx.settle()
        pair = market.pairs[0]
        return {"url": url, "weth": weth, "usdc": usdc, "router": router, "pool": pair.address,
                "base_is_token0": pair.token0.lower() == weth.lower()}


async def _push_weth_up(url: str, m: dict, usdc_in: int) -> None:
    """The deployer buys WETH with USDC on this chain (the market moves; not the searcher)."""
    from mevops.contracts.transactions import TxSender, connected

    async with connected(url) as w3:
        tx = await TxSender.open(w3, DEPLOYER)
        tx.call(m["router"], "UniswapV2Router", "swapExactTokensForTokens", usdc_in, 0, [m["usdc"], m["weth"]],
                DEPLOYER, 2**63, gas=300_000)
        await tx.settle()


async def _events(rpc, chain: str, m: dict) -> list[ChainEvent]:
    from mevops.contracts.transactions import encode_call

    head = await rpc.call("eth_getBlockByNumber", ["latest", False])
    raw = await rpc.call("eth_call", [{"to": m["pool"], "data": "0x" + encode_call("UniswapV2Pair", "getReserves").hex()},
                                      "latest"])
    number = int(head["number"], 16)
    return [ChainEvent(chain, NewBlock(number, head["hash"], int(head["timestamp"], 16), int(head["baseFeePerGas"], 16))),
            ChainEvent(chain, PoolSync(m["pool"], int(raw[2:66], 16), int(raw[66:130], 16), number, 0))]


async def _balances(rpc, m: dict) -> dict[str, int]:
    from mevops.contracts.transactions import encode_call

    data = "0x" + encode_call("ERC20", "balanceOf", SEARCHER).hex()
    return {asset: int(await rpc.call("eth_call", [{"to": m[key], "data": data}, "latest"]), 16)
            for asset, key in (("WETH", "weth"), ("USDC", "usdc"))}


def _value(balances: dict[str, dict[str, int]]) -> int:
    weth = sum(b["WETH"] for b in balances.values())
    usdc = sum(b["USDC"] for b in balances.values())
    return usdc + weth * PRICE // 10**18


def test_crosschain_inventory_arbitrage_on_two_anvils(start_anvil):
    url_a, _ = start_anvil(chain_id=31337)
    url_b, _ = start_anvil(chain_id=31338)

    async def scenario():
        from mevops.engine.collectors.rpc import HttpRpc

        ma, mb = await asyncio.gather(_setup(url_a), _setup(url_b))
        rpcs = {"A": HttpRpc(url_a), "B": HttpRpc(url_b)}
        markets = {"A": ma, "B": mb}
        risk = chain_risk_from_yaml(REPO / "mev/config/risk-limits.yml", {"A": "ethereum", "B": "arbitrum"}, 10**6)
        settings = CrossChainSettings(reference_price=PRICE, min_profit=5 * 10**6, gas_per_leg=150_000,
                                      target_bps={"WETH": {"A": 5000, "B": 5000}, "USDC": {"A": 5000, "B": 5000}},
                                      drift_threshold_bps=500, risk=risk)
        strategy = CrossChainStrategy("xchain-weth-usdc", [
            Venue(c, m["pool"], m["router"], m["weth"], m["usdc"], m["base_is_token0"], 30) for c, m in markets.items()],
            settings)
        from eth_account import Account

        # chain A: the node's unlocked account sends; chain B: a locally signed raw transaction
        executor = CrossChainExecutor({"A": ChainAccess(rpcs["A"], SEARCHER),
                                       "B": ChainAccess(rpcs["B"], SEARCHER, account=Account.from_key(SEARCHER_KEY))})
        try:
            before = {c: await _balances(rpcs[c], markets[c]) for c in rpcs}
            strategy.sync_state({"inventory": before})

            async def cycle() -> list:
                out = []
                for c, rpc in rpcs.items():
                    for event in await _events(rpc, c, markets[c]):
                        out += strategy.process_event(event)
                return out

            quiet = await cycle()                                   # same price on both chains
            await _push_weth_up(url_b, mb, 300 * 10**6)             # ~0.2% gap: below fees + gas
            small = await cycle()
            await _push_weth_up(url_b, mb, 30_000 * 10**6)          # ~20% dislocation on B
            actions = await cycle()
            assert len(actions) == 1 and isinstance(actions[0], CrossChainArb)
            trade = actions[0]
            result = await executor.execute(trade)
            reports = []
            for fill in result.fills:
                reports += strategy.process_event(fill)
            for action in reports:
                await executor.execute(action)
            after = {c: await _balances(rpcs[c], markets[c]) for c in rpcs}
            receipts = {leg.chain: await rpcs[leg.chain].call("eth_getTransactionReceipt", [leg.tx_hash])
                        for leg in result.legs}
            return quiet, small, trade, result, reports, before, after, receipts, strategy, executor
        finally:
            for r in rpcs.values():
                await r.close()

    quiet, small, trade, result, reports, before, after, receipts, strategy, executor = asyncio.run(scenario())
    assert quiet == [] and small == []
    # buy WETH on the cheap chain A with USDC, sell the same WETH on the dear chain B
    assert (trade.buy.chain, trade.buy.asset_in, trade.buy.asset_out) == ("A", "USDC", "WETH")
    assert (trade.sell.chain, trade.sell.asset_in, trade.sell.asset_out) == ("B", "WETH", "USDC")
    assert trade.sell.amount_in == trade.buy.expected_out
    assert trade.net_profit >= 5 * 10**6
    assert result.status == "mined", result.reason
    assert all(leg.status == "mined" for leg in result.legs)
    assert {c: int(r["status"], 16) for c, r in receipts.items()} == {"A": 1, "B": 1}
    gas_wei = {leg.chain: leg.gas_cost_wei for leg in result.legs}
    assert gas_wei == {c: int(r["gasUsed"], 16) * int(r["effectiveGasPrice"], 16) for c, r in receipts.items()}
    assert trade.expected_profit - sum(gas_wei.values()) * PRICE // 10**18 > 0   # still profitable after real gas
    # exact integers: WETH nets to zero, USDC rises by the predicted gross profit
    assert after["A"]["WETH"] - before["A"]["WETH"] == trade.buy.expected_out
    assert before["B"]["WETH"] - after["B"]["WETH"] == trade.buy.expected_out
    assert after["A"]["USDC"] == before["A"]["USDC"] - trade.buy.amount_in
    assert after["B"]["USDC"] == before["B"]["USDC"] + trade.sell.expected_out
    assert _value(after) - _value(before) == trade.expected_profit == result.realized_profit
    assert strategy.inventory == after and strategy.inventory_value() == _value(after)
    # drift and rebalance reports
    (report,) = [r for r in reports if isinstance(r, InventoryReport)]
    total_weth = after["A"]["WETH"] + after["B"]["WETH"]
    drift_a = after["A"]["WETH"] * 10_000 // total_weth - 5000
    assert ("WETH", "A", drift_a) in report.drift_bps and drift_a > 500
    rebalances = [r for r in reports if isinstance(r, RebalanceNeeded)]
    weth_move = next(r for r in rebalances if r.asset == "WETH")
    assert (weth_move.from_chain, weth_move.to_chain) == ("A", "B")
    assert weth_move.amount == after["A"]["WETH"] - total_weth * 5000 // 10_000
    assert executor.reports == reports
    print(f"\nbuy A: {trade.buy.amount_in} USDC -> {trade.buy.expected_out} WETH; sell B: {trade.sell.amount_in} WETH -> "
          f"{trade.sell.expected_out} USDC; profit {trade.expected_profit} (gas est {trade.gas_cost}); "
          f"drift A WETH {drift_a} bps; rebalance {[(r.asset, r.from_chain, r.to_chain, r.amount) for r in rebalances]}")
