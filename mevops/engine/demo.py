"""``mevops demo``: the whole product on one machine with no internet.

A local anvil (started through the lifecycle layer, or ``--rpc``), a market of tokens and two
V2-style DEXes with different fees, an owner-only executor funded with WETH, the engine
(collectors → arbitrage strategy → mempool executor with simulation), and a market actor on
another account swapping at random every block. Every trade reported is a mined, successful
transaction whose profit is in the executor's WETH balance.
"""

from __future__ import annotations

import asyncio
import random
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.engine.types import ArbTrade, ExecutionResult, NewBlock

# anvil's well-known development accounts (public test keys of the default mnemonic; local only)
DEV_ACCOUNTS = ("0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266", "0x70997970C51812dc3A010C7d01b50e0d17dc79C8",
                "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC")
DEV_SEARCHER_KEY = "0x59c6995e998f97a5a0044966f0945389dc9e86dae88c7a8412f4603b6b78690d"
WETH_INVENTORY = 50 * 10**18


@dataclass
class DemoState:
    chain_id: int = 0
    rpc: str = ""
    searcher: str = ""
    executor: str = ""
    profit_token: str = ""
    start_block: int = 0
    blocks: int = 0
    opportunities: int = 0
    actor_swaps: int = 0
    trades: list[dict[str, Any]] = field(default_factory=list)
    failed: list[dict[str, Any]] = field(default_factory=list)
    stored_trades: int = 0
    engine: Any = None
    started: float = field(default_factory=time.monotonic)
    api_url: str | None = None

    @property
    def realized(self) -> int:
        return sum(t["profit_wei"] for t in self.trades)

    def summary(self) -> dict[str, Any]:
        results = dict(self.engine.metrics.results) if self.engine is not None else {}
        return {"chain_id": self.chain_id, "rpc": self.rpc, "searcher": self.searcher, "executor": self.executor,
                "profit_token": self.profit_token, "blocks": self.blocks, "opportunities": self.opportunities,
                "realized_profit_wei": self.realized, "outcomes": results, "stored_trades": self.stored_trades,
                "api_url": self.api_url,
                "trades": self.trades}


# -- node ------------------------------------------------------------------------------------------
def start_local_node(tmp: Path) -> tuple[str, Any, Any]:
    """Start ethereum/local (anvil) through the lifecycle layer in a throwaway workspace."""
    import os
    import shutil

    from mevops.lifecycle.base import get_backend
    from mevops.lifecycle.install import install_client
    from mevops.lifecycle.nodes import resolve_node
    from mevops.reference import reference_root
    from mevops.workspace import Workspace
    from mevops.workspace_init import init_workspace

    init_workspace(tmp / "workspace", ["ethereum"], str(tmp / "root"), "development")
    ws = Workspace.open(tmp / "workspace")
    node = resolve_node(ws, "development", tmp / "root", "ethereum", "local")
    client = node.services[0]
    local = shutil.which("anvil") or str(reference_root() / ".tools/bin/anvil")
    if os.access(local, os.X_OK):
        current = node.binary(client).parent
        current.mkdir(parents=True, exist_ok=True)
        os.symlink(Path(local).resolve(), node.binary(client))
    else:
        spec = node.chain.catalog.clients[client.name]
        install_client(Path(node.chain.dir) / "binaries", client.name, spec.binary, spec.install)
    backend = get_backend("process")
    backend.up(node)
    return f"http://127.0.0.1:{client.rpc_port}", backend, node


# -- market ------------------------------------------------------------------------------------------
async def read_reserves(rpc: Any, pairs: list[Any]) -> dict[str, tuple[int, int]]:
    from mevops.contracts.transactions import encode_call

    data = "0x" + encode_call("UniswapV2Pair", "getReserves").hex()
    results = await rpc.batch([("eth_call", [{"to": p.address, "data": data}, "latest"]) for p in pairs])
    return {p.address.lower(): (int(r[2:66], 16), int(r[66:130], 16)) for p, r in zip(pairs, results)}


async def market_actor(rpc: Any, market: Any, actor: str, state: DemoState, stop: asyncio.Event, seed: int = 7) -> None:
    """Swap a random 0.5–3% of a random pool's reserve every block, creating dislocations."""
    from mevops.contracts.transactions import encode_call

    rng = random.Random(seed)
    last = -1
    while not stop.is_set():
        head = int(await rpc.call("eth_blockNumber"), 16)
        if head == last:
            await asyncio.sleep(0.1)
            continue
        last = head
        pair = rng.choice(market.pairs)
        reserves = (await read_reserves(rpc, [pair]))[pair.address.lower()]
        zero_in = rng.random() < 0.5
        token_in, token_out = (pair.token0, pair.token1) if zero_in else (pair.token1, pair.token0)
        amount = reserves[0 if zero_in else 1] * rng.randint(50, 300) // 10_000
        router = market.routers[pair.dex]
        call = encode_call("UniswapV2Router", "swapExactTokensForTokens", amount, 0, [token_in, token_out], actor, 2**63)
        try:
            await rpc.call("eth_sendTransaction", [{"from": actor, "to": router, "data": "0x" + call.hex(), "gas": hex(300_000)}])
            state.actor_swaps += 1
        except Exception:  # noqa: BLE001 - a failed random swap is just noise
            pass
        await asyncio.sleep(0.05)


