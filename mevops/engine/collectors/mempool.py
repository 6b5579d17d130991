"""Pending transactions with full bodies: ``newPendingTransactions`` (with ``true`` for full
bodies where the node supports it; otherwise the hash, then ``eth_getTransactionByHash``),
reconnecting with backoff."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

from mevops.engine.collectors.rpc import HttpRpc, JsonRpcError, WsSubscription, sleep_backoff
from mevops.engine.types import PendingTx

log = logging.getLogger("mevops.engine.mempool_collector")


def pending_event(tx: dict) -> PendingTx:
    price = tx.get("maxFeePerGas") or tx.get("gasPrice") or "0x0"
    return PendingTx(tx["hash"], tx.get("to"), tx.get("input", "0x"), tx["from"], int(price, 16))


class PendingTxCollector:
    name = "pending"

    def __init__(self, http: HttpRpc, ws_url: str, full_bodies: bool = True) -> None:
        self.http, self.ws_url, self.full_bodies = http, ws_url, full_bodies
        self.reconnects = 0

    async def _body(self, item: str | dict) -> dict | None:
        if isinstance(item, dict):
            return item
        try:
            return await self.http.call("eth_getTransactionByHash", [item])
        except JsonRpcError:
            return None

    async def events(self) -> AsyncIterator[PendingTx]:
        failures = 0
        params: list = ["newPendingTransactions", True] if self.full_bodies else ["newPendingTransactions"]
        while True:
            try:
                async for item in WsSubscription(self.ws_url, params).stream():
                    failures = 0
                    if item is None:
                        continue
                    body = await self._body(item)
                    if body:
                        yield pending_event(body)
            except JsonRpcError as exc:
                if len(params) == 2:  # the node does not take the full-bodies flag: hashes then
                    params = ["newPendingTransactions"]
                    continue
                raise exc
            except Exception as exc:
                if isinstance(exc, asyncio.CancelledError):
                    raise
                failures += 1
                self.reconnects += 1
                log.warning("pending-transaction stream lost (%s); reconnecting", type(exc).__name__)
                await sleep_backoff(failures)
