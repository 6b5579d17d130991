"""``mevops engine run``: the arbitrage engine against a node, from the workspace's config.

Start-up reconciles what a previous run left signed but unconfirmed (re-broadcasting the same
bytes, never signing again), then runs collectors → ArbStrategy → risk-checked executor (mempool
when live, paper otherwise) until ``blocks`` blocks have passed or it is stopped.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import signal
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.errors import MevopsError, Problem

log = logging.getLogger("mevops.engine.run")
FAULT_ENV = "MEVOPS_ENGINE_FAULT"  # test-only fault injection ("kill-after-sign"): a fake crash, see tests


@dataclass
class RunOptions:
    rpc: str
    market: Path
    chain: str = "ethereum"
    executor: str | None = None
    live: bool = False
    blocks: int | None = None
    store_url: str = "sqlite:///mev/data/engine.db"
    strategy: str | None = None
    api: Any = None          # mevops.engine.api.server.ApiOptions, or None for no API
    on_api: Any = None       # called with the server once it listens (the CLI prints its URL)


@dataclass
class RunReport:
    mode: str
    chain_id: int
    strategy: str
    blocks: int = 0
    outcomes: dict[str, int] = field(default_factory=dict)
    reconciled: dict[str, list[str]] = field(default_factory=dict)
    api_url: str | None = None


def load_market(path: Path) -> dict[str, Any]:
    try:
        data = json.loads(path.read_text())
        data["pairs"], data["weth"]  # noqa: B018 - required keys
    except FileNotFoundError:
        raise MevopsError(Problem(str(path), None, "--market", "file not found")) from None
    except (ValueError, KeyError, TypeError) as exc:
        raise MevopsError(Problem(str(path), None, "--market", f"not a market file ({type(exc).__name__}: {exc})")) from None
    return data


def store_url(url: str, workspace: Path) -> str:
    """A relative SQLite path in the config is relative to the workspace."""
    prefix = "sqlite:///"
    if url.startswith(prefix) and not url[len(prefix):].startswith("/"):
        target = workspace / url[len(prefix):]
        target.parent.mkdir(parents=True, exist_ok=True)
        return prefix + str(target)
    return url


def arbitrage_strategy(records: list[Any], chain: str, name: str | None) -> Any:
    candidates = [r for r in records if r.stage == "active" and r.spec.strategy.enabled and r.spec.strategy.type == "arbitrage"
                  and chain in r.spec.parameters.chains and (name is None or r.name == name)]
    if not candidates:
        raise MevopsError(Problem("mev/strategies/active", None, name or "arbitrage",
                                  f"no enabled active arbitrage strategy for {chain}"))
    return candidates[0]


async def run(ws: Any, env: str, opts: RunOptions, signer: Any) -> RunReport:
    from mevops.config.validate import effective_config
    from mevops.engine.chain.nonce import NonceManager
    from mevops.engine.chain.rpc_pool import RpcPool
    from mevops.engine.collectors.blocks import BlockCollector
    from mevops.engine.collectors.pool_logs import PoolLogCollector
    from mevops.engine.collectors.rpc import HttpRpc
    from mevops.engine.core import Engine
    from mevops.engine.demo import DemoPricing, read_reserves
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.executors.arb_call import realized_profit
    from mevops.engine.executors.mempool import MempoolExecutor, PaperExecutor, Simulator
    from mevops.engine.risk.executor import RiskCheckedExecutor
    from mevops.engine.risk.manager import RiskManager
    from mevops.engine.store.recovery import reconcile_pending
    from mevops.engine.store.store import Store
    from mevops.engine.strategies.arbitrage import ArbSettings, ArbStrategy
    from mevops.strategies.store import load_strategies

    cfg, _ = effective_config(ws, env)
    records, _ = load_strategies(ws)
    chosen = arbitrage_strategy(records, opts.chain, opts.strategy)
    market = load_market(opts.market)
    rpc = HttpRpc(opts.rpc)
    chain_id = int(await rpc.call("eth_chainId"), 16)
    report = RunReport("live" if opts.live else "paper", chain_id, chosen.name)
    store = Store(store_url(opts.store_url, ws.root))
    store.migrate()
    if opts.live:
        async with RpcPool([opts.rpc]) as pool:
            executor_address = opts.executor
            rec = await reconcile_pending(store, opts.chain, pool,
                                          profit_of=lambda t, r: realized_profit(r, executor_address or ""))
        report.reconciled = {k: v for k, v in vars(rec).items() if v and k != "errors"}
    pairs = [type("P", (), p) for p in market["pairs"]]
    reserves = await read_reserves(rpc, pairs)
    pools = [Pool(p["address"], p["token0"], p["token1"], *reserves[p["address"].lower()], p["fee_bps"]) for p in market["pairs"]]
    weth = market["weth"].lower()
    risk = RiskManager.from_config(cfg, [r.spec for r in records if r.stage == "active" and r.spec.strategy.enabled],
                                   chains=[opts.chain])
    risk.register_strategy(chosen.name)
    pricing = DemoPricing(weth)
    cap = chosen.spec.parameters.max_position_size * 10**18 // pricing.usd_value(opts.chain, weth, 10**18)
    strategy = ArbStrategy(chosen.name, pools, ArbSettings(opts.chain, [weth], weth, max_input={weth: cap},
                                                           max_gas_price=cfg.mev.max_gas_price))
    strategy.sync_state({"reserves": reserves})
    simulate = Simulator(rpc, signer.address if signer else "0x" + "00" * 20, opts.executor or "0x" + "00" * 20)
    checked: Any = None
    service: Any = None
    if opts.live:
        async def pending(address: str) -> int:
            return int(await rpc.call("eth_getTransactionCount", [address, "pending"]), 16)

        last = store.last_nonce(opts.chain, signer.address)
        def on_final(action: Any, result: Any) -> None:
            checked.on_final(action, result)
            if service is not None:
                service.on_final(action, result)

        inner: Any = MempoolExecutor(rpc, signer, NonceManager(signer.address, pending, last), opts.executor, chain_id,
                                     store=store, on_final=on_final)
        if os.environ.get(FAULT_ENV) == "kill-after-sign":
            _arm_kill_after_sign(store)
    else:
        inner = PaperExecutor(simulate, store=store)
    checked = RiskCheckedExecutor(inner, risk, pricing)
    ws_url = opts.rpc.replace("http://", "ws://").replace("https://", "wss://")
    engine = Engine([BlockCollector(rpc, ws_url), PoolLogCollector(rpc, [p.address for p in pools], ws_url)], [strategy], [checked])
    server = None
    if opts.api is not None:
        from mevops.engine.api.app import create_app
        from mevops.engine.api.server import ApiServer
        from mevops.engine.api.service import EngineService

        service = EngineService(engine, chain=opts.chain, mode=report.mode, risk=risk, store=store, pricing=pricing, ws=ws,
                                env=env, config=cfg, strategies=records, queue_sizes=engine.queue_sizes,
                                rpc_stats=lambda: {"calls": rpc.stats.calls, "errors": rpc.stats.errors,
                                                   "latency_s": rpc.stats.latency_s, "failovers": rpc.stats.failovers})
        service.on_config.append(lambda new: setattr(strategy.settings, "max_gas_price", new.mev.max_gas_price))
        server = ApiServer(create_app(service), opts.api)
        await server.start()
        report.api_url = server.url
        if opts.on_api is not None:
            opts.on_api(server)
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    await engine.start()
    start = None
    try:
        while not stop.is_set():
            await asyncio.sleep(0.1)
            if engine.metrics.last_block and start is None:
                start = engine.metrics.last_block
            if start is not None and opts.blocks is not None and engine.metrics.last_block - start >= opts.blocks:
                break
    finally:
        await engine.stop()
        if server is not None:
            await server.stop()
        if opts.live:
            await inner.drain(timeout=15)
            async with RpcPool([opts.rpc]) as pool:  # settle what start-up re-broadcast
                await reconcile_pending(store, opts.chain, pool, profit_of=lambda t, r: realized_profit(r, opts.executor or ""))
        await rpc.close()
        store.close()
    report.blocks = engine.metrics.last_block - (start or engine.metrics.last_block)
    report.outcomes = dict(engine.metrics.results)
    return report


def _arm_kill_after_sign(store: Any) -> None:
    """Test-only fake crash: SIGKILL this process right after the first signed trade is recorded
    (durably) and before it is sent — the worst moment for a duplicate send."""
    original = store.record_signed_trade

    def record_then_die(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    store.record_signed_trade = record_then_die