async def setup_market(rpc_url: str, state: DemoState, signer: Any) -> tuple[Any, str]:
    from mevops.contracts.devnet import deploy_executor, deploy_market, fund
    from mevops.contracts.transactions import TxSender, connected

    async with connected(rpc_url) as w3:
        deployer, actor = DEV_ACCOUNTS[0], DEV_ACCOUNTS[2]
        market = await deploy_market(w3, deployer, tokens=("WETH", "USDC", "DAI", "USDT"), dexes=2, fees_bps=(30, 25),
                                     liquidity_usd=500_000, spread_bps=80, seed=int(time.time()) % 1000)
        from eth_account import Account

        executor = await deploy_executor(w3, signer.local_account())  # the searcher owns it
        await fund(w3, market.weth, executor, WETH_INVENTORY, sender=deployer)
        # the market actor gets tokens (minted by the deployer, WETH wrapped itself) and approves the routers
        for symbol, token in market.tokens.items():
            if symbol != "WETH":
                await fund(w3, token.address, actor, 10**6 * 10**token.decimals, sender=deployer)
        tx = await TxSender.open(w3, actor)
        tx.call(market.weth, "WETH9", "deposit", gas=70_000, value=1_000 * 10**18)
        for symbol, token in market.tokens.items():
            for router in market.routers:
                tx.call(token.address, "WETH9" if symbol == "WETH" else "ERC20", "approve", router, 2**256 - 1, gas=80_000)
        await tx.settle()
        state.chain_id = await w3.eth.chain_id
    return market, executor


# -- engine ------------------------------------------------------------------------------------------
DEMO_STRATEGY = "eth-usdc-dex-arbitrage"   # the reference workspace's active arbitrage strategy
WETH_USD = 3000


class DemoPricing:
    """Reference prices of the demo market (micro-USD): WETH at 3000 USD, gas paid in ETH."""

    def __init__(self, weth: str) -> None:
        self.weth = weth.lower()

    def usd_value(self, chain: str, token: str, amount: int) -> int:
        if token.lower() != self.weth:
            raise ValueError(f"no price for {token}")
        return amount * WETH_USD * 10**6 // 10**18

    def gas_usd(self, chain: str, wei: int) -> int:
        return wei * WETH_USD * 10**6 // 10**18

    def is_eth_denominated(self, chain: str, token: str) -> bool:
        return token.lower() == self.weth


def demo_risk(workspace: Path, weth: str) -> tuple[Any, DemoPricing, int]:
    """The risk manager of the workspace's development config; the input cap its limits allow."""
    from mevops.config.validate import effective_config
    from mevops.engine.risk.manager import RiskManager
    from mevops.strategies.store import load_strategies
    from mevops.workspace import Workspace

    ws = Workspace.open(workspace)
    cfg, _ = effective_config(ws, "development")
    records, _ = load_strategies(ws)
    specs = [r.spec for r in records if r.stage == "active" and r.spec.strategy.enabled]
    risk = RiskManager.from_config(cfg, specs, chains=["ethereum"])
    risk.register_strategy(DEMO_STRATEGY)
    position = next(r.spec.parameters.max_position_size for r in records if r.name == DEMO_STRATEGY)
    return risk, DemoPricing(weth), position * 10**18 // (WETH_USD * 10**6)


