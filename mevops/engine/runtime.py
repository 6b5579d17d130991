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
    from mevops.engine.collectors.blocks import BlockCollector
    from mevops.engine.collectors.pool_logs import PoolLogCollector
    from mevops.engine.collectors.rpc import HttpRpc
    from mevops.engine.core import Engine
    from mevops.engine.demo import DemoPricing, read_reserves
    from mevops.engine.dex.v2 import Pool
    from mevops.engine.executors.mempool import PaperExecutor, Simulator
    from mevops.engine.executors.router import StageRouter
    from mevops.engine.risk.executor import RiskCheckedExecutor
    from mevops.engine.risk.manager import RiskManager
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
    url = store_url(opts.store_url, ws.root)
    store = Store(url)
    store.migrate()
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
    service: Any = None
    signing: SignerSlot | None = None
    if opts.live:
        signing = SignerSlot()
        inner: Any = signing
    else:
        inner = PaperExecutor(simulate, store=store)
    checked = RiskCheckedExecutor(inner, risk, pricing)
    router = StageRouter(checked, PaperExecutor(simulate, store=store))   # testing strategies paper-trade
    ws_url = opts.rpc.replace("http://", "ws://").replace("https://", "wss://")
    engine = Engine([BlockCollector(rpc, ws_url), PoolLogCollector(rpc, [p.address for p in pools], ws_url)], [strategy], [router])

    def cap_of(rec: Any) -> int:
        return rec.spec.parameters.max_position_size * 10**18 // pricing.usd_value(opts.chain, weth, 10**18)

    async def arbitrage_factory(rec: Any) -> Any:
        """Another arbitrage strategy on this engine's market, from current reserves."""
        if rec.spec.strategy.type != "arbitrage":
            return None
        now = await read_reserves(rpc, pairs)
        fresh = [Pool(p["address"], p["token0"], p["token1"], *now[p["address"].lower()], p["fee_bps"]) for p in market["pairs"]]
        max_gas = service.config.mev.max_gas_price if service is not None else cfg.mev.max_gas_price
        new = ArbStrategy(rec.name, fresh, ArbSettings(opts.chain, [weth], weth, max_input={weth: cap_of(rec)},
                                                       max_gas_price=max_gas))
        new.sync_state({"reserves": now})
        return new

    for rec in records:  # strategies in testing paper-trade next to the active one: their promotion record
        if rec.stage == "testing" and rec.spec.strategy.enabled and opts.chain in rec.spec.parameters.chains:
            paper = await arbitrage_factory(rec)
            if paper is not None:
                router.paper_strategies.add(rec.name)
                engine.add_strategy(paper)
    server = None
    if opts.api is not None:
        from mevops.engine.api.app import create_app
        from mevops.lifecycle.monitor import NodeMonitor, workspace_nodes
        from mevops.engine.api.server import ApiServer
        from mevops.engine.api.service import EngineService

        service = EngineService(engine, chain=opts.chain, mode=report.mode, risk=risk, store=store, pricing=pricing, ws=ws,
                                env=env, config=cfg, strategies=records, queue_sizes=engine.queue_sizes,
                                rpc_stats=lambda: {"calls": rpc.stats.calls, "errors": rpc.stats.errors,
                                                   "latency_s": rpc.stats.latency_s, "failovers": rpc.stats.failovers})
        service.router = router
        service.tokens[weth] = ("WETH", 18)
        service.node_monitor = NodeMonitor(workspace_nodes(ws, env, ws.target_root(None)))
        service.on_config.append(lambda new: [setattr(s.settings, "max_gas_price", new.mev.max_gas_price)
                                              for s in engine.strategies if hasattr(s, "settings")])
        for rec in records:
            if any(s.name == rec.name for s in engine.strategies):
                service.loaded_text[rec.name] = rec.path.read_text()

        def update_strategy(rec: Any) -> None:
            for s in engine.strategies:
                if s.name == rec.name and hasattr(s, "settings"):
                    s.settings.max_input[weth] = cap_of(rec)   # in place: the scanner holds this dict

        service.strategy_factory = arbitrage_factory
        service.on_strategy_update.append(update_strategy)
        server = ApiServer(create_app(service), opts.api)

    def on_final(action: Any, result: Any) -> None:
        checked.on_final(action, result)
        if service is not None:
            service.on_final(action, result)

    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    holder = None
    if signing is not None:
        holder = SignerHolder(signing, engine, service, store, url, opts, signer, rpc, chain_id, on_final, report)
        holder.standby()
    if server is not None:
        await server.start()
        report.api_url = server.url
        if opts.on_api is not None:
            opts.on_api(server)
    await engine.start()
    signer_task = asyncio.create_task(holder.run(stop), name="signer") if holder is not None else None
    start = None
    try:
        while not stop.is_set():
            await asyncio.sleep(0.1)
            if signer_task is not None and signer_task.done():
                signer_task.result()  # a failure in the signer loop ends the run, loudly
                break
            if engine.metrics.last_block and start is None:
                start = engine.metrics.last_block
            if start is not None and opts.blocks is not None and engine.metrics.last_block - start >= opts.blocks:
                break
    finally:
        stop.set()
        await engine.stop()
        if signer_task is not None:
            await asyncio.gather(signer_task, return_exceptions=True)
            await holder.close()
        if server is not None:
            await server.stop()
        await rpc.close()
        store.close()
    report.blocks = engine.metrics.last_block - (start or engine.metrics.last_block)
    report.outcomes = dict(engine.metrics.results)
    return report


