"""The Engine's queues and failure handling with plain events (no chain)."""

from __future__ import annotations

import asyncio

from mevops.engine.core import Engine, EngineMetrics, EventQueue
from mevops.engine.types import ExecutionResult, NewBlock, PoolSync


def block(n: int) -> NewBlock:
    return NewBlock(n, f"0x{n:064x}", n, 10**9)


def test_full_queue_drops_oldest_stale_block_and_counts_it():
    async def scenario():
        metrics = EngineMetrics()
        q = EventQueue("q", 3, metrics)
        for n in range(3):
            await q.put(block(n))
        await q.put(block(3))
        return [await q.get() for _ in range(3)], metrics

    events, metrics = asyncio.run(scenario())
    assert [e.number for e in events] == [1, 2, 3]
    assert metrics.dropped["q"] == 1


def test_pool_events_are_never_dropped_they_wait():
    async def scenario():
        metrics = EngineMetrics()
        q = EventQueue("q", 2, metrics)
        await q.put(PoolSync("0xa", 1, 1, 1, 0))
        await q.put(PoolSync("0xa", 2, 2, 1, 1))
        waiter = asyncio.create_task(q.put(PoolSync("0xa", 3, 3, 1, 2)))
        await asyncio.sleep(0.05)
        assert not waiter.done()
        first = await q.get()
        await asyncio.wait_for(waiter, 1)
        rest = [await q.get(), await q.get()]
        return [first, *rest], metrics

    events, metrics = asyncio.run(scenario())
    assert [e.reserve0 for e in events] == [1, 2, 3] and not metrics.dropped


class _Collector:
    name = "flaky"

    def __init__(self) -> None:
        self.calls = 0

    async def events(self):
        self.calls += 1
        if self.calls == 1:
            raise ConnectionError("boom")
        for n in range(5):
            yield block(n)


class _Strategy:
    name = "s"

    def __init__(self) -> None:
        self.seen = []

    def sync_state(self, snapshot):
        pass

    def process_event(self, event):
        self.seen.append(event.number)
        if event.number == 2:
            raise ValueError("strategy bug on block 2")
        from types import SimpleNamespace

        return [SimpleNamespace(id="a1")] if event.number == 3 else []


class _Executor:
    name = "x"

    async def execute(self, action):
        raise RuntimeError("executor down")


def test_failures_are_contained_counted_and_reported():
    async def scenario():
        collector, strategy = _Collector(), _Strategy()
        results = []
        engine = Engine([collector], [strategy], [_Executor()], on_result=lambda a, r: results.append(r))
        await engine.start()
        for _ in range(100):
            await asyncio.sleep(0.02)
            if results:
                break
        await engine.stop()
        return engine, strategy, results

    engine, strategy, results = asyncio.run(scenario())
    assert engine.metrics.collector_restarts["flaky"] == 1
    assert strategy.seen == [0, 1, 2, 3, 4]
    assert engine.metrics.errors["strategy:s"] == 1 and engine.metrics.errors["executor:x"] == 1
    assert isinstance(results[0], ExecutionResult) and results[0].status == "failed" and "executor down" in results[0].reason
