"""The Engine: collectors → strategies → executors over bounded asyncio queues.

Better than artemis where it is weak: queues are bounded and every drop is counted (only stale
block events may be dropped, oldest first; pool and mempool events apply back-pressure instead,
because a strategy that misses a Sync would trade on wrong reserves); actions are never dropped;
a collector that fails is restarted with backoff rather than killing the engine; every
executor error is caught, counted and reported.
"""

from __future__ import annotations

import asyncio
import collections
import logging
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from mevops.engine.types import Action, Collector, Event, ExecutionResult, Executor, NewBlock, Strategy

log = logging.getLogger("mevops.engine")


@dataclass
class EngineMetrics:
    events: collections.Counter = field(default_factory=collections.Counter)        # by event type
    dropped: collections.Counter = field(default_factory=collections.Counter)       # by queue
    actions: collections.Counter = field(default_factory=collections.Counter)       # by strategy
    results: collections.Counter = field(default_factory=collections.Counter)       # by status
    errors: collections.Counter = field(default_factory=collections.Counter)        # by component
    collector_restarts: collections.Counter = field(default_factory=collections.Counter)
    last_block: int = 0
    event_lag_ms: collections.deque = field(default_factory=lambda: collections.deque(maxlen=1024))
    queue_depth: dict[str, int] = field(default_factory=dict)

    def snapshot(self) -> dict[str, Any]:
        lags = sorted(self.event_lag_ms)
        return {
            "events": dict(self.events), "dropped": dict(self.dropped), "actions": dict(self.actions),
            "results": dict(self.results), "errors": dict(self.errors), "collector_restarts": dict(self.collector_restarts),
            "last_block": self.last_block, "queue_depth": dict(self.queue_depth),
            "event_lag_ms_p50": lags[len(lags) // 2] if lags else None,
        }


class EventQueue:
    """Bounded; when full, a new NewBlock evicts the oldest queued NewBlock (counted), other events wait."""

    def __init__(self, name: str, maxsize: int, metrics: EngineMetrics) -> None:
        self.name, self.maxsize, self.metrics = name, maxsize, metrics
        self._items: collections.deque[Event] = collections.deque()
        self._cond = asyncio.Condition()

    def __len__(self) -> int:
        return len(self._items)

    async def put(self, event: Event) -> None:
        async with self._cond:
            while len(self._items) >= self.maxsize:
                stale = next((e for e in self._items if isinstance(e, NewBlock)), None)
                if isinstance(event, NewBlock) and stale is not None:
                    self._items.remove(stale)
                    self.metrics.dropped[self.name] += 1
                    break
                await self._cond.wait()
            self._items.append(event)
            self.metrics.queue_depth[self.name] = len(self._items)
            self._cond.notify_all()

    async def get(self) -> Event:
        async with self._cond:
            while not self._items:
                await self._cond.wait()
            event = self._items.popleft()
            self.metrics.queue_depth[self.name] = len(self._items)
            self._cond.notify_all()
            return event


class Engine:
    def __init__(self, collectors: Sequence[Collector], strategies: Sequence[Strategy], executors: Sequence[Executor], *,
                 event_queue_size: int = 1024, action_queue_size: int = 256,
                 on_result: Callable[[Action, ExecutionResult], None] | None = None) -> None:
        self.collectors, self.strategies, self.executors = list(collectors), list(strategies), list(executors)
        self.metrics = EngineMetrics()
        self.queues = {s.name: EventQueue(f"events:{s.name}", event_queue_size, self.metrics) for s in self.strategies}
        self.actions: asyncio.Queue[Action] = asyncio.Queue(maxsize=action_queue_size)
        self.on_result = on_result
        self.on_action: Callable[[Action], None] | None = None   # sees every action queued (the API's opportunities)
        self.queue_sizes = {**{q.name: q.maxsize for q in self.queues.values()}, "actions": action_queue_size}
        self.enabled: dict[str, bool] = {s.name: True for s in self.strategies}
        self._tasks: list[asyncio.Task] = []
        self.running = asyncio.Event()

    async def _collect(self, collector: Collector) -> None:
        backoff = 0.1
        while True:
            try:
                async for event in collector.events():
                    backoff = 0.1
                    self.metrics.events[type(event).__name__] += 1
                    if isinstance(event, NewBlock):
                        self.metrics.last_block = max(self.metrics.last_block, event.number)
                    for queue in self.queues.values():
                        await queue.put(event)
                return  # a finite collector ended
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # a collector never kills the engine: restart with backoff
                self.metrics.collector_restarts[collector.name] += 1
                self.metrics.errors[f"collector:{collector.name}"] += 1
                log.warning("collector %s failed (%s: %s); restarting in %.1fs", collector.name, type(exc).__name__, exc, backoff)
                await asyncio.sleep(backoff)
                backoff = min(backoff * 2, 5.0)

    async def _strategize(self, strategy: Strategy) -> None:
        queue = self.queues[strategy.name]
        while True:
            event = await queue.get()
            self.metrics.event_lag_ms.append((time.monotonic() - event.received_at) * 1000)
            try:
                actions = strategy.process_event(event)
            except Exception as exc:
                self.metrics.errors[f"strategy:{strategy.name}"] += 1
                log.exception("strategy %s failed on %s: %s", strategy.name, type(event).__name__, exc)
                continue
            if not self.enabled.get(strategy.name, True):
                continue
            for action in actions:
                self.metrics.actions[strategy.name] += 1
                if self.on_action is not None:
                    try:
                        self.on_action(action)
                    except Exception:  # an observer never stops trading
                        log.exception("on_action hook failed")
                await self.actions.put(action)  # back-pressure, never a silent drop

    async def _execute(self) -> None:
        while True:
            action = await self.actions.get()
            for executor in self.executors:
                try:
                    result = await executor.execute(action)
                except Exception as exc:
                    self.metrics.errors[f"executor:{executor.name}"] += 1
                    log.exception("executor %s failed: %s", executor.name, exc)
                    result = ExecutionResult(action.id, "failed", reason=f"{type(exc).__name__}: {exc}")
                self.metrics.results[result.status] += 1
                self.metrics.queue_depth["actions"] = self.actions.qsize()
                if self.on_result is not None:
                    try:
                        self.on_result(action, result)
                    except Exception:  # an observer never stops trading
                        log.exception("on_result hook failed")
            self.actions.task_done()

    def add_strategy(self, strategy: Strategy, *, enabled: bool = True) -> None:
        """A strategy joins a running engine (hot reload): its own queue, events from now on."""
        if strategy.name in self.queues:
            raise ValueError(f"strategy {strategy.name!r} is already loaded")
        self.strategies.append(strategy)
        queue = EventQueue(f"events:{strategy.name}", next(iter(self.queues.values())).maxsize if self.queues else 1024,
                           self.metrics)
        self.queues[strategy.name] = queue
        self.queue_sizes[queue.name] = queue.maxsize
        self.enabled[strategy.name] = enabled
        if self.running.is_set():
            self._tasks.append(asyncio.create_task(self._strategize(strategy), name=f"strategy:{strategy.name}"))

    async def start(self) -> None:
        self._tasks = [asyncio.create_task(self._execute(), name="executor")]
        self._tasks += [asyncio.create_task(self._strategize(s), name=f"strategy:{s.name}") for s in self.strategies]
        self._tasks += [asyncio.create_task(self._collect(c), name=f"collector:{c.name}") for c in self.collectors]
        self.running.set()

    async def stop(self) -> None:
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks = []
        self.running.clear()

    async def run(self, stop: asyncio.Event) -> None:
        await self.start()
        try:
            await stop.wait()
        finally:
            await self.stop()
