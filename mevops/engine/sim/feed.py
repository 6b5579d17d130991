"""``SimFeed``: a strategy wrapper that keeps a simulator current and hands heads over settled.

The engine gives every strategy the same event stream; wrapping one in ``SimFeed`` makes the
simulator see each ``PoolSync`` and ``NewBlock`` before the strategy does (so a trade is never
simulated on state older than the one it was decided on), and holds each new head back from
the strategy until the Syncs its logsBloom announces have arrived: heads and logs come on two
streams, the head first, and a strategy scanning a head with the previous block's reserves
sends trades that revert. A head is released when its Syncs are in, when the next head comes,
or on the first event after ``max_hold`` seconds (a bloom false positive). I/O-free, like the
strategies it wraps. ``first_seen`` keeps when the engine first heard of each block.
"""

from __future__ import annotations

import collections
import logging
import time
from collections.abc import Iterable, Sequence
from typing import Any

from mevops.engine.sim.bloom import SyncAnnouncements
from mevops.engine.types import Action, Event, NewBlock, PoolSync, Strategy

log = logging.getLogger("mevops.engine.sim")


class SimFeed:
    def __init__(self, inner: Strategy, pools: Iterable[str], simulator: Any = None, *, hold: bool = True,
                 max_hold: float = 0.25, keep: int = 256) -> None:
        self.inner, self.name, self.simulator = inner, inner.name, simulator
        self.hold, self.max_hold, self.keep = hold, max_hold, keep
        self.announcements = SyncAnnouncements(pools)
        self.held: NewBlock | None = None
        self.held_since = 0.0
        self.waiting: set[str] = set()
        self.synced: dict[int, set[str]] = {}
        self.first_seen: collections.OrderedDict[int, float] = collections.OrderedDict()
        self.stats: collections.Counter = collections.Counter()

    def sync_state(self, snapshot: object) -> None:
        self.inner.sync_state(snapshot)

    def process_event(self, event: Event) -> Sequence[Action]:
        actions: list[Action] = []
        if self.held is not None and time.monotonic() - self.held_since > self.max_hold:
            actions += self._release("released_late")
        if isinstance(event, PoolSync):
            return actions + self._on_sync(event)
        if isinstance(event, NewBlock):
            return actions + self._on_block(event)
        return actions + list(self.inner.process_event(event))

    def _tell_simulator(self, hook: str, event: Event) -> None:
        """The simulator's trouble is its own (it falls back to eth_call): the strategy still gets the event."""
        if self.simulator is None:
            return
        try:
            getattr(self.simulator, hook)(event)
        except Exception:
            self.stats["simulator_errors"] += 1
            log.exception("simulator %s failed", hook)

    def _on_sync(self, event: PoolSync) -> list[Action]:
        self._seen(event.block, event.received_at)
        self._tell_simulator("on_sync", event)
        pool = event.pool.lower()
        self.synced.setdefault(event.block, set()).add(pool)
        actions = list(self.inner.process_event(event))
        if self.held is not None and event.block == self.held.number:
            self.waiting.discard(pool)
            if not self.waiting:
                actions += self._release("released_settled")
        return actions

    def _on_block(self, event: NewBlock) -> list[Action]:
        self._seen(event.number, event.received_at)
        self._tell_simulator("on_block", event)
        actions = self._release("released_superseded") if self.held is not None else []
        announced = self.announcements.announced(event.logs_bloom) if self.hold else None
        waiting = (announced or set()) - self.synced.get(event.number, set())
        self.synced = {b: p for b, p in self.synced.items() if b >= event.number}
        if waiting:
            self.held, self.waiting, self.held_since = event, waiting, time.monotonic()
            self.stats["held"] += 1
            return actions
        self.stats["passed"] += 1
        return actions + list(self.inner.process_event(event))

    def _release(self, why: str) -> list[Action]:
        event, self.held, self.waiting = self.held, None, set()
        self.stats[why] += 1
        return list(self.inner.process_event(event)) if event is not None else []

    def _seen(self, block: int, at: float) -> None:
        if block not in self.first_seen or at < self.first_seen[block]:
            self.first_seen[block] = at
        while len(self.first_seen) > self.keep:
            self.first_seen.popitem(last=False)