async def run_engine(rpc_url: str, market: Any, executor: str, signer: Any, state: DemoState, blocks: int,
                     on_tick: Any = None, *, workspace: Path | None = None, store_url: str | None = None,
                     simulator: str = "eth_call", api: Any = None, on_api: Any = None, nodes: list[Any] | None = None,
                     stop_event: asyncio.Event | None = None) -> None:
    """``simulator``: "eth_call" (the node) or "revm" (in-process, fed by the engine's events; eth_call fallback).
    ``nodes``: the lifecycle nodes the API's Nodes page shows. ``blocks`` 0: run until ``stop_event`` is set."""
    from mevops.engine.chain.nonce import NonceManager
    from mevops.engine.collectors.blocks import BlockCollector
    from mevops.engine.collectors.pool_logs import PoolLogCollector
    from mevops.engine.collectors.rpc import HttpRpc
    from mevops.engine.core import Engine
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.executors.mempool import MempoolExecutor
    from mevops.engine.strategies.arbitrage import ArbSettings, ArbStrategy

    rpc = HttpRpc(rpc_url)
    ws_url = rpc_url.replace("http://", "ws://").replace("https://", "wss://")
    reserves = await read_reserves(rpc, market.pairs)
    pools = [Pool(p.address, p.token0, p.token1, *reserves[p.address.lower()], p.fee_bps, f"dex{p.dex}") for p in market.pairs]
    weth = market.weth.lower()
    risk = pricing = None
    cap = WETH_INVENTORY
    if workspace is not None:
        risk, pricing, position_cap = demo_risk(workspace, weth)
        cap = min(cap, position_cap)
    settings = ArbSettings(chain="ethereum", base_tokens=[weth], native_token=weth, tip=10**9,
                           max_input={weth: cap}, max_trades_per_block=1)
    strategy = ArbStrategy(DEMO_STRATEGY, pools, settings)
    head = await rpc.call("eth_getBlockByNumber", ["latest", False])
    state.start_block = int(head["number"], 16)
    strategy.sync_state({"reserves": reserves})

    async def pending(address: str) -> int:
        return int(await rpc.call("eth_getTransactionCount", [address, "pending"]), 16)

    store = None
    if store_url is not None:
        from mevops.engine.store.store import Store

        store = Store(store_url)
        store.migrate()
    checked: Any = None

    service: Any = None

    def on_final(action: ArbTrade, result: ExecutionResult) -> None:
        if checked is not None:
            checked.on_final(action, result)  # settle the risk book with what really happened
        if service is not None:
            service.on_final(action, result)
        record = {"tx_hash": result.tx_hash, "block": result.block, "profit_wei": result.realized_profit or 0,
                  "gas_used": result.gas_used, "expected_profit_wei": action.expected_profit, "status": result.status}
        (state.trades if result.status == "mined" and result.realized_profit is not None else state.failed).append(record)

    simulate: Any = None
    engine_strategy: Any = strategy
    if simulator == "revm":
        from mevops.engine.sim import RevmSimulator, SimFeed

        simulate = await RevmSimulator.create(rpc_url, signer.address, executor, market.pairs, rpc=rpc)
        engine_strategy = SimFeed(strategy, [p.address for p in pools], simulate)
    executor_ = MempoolExecutor(rpc, signer, NonceManager(signer.address, pending), executor, state.chain_id,
                                on_final=on_final, store=store, simulate=simulate)
    outer: Any = executor_
    if risk is not None:
        from mevops.engine.risk.executor import RiskCheckedExecutor

        checked = outer = RiskCheckedExecutor(executor_, risk, pricing)
    engine = Engine([BlockCollector(rpc, ws_url), PoolLogCollector(rpc, [p.address for p in pools], ws_url)], [engine_strategy], [outer])
    state.engine = engine
    server = None
    if api is not None:
        from mevops.engine.api.app import create_app
        from mevops.engine.api.server import ApiServer
        from mevops.engine.api.service import EngineService

        cfg = records = ws = None
        if workspace is not None:
            from mevops.config.validate import effective_config
            from mevops.strategies.store import load_strategies
            from mevops.workspace import Workspace

            ws = Workspace.open(workspace)
            cfg = effective_config(ws, "development")[0]
            records = load_strategies(ws)[0]
        service = EngineService(engine, chain="ethereum", mode="live", name="mevops-demo", risk=risk, store=store,
                                pricing=pricing, ws=ws, env="development" if ws else None, config=cfg, strategies=records,
                                queue_sizes=engine.queue_sizes,
                                rpc_stats=lambda: {"calls": rpc.stats.calls, "errors": rpc.stats.errors,
                                                   "latency_s": rpc.stats.latency_s, "failovers": 0})
        service.tokens.update({t.address.lower(): (symbol, t.decimals) for symbol, t in market.tokens.items()})
        if nodes:
            from mevops.lifecycle.monitor import NodeMonitor

            service.node_monitor = NodeMonitor(lambda: list(nodes), interval=5.0)
        server = ApiServer(create_app(service), api)
        await server.start()
        if on_api is not None:
            on_api(server, store)
    stop = asyncio.Event()
    actor = asyncio.create_task(market_actor(rpc, market, DEV_ACCOUNTS[2], state, stop))
    await engine.start()
    try:
        while (engine.metrics.last_block < state.start_block + blocks if blocks
               else not (stop_event is not None and stop_event.is_set())):
            await asyncio.sleep(0.2)
            state.blocks = max(0, engine.metrics.last_block - state.start_block)
            state.opportunities = engine.metrics.actions.get(strategy.name, 0)
            if on_tick is not None:
                on_tick(state, engine)
    finally:
        stop.set()
        await actor
        await engine.stop()
        await executor_.drain(timeout=15)
        if server is not None:
            await server.stop()
        if simulate is not None:
            await simulate.close()
        await rpc.close()
        if store is not None:
            state.stored_trades = store.trades(chain="ethereum", page_size=1).total
            store.close()


async def verify_profit(rpc_url: str, token: str, executor: str, state: DemoState) -> int:
    """The executor's WETH balance now minus its starting inventory: must equal the trades' profits."""
    from mevops.contracts.transactions import encode_call
    from mevops.engine.collectors.rpc import HttpRpc

    rpc = HttpRpc(rpc_url)
    try:
        data = "0x" + encode_call("ERC20", "balanceOf", executor).hex()
        balance = int(await rpc.call("eth_call", [{"to": token, "data": data}, "latest"]), 16)
        for trade in state.trades:
            receipt = await rpc.call("eth_getTransactionReceipt", [trade["tx_hash"]])
            assert receipt and receipt["status"] == "0x1", f"trade {trade['tx_hash']} is not a successful mined transaction"
    finally:
        await rpc.close()
    return balance - WETH_INVENTORY
