"""Uniswap-V2 ``Sync`` logs of tracked pools: WebSocket ``logs`` subscription, with a backfill via
``eth_getLogs`` from the last seen block after every (re)connect, so nothing is missed."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from mevops.engine.collectors.rpc import HttpRpc, WsSubscription, sleep_backoff
from mevops.engine.types import PoolSync

log = logging.getLogger("mevops.engine.pool_logs")

# keccak256("Sync(uint112,uint112)")
SYNC_TOPIC = "0x1c411e9a96e071241c2f21f7726b17ae89e3cab4c78be50e062b03a9fffbbad1"


def sync_event(entry: dict) -> PoolSync:
    data = entry["data"][2:]
    return PoolSync(entry["address"].lower(), int(data[:64], 16), int(data[64:128], 16), int(entry["blockNumber"], 16),
                    int(entry["logIndex"], 16), entry.get("transactionHash", ""))


class PoolLogCollector:
    name = "pool_logs"

    def __init__(self, http: HttpRpc, pools: list[str], ws_url: str | None = None, start_block: int | None = None,
                 poll_interval: float = 0.2) -> None:
        self.http, self.ws_url, self.poll_interval = http, ws_url, poll_interval
        self.pools = sorted({p.lower() for p in pools})
        self.cursor: tuple[int, int] = (start_block - 1, 1 << 62) if start_block is not None else (-1, -1)
        self.reconnects = 0
        self.backfilled = 0

    def _fresh(self, event: PoolSync) -> bool:
        key = (event.block, event.log_index)
        if key <= self.cursor:
            return False
        self.cursor = key
        return True

    async def _backfill(self) -> list[PoolSync]:
        head = int(await self.http.call("eth_blockNumber"), 16)
        start = max(self.cursor[0], 0)
        if self.cursor[0] < 0 or start > head:
            return []
        logs = await self.http.call("eth_getLogs", [{"address": self.pools, "topics": [SYNC_TOPIC],
                                                      "fromBlock": hex(start), "toBlock": hex(head)}])
        events = [e for e in (sync_event(entry) for entry in logs if not entry.get("removed")) if self._fresh(e)]
        self.backfilled += len(events)
        return events

    async def events(self) -> AsyncIterator[PoolSync]:
        failures = 0
        while self.ws_url and failures < 3:
            try:
                stream = WsSubscription(self.ws_url, ["logs", {"address": self.pools, "topics": [SYNC_TOPIC]}]).stream()
                async for entry in stream:
                    failures = 0
                    if entry is None:  # the subscription is live: fetch what happened while we were away
                        for event in await self._backfill():
                            yield event
                        continue
                    if entry.get("removed"):
                        continue
                    event = sync_event(entry)
                    if self._fresh(event):
                        yield event
            except Exception as exc:
                if isinstance(exc, asyncio.CancelledError):
                    raise
                failures += 1
                self.reconnects += 1
                log.warning("Sync log stream lost (%s); reconnecting with backfill", type(exc).__name__)
                await sleep_backoff(failures)
        async for event in self._poll():
            yield event

    async def _poll(self) -> AsyncIterator[PoolSync]:
        while True:
            for event in await self._backfill():
                yield event
            await asyncio.sleep(self.poll_interval)
