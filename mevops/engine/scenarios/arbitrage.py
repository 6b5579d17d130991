"""Inventory arbitrage, the default demo's story in short: a random market on two V2 DEXes, a market
actor swapping every block, the engine (collectors → arbitrage strategy → mempool executor) trading
the dislocations; every trade is a successful receipt and the executor's WETH grew by exactly their sum."""

from __future__ import annotations

from typing import Any

from mevops.engine.scenarios import ScenarioResult, check, checked_receipt


async def run(rpc_url: str, *, blocks: int = 6, sim: str = "eth_call", **_: Any) -> ScenarioResult:
    import tempfile
    from pathlib import Path

    from mevops.contracts.transactions import connected
    from mevops.engine.chain.signer import Signer
    from mevops.engine.demo import DEV_SEARCHER_KEY, DemoState, run_engine, setup_market, verify_profit
    from mevops.workspace_init import init_workspace

    state, signer = DemoState(), Signer(DEV_SEARCHER_KEY, "anvil dev account #1")
    state.rpc, state.searcher = rpc_url, signer.address
    with tempfile.TemporaryDirectory(prefix="mevops-demo-") as tmp:
        workspace = Path(tmp) / "workspace"
        init_workspace(workspace, ["ethereum"], str(Path(tmp) / "root"), "development")
        market, executor = await setup_market(rpc_url, state, signer)
        state.executor, state.profit_token = executor, market.weth
        await run_engine(rpc_url, market, executor, signer, state, blocks, workspace=workspace, simulator=sim)
    delta = await verify_profit(rpc_url, market.weth, executor, state)
    check(bool(state.trades), f"no arbitrage trade landed in {blocks} blocks")
    check(delta == state.realized > 0, f"executor WETH changed by {delta} wei but the trades report {state.realized} wei")
    best = max(state.trades, key=lambda t: t["profit_wei"])
    async with connected(rpc_url) as w3:
        for trade in state.trades:
            await checked_receipt(w3, trade["tx_hash"], trade["block"])
    return ScenarioResult(
        "arbitrage", f"{len(state.trades)} inventory arbitrage trade(s) from the engine over {state.blocks} blocks "
                     f"(best shown)", best["tx_hash"], best["block"], best["gas_used"], state.realized, "WETH", 18,
        facts={"executor": executor, "token": market.weth, "trades": state.trades, "failed": len(state.failed),
               "opportunities": state.opportunities})
