"""Minimal JSON-RPC over WebSocket (subscriptions) and HTTP, for the hot path.

web3.py is heavier than the engine needs between a log arriving and a trade leaving; these two
small clients speak plain JSON-RPC and keep one connection each.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections.abc import AsyncIterator
from typing import Any

import httpx


class JsonRpcError(Exception):
    def __init__(self, error: dict[str, Any]) -> None:
        self.code = error.get("code")
        self.data = error.get("data")
        super().__init__(error.get("message", str(error)))


class RpcStats:
    """Calls, failures and a smoothed round-trip time, for the engine's metrics."""

    __slots__ = ("calls", "errors", "latency_s", "failovers")

    def __init__(self) -> None:
        self.calls = self.errors = self.failovers = 0
        self.latency_s = 0.0

    def observe(self, seconds: float) -> None:
        self.calls += 1
        self.latency_s = seconds if self.calls == 1 else 0.8 * self.latency_s + 0.2 * seconds


class HttpRpc:
    def __init__(self, url: str, timeout: float = 10.0) -> None:
        self.url = url
        self._ids = itertools.count(1)
        self._client = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=8))
        self.stats = RpcStats()

    async def _post(self, body: Any) -> Any:
        started = time.perf_counter()
        try:
            response = await self._client.post(self.url, json=body)
            response.raise_for_status()
        except Exception:
            self.stats.errors += 1
            raise
        self.stats.observe(time.perf_counter() - started)
        return response.json()

    async def call(self, method: str, params: list[Any] | None = None) -> Any:
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params or []}
        data = await self._post(body)
        if "error" in data:
            raise JsonRpcError(data["error"])
        return data["result"]

    async def batch(self, calls: list[tuple[str, list[Any]]]) -> list[Any]:
        body = [{"jsonrpc": "2.0", "id": i, "method": m, "params": p} for i, (m, p) in enumerate(calls)]
        by_id = {item["id"]: item for item in await self._post(body)}
        out = []
        for i in range(len(calls)):
            item = by_id[i]
            if "error" in item:
                raise JsonRpcError(item["error"])
            out.append(item["result"])
        return out

    async def close(self) -> None:
        await self._client.aclose()


class WsSubscription:
    """One WebSocket connection carrying one ``eth_subscribe`` stream."""

    def __init__(self, url: str, params: list[Any], open_timeout: float = 5.0) -> None:
        self.url, self.params, self.open_timeout = url, params, open_timeout

    async def stream(self) -> AsyncIterator[dict[str, Any] | None]:
        import websockets

        async with websockets.connect(self.url, open_timeout=self.open_timeout, max_size=2**24, ping_interval=10,
                                      ping_timeout=10) as ws:
            await ws.send(json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_subscribe", "params": self.params}))
            reply = json.loads(await ws.recv())
            if "error" in reply:
                raise JsonRpcError(reply["error"])
            sub_id = reply["result"]
            yield None  # subscribed: callers backfill now, before the first notification
            async for raw in ws:
                message = json.loads(raw)
                params = message.get("params") or {}
                if message.get("method") == "eth_subscription" and params.get("subscription") == sub_id:
                    yield params["result"]


async def sleep_backoff(attempt: int, base: float = 0.1, cap: float = 5.0) -> None:
    await asyncio.sleep(min(cap, base * (2 ** attempt)))