class SignerSlot:
    """The live executor's place in the engine: empty on a standby replica (actions are refused,
    nothing is signed), filled with a MempoolExecutor while this replica holds the signer lease."""

    name = "mempool"

    def __init__(self) -> None:
        self.current: Any = None

    async def execute(self, action: Any) -> Any:
        from mevops.engine.types import ExecutionResult

        executor = self.current
        if executor is None:
            return ExecutionResult(action.id, "refused", reason="standby: another replica holds the signer")
        return await executor.execute(action)


class SignerHolder:
    """Standby until the signer lease is ours; then take over (re-broadcast what was signed and not
    confirmed, nonces from the store), trade, and fall back to standby the moment the lease is lost."""

    def __init__(self, slot: SignerSlot, engine: Any, service: Any, store: Any, url: str, opts: RunOptions, signer: Any,
                 rpc: Any, chain_id: int, on_final: Any, report: RunReport) -> None:
        import socket

        from mevops.engine.lease import SignerLease

        self.slot, self.engine, self.service, self.store, self.opts = slot, engine, service, store, opts
        self.signer, self.rpc, self.chain_id, self.on_final, self.report = signer, rpc, chain_id, on_final, report
        self.replica = f"{socket.gethostname()}:{os.getpid()}"
        self.lease = SignerLease(url, opts.chain, signer.address, holder=self.replica, store=store)
        self.executors: list[Any] = []

    def _role(self, role: str) -> None:
        import time

        if self.service is not None:
            self.service.replica.update(id=self.replica, role=role, since=time.time())
        trading = role == "active" and (self.service is None or (self.service.trading and not
                                                                  (self.service.risk is not None and self.service.risk.stopped)))
        held_off = self.service.held_off if self.service is not None else set()
        for name in self.engine.enabled:
            self.engine.enabled[name] = trading and name not in held_off

    def standby(self) -> None:
        self._role("standby")

    async def run(self, stop: asyncio.Event) -> None:
        from mevops.engine.chain.rpc_pool import RpcPool
        from mevops.engine.executors.arb_call import realized_profit
        from mevops.engine.executors.mempool import MempoolExecutor
        from mevops.engine.lease import LeaseLost, take_over

        profit_of = lambda t, r: realized_profit(r, self.opts.executor or "")  # noqa: E731
        while not stop.is_set():
            if not await _first(self.lease.acquire(), stop.wait()) or stop.is_set():
                return
            try:
                async with RpcPool([self.opts.rpc]) as pool:
                    took = await take_over(self.store, self.lease, pool, profit_of=profit_of)
            except LeaseLost as exc:
                log.warning("lease lost while taking over: %s", exc)
                continue
            rec = {k: v for k, v in vars(took.reconciled).items() if v and k != "errors"}
            for k, v in rec.items():
                self.report.reconciled.setdefault(k, []).extend(v)
            executor = MempoolExecutor(self.rpc, self.signer, took.nonces, self.opts.executor, self.chain_id,
                                       store=self.store, on_final=self.on_final)
            self.executors.append(executor)
            if os.environ.get(FAULT_ENV) == "kill-after-sign":
                _arm_kill_after_sign(self.store)
            self.slot.current = executor
            self._role("active")
            log.info("%s holds the signer for %s on %s", self.replica, self.signer.address, self.opts.chain)
            if self.service is not None:
                self.service.alert("info", "signer_acquired", f"{self.replica} is the active signer")
            await _first(self.lease.lost.wait(), stop.wait())
            self.slot.current = None
            self.standby()
            if not stop.is_set():
                log.warning("signer lease lost (%s): standing by", self.lease.lost_reason)
                if self.service is not None:
                    self.service.alert("critical", "signer_lost", f"{self.replica} lost the signer: {self.lease.lost_reason}")

    async def close(self) -> None:
        """Settle what this replica sent, then let the lease go (a standby takes over at once)."""
        from mevops.engine.chain.rpc_pool import RpcPool
        from mevops.engine.executors.arb_call import realized_profit
        from mevops.engine.store.recovery import reconcile_pending

        self.slot.current = None
        for executor in self.executors:
            await executor.drain(timeout=15)
        if self.lease.is_active:
            # settle what start-up re-broadcast, a send the shutdown cut short of its watcher, and a signed
            # trade it re-broadcasts now: while any is still in flight, wait (bounded) — no trade is left "sent"
            loop = asyncio.get_running_loop()
            deadline = loop.time() + 15
            async with RpcPool([self.opts.rpc]) as pool:
                while True:
                    report = await reconcile_pending(self.store, self.opts.chain, pool,
                                                     profit_of=lambda t, r: realized_profit(r, self.opts.executor or ""),
                                                     sender=self.signer.address)
                    if not (report.in_flight or report.rebroadcast) or loop.time() >= deadline:
                        break
                    await asyncio.sleep(0.25)
        await self.lease.release()


async def _first(*aws: Any) -> bool:
    """Run the awaitables until the first finishes; cancel the rest. True if the first one given finished first."""
    tasks = [asyncio.ensure_future(a) for a in aws]
    try:
        done, _ = await asyncio.wait(tasks, return_when=asyncio.FIRST_COMPLETED)
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
    first = tasks[0]
    if first in done and not first.cancelled() and first.exception() is not None:
        raise first.exception()
    return first in done


def _arm_kill_after_sign(store: Any) -> None:
    """Test-only fake crash: SIGKILL this process right after the first signed trade is recorded
    (durably) and before it is sent — the worst moment for a duplicate send."""
    original = store.record_signed_trade

    def record_then_die(*args: Any, **kwargs: Any) -> None:
        original(*args, **kwargs)
        os.kill(os.getpid(), signal.SIGKILL)

    store.record_signed_trade = record_then_die
