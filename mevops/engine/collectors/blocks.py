"""New blocks: WebSocket ``newHeads`` with reconnect and backoff, HTTP polling as fallback."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from mevops.engine.collectors.rpc import HttpRpc, WsSubscription, sleep_backoff
from mevops.engine.types import NewBlock

log = logging.getLogger("mevops.engine.blocks")


def block_event(head: dict) -> NewBlock:
    return NewBlock(int(head["number"], 16), head["hash"], int(head["timestamp"], 16), int(head.get("baseFeePerGas") or "0x0", 16),
                    logs_bloom=head.get("logsBloom") or "")


class BlockCollector:
    name = "blocks"

    def __init__(self, http: HttpRpc, ws_url: str | None = None, poll_interval: float = 0.2, max_ws_failures: int = 3) -> None:
        self.http, self.ws_url, self.poll_interval, self.max_ws_failures = http, ws_url, poll_interval, max_ws_failures
        self.last = -1
        self.reconnects = 0
        self.mode = "ws" if ws_url else "http"

    async def events(self) -> AsyncIterator[NewBlock]:
        failures = 0
        while self.ws_url and failures < self.max_ws_failures:
            try:
                async for head in WsSubscription(self.ws_url, ["newHeads"]).stream():
                    failures = 0
                    if head is None:
                        continue
                    event = block_event(head)
                    if event.number > self.last:
                        self.last = event.number
                        yield event
            except (OSError, asyncio.TimeoutError, Exception) as exc:  # noqa: B014 - websockets raises many kinds
                if isinstance(exc, asyncio.CancelledError):
                    raise
                failures += 1
                self.reconnects += 1
                log.warning("newHeads stream lost (%s); reconnecting", type(exc).__name__)
                await sleep_backoff(failures)
        self.mode = "http"
        async for event in self._poll():
            yield event

    async def _poll(self) -> AsyncIterator[NewBlock]:
        while True:
            head = await self.http.call("eth_getBlockByNumber", ["latest", False])
            if head and int(head["number"], 16) > self.last:
                event = block_event(head)
                self.last = event.number
                yield event
            await asyncio.sleep(self.poll_interval)
