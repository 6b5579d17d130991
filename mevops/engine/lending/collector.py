"""A ``LendingMarket``'s logs as engine events: ``eth_getLogs`` polled from a cursor, so every
Supply/Withdraw/Borrow/Repay/LiquidationCall/AssetPriceUpdated is seen once, in chain order
(the history from ``start_block`` first: that is how positions are rebuilt on start)."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator

from mevops.engine.collectors.rpc import HttpRpc
from mevops.engine.lending.events import LendingEvent, decode_log


class LendingLogCollector:
    name = "lending_logs"

    def __init__(self, http: HttpRpc, market: str, start_block: int = 0, poll_interval: float = 0.1) -> None:
        self.http, self.market, self.poll_interval = http, market.lower(), poll_interval
        self.next_block = start_block

    async def poll(self) -> list[LendingEvent]:
        """The market's events in blocks ``next_block..head``; advances the cursor."""
        head = int(await self.http.call("eth_blockNumber"), 16)
        if head < self.next_block:
            return []
        logs = await self.http.call("eth_getLogs", [{"address": self.market, "fromBlock": hex(self.next_block),
                                                      "toBlock": hex(head)}])
        self.next_block = head + 1
        ordered = sorted((e for e in logs if not e.get("removed")),
                         key=lambda e: (int(e["blockNumber"], 16), int(e["logIndex"], 16)))
        return [event for entry in ordered if (event := decode_log(entry)) is not None]

    async def events(self) -> AsyncIterator[LendingEvent]:
        while True:
            for event in await self.poll():
                yield event
            await asyncio.sleep(self.poll_interval)
