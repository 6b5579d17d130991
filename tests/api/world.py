"""An engine with its API on a real socket, for the API tests.

The engine is the real one (core.Engine, RiskManager from the reference workspace's config, the
real store on SQLite or PostgreSQL, EngineService, uvicorn). Its inputs are scripted, and named so:
``TickCollector`` emits a NewBlock every ``tick`` seconds and ``ScriptedStrategy`` proposes one
small WETH trade per block; ``PaperFill`` (a stand-in for PaperExecutor's simulation) reports each
as a successful paper trade. Chain-facing behaviour is tested against anvil elsewhere
(tests/integration/test_engine_api_anvil.py).
"""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from mevops.engine.types import ArbTrade, ExecutionResult, Hop, NewBlock

WETH = "0x" + "11" * 20
USDC = "0x" + "22" * 20
STRATEGY = "eth-usdc-dex-arbitrage"
ROLES = ("viewer", "operator", "admin")


class TickCollector:
    name = "ticks"

    def __init__(self, tick: float, start: int = 100) -> None:
        self.tick, self.start = tick, start

    async def events(self):
        for n in itertools.count(self.start):
            yield NewBlock(n, f"0x{n:064x}", int(time.time()), 10**9)
            await asyncio.sleep(self.tick)


class ScriptedStrategy:
    def __init__(self, name: str = STRATEGY) -> None:
        self.name = name

    def sync_state(self, snapshot: object) -> None:
        pass

    def process_event(self, event: Any) -> list[ArbTrade]:
        if not isinstance(event, NewBlock):
            return []
        hops = (Hop("0x" + "aa" * 20, WETH, USDC, True, 30), Hop("0x" + "bb" * 20, USDC, WETH, False, 25))
        return [ArbTrade(self.name, "ethereum", WETH, hops, 10**18, 10**18 + 2 * 10**16, 2 * 10**16, 10**14, 10**16,
                         200_000, 2 * 10**9, 10**9, event.number)]


class PaperFill:
    name = "paper-fill"

    async def execute(self, action: ArbTrade) -> ExecutionResult:
        return ExecutionResult(action.id, "paper", realized_profit=action.expected_profit)


@dataclass
class World:
    url: str
    service: Any
    engine: Any
    store: Any
    tokens: dict[str, str] = field(default_factory=dict)

    def headers(self, role: str | None) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.tokens[role]}"} if role else {}


@contextlib.asynccontextmanager
async def api_world(workspace: Path, *, tick: float = 0.05, store_url: str | None = None, env: dict[str, str] | None = None,
                    client_buffer: int = 256, replay: int = 1000, start_engine: bool = True, node_monitor: Any = None):
    import os

    from mevops.config.validate import effective_config
    from mevops.engine.api.app import create_app
    from mevops.engine.api.server import ApiOptions, ApiServer
    from mevops.engine.api.service import EngineService
    from mevops.engine.api.streams import Hub
    from mevops.engine.core import Engine
    from mevops.engine.demo import DemoPricing
    from mevops.engine.risk.executor import RiskCheckedExecutor
    from mevops.engine.risk.manager import RiskManager
    from mevops.engine.store.store import Store
    from mevops.strategies.store import load_strategies
    from mevops.workspace import Workspace

    saved = dict(os.environ)
    os.environ.update(env or {})
    ws = Workspace.open(workspace)
    cfg, _ = effective_config(ws, "development")
    records, _ = load_strategies(ws)
    risk = RiskManager.from_config(cfg, [r.spec for r in records if r.stage == "active" and r.spec.strategy.enabled],
                                   chains=["ethereum"])
    risk.register_strategy(STRATEGY)
    pricing = DemoPricing(WETH)
    store = Store(store_url or f"sqlite:///{workspace}/engine.db")
    store.migrate()
    from mevops.engine.executors.router import StageRouter

    router = StageRouter(RiskCheckedExecutor(PaperFill(), risk, pricing), PaperFill())  # testing strategies: paper
    engine = Engine([TickCollector(tick)], [ScriptedStrategy()], [router])
    service = EngineService(engine, chain="ethereum", mode="paper", risk=risk, store=store, pricing=pricing, ws=ws,
                            env="development", config=cfg, strategies=records, hub=Hub(replay=replay, client_buffer=client_buffer),
                            queue_sizes=engine.queue_sizes)
    chosen = next(r for r in records if r.name == STRATEGY)
    service.loaded_text[STRATEGY] = chosen.path.read_text()

    async def factory(rec):  # new arbitrage strategies join as scripted ones
        return ScriptedStrategy(rec.name) if rec.spec.strategy.type == "arbitrage" else None

    service.strategy_factory = factory
    service.router = router
    for rec in records:  # as the runtime does: strategies in testing paper-trade from the start
        if rec.stage == "testing" and rec.spec.strategy.enabled and "ethereum" in rec.spec.parameters.chains:
            if rec.spec.strategy.type == "arbitrage":
                router.paper_strategies.add(rec.name)
                engine.add_strategy(ScriptedStrategy(rec.name))
                service.loaded_text[rec.name] = rec.path.read_text()
    service.node_monitor = node_monitor
    service.tokens[WETH] = ("WETH", 18)
    server = ApiServer(create_app(service), ApiOptions(port=0))
    world = World(server.url, service, engine, store)
    for role in ROLES:
        world.tokens[role], _ = store.create_token(f"test-{role}", role)
    await server.start()
    if start_engine:
        await engine.start()
    try:
        yield world
    finally:
        await engine.stop()
        await server.stop()
        store.close()
        os.environ.clear()
        os.environ.update(saved)
