"""An async JSON-RPC pool with active-passive failover.

Several endpoints per chain are health-checked every ``interval`` seconds (``eth_blockNumber``).
Requests go to the active endpoint; when it fails they are retried at once on the next healthy one
and the pool switches. The preferred endpoint (the first) takes over again only after it has been
healthy for ``switch_back_after`` consecutive checks (hysteresis), so a flapping node does not
bounce traffic.
"""

from __future__ import annotations

import asyncio
import itertools
import time
from dataclasses import dataclass, field
from typing import Any

import httpx


class RpcError(Exception):
    """The node answered with a JSON-RPC error: not a reason to fail over."""

    def __init__(self, error: dict[str, Any]) -> None:
        self.code = error.get("code")
        super().__init__(error.get("message", str(error)))


class NoHealthyEndpoint(Exception):
    pass


@dataclass
class Endpoint:
    url: str
    priority: int
    healthy: bool = True
    block: int = -1
    latency_ms: float = 0.0
    ok_streak: int = 0
    fail_streak: int = 0
    last_error: str = ""


@dataclass
class Switch:
    at: float
    old: str
    new: str
    reason: str


@dataclass
class RpcPool:
    urls: list[str]
    interval: float = 1.0
    timeout: float = 2.0
    switch_back_after: int = 3
    max_lag_blocks: int = 3
    endpoints: list[Endpoint] = field(init=False)
    switches: list[Switch] = field(default_factory=list, init=False)

    def __post_init__(self) -> None:
        if not self.urls:
            raise ValueError("an RpcPool needs at least one endpoint")
        self.endpoints = [Endpoint(url, i) for i, url in enumerate(self.urls)]
        self.active = self.endpoints[0]
        self._ids = itertools.count(1)
        self._client: httpx.AsyncClient | None = None
        self._task: asyncio.Task | None = None

    async def __aenter__(self) -> "RpcPool":
        await self.start()
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.close()

    async def start(self) -> None:
        limits = httpx.Limits(max_connections=64, max_keepalive_connections=16)
        self._client = httpx.AsyncClient(timeout=self.timeout, limits=limits)
        await self.check()
        self._task = asyncio.create_task(self._monitor(), name="rpc-pool-monitor")

    async def close(self) -> None:
        if self._task:
            self._task.cancel()
            await asyncio.gather(self._task, return_exceptions=True)
        if self._client:
            await self._client.aclose()

    # -- requests ---------------------------------------------------------------------------
    async def _call(self, endpoint: Endpoint, method: str, params: list[Any]) -> Any:
        assert self._client is not None, "RpcPool.start() first"
        body = {"jsonrpc": "2.0", "id": next(self._ids), "method": method, "params": params}
        response = await self._client.post(endpoint.url, json=body)
        response.raise_for_status()
        data = response.json()
        if "error" in data:
            raise RpcError(data["error"])
        return data["result"]

    async def request(self, method: str, params: list[Any] | None = None) -> Any:
        """Send to the active endpoint; on a transport failure fail over and retry at once."""
        tried: set[str] = set()
        while True:
            endpoint = self.active
            tried.add(endpoint.url)
            try:
                return await self._call(endpoint, method, params or [])
            except (httpx.TransportError, httpx.HTTPStatusError) as exc:
                self._mark_down(endpoint, f"{type(exc).__name__}: {exc}")
                nxt = self._best(exclude=tried)
                if nxt is None:
                    raise NoHealthyEndpoint(f"every endpoint failed for {method}: {endpoint.last_error}") from exc
                self._switch(nxt, f"request failed on {endpoint.url}")

    # -- health -----------------------------------------------------------------------------
    async def _probe(self, endpoint: Endpoint) -> None:
        started = time.perf_counter()
        try:
            block = int(await self._call(endpoint, "eth_blockNumber", []), 16)
        except (httpx.HTTPError, RpcError, ValueError) as exc:
            self._mark_down(endpoint, f"{type(exc).__name__}: {exc}")
            return
        endpoint.latency_ms = (time.perf_counter() - started) * 1000
        endpoint.block = block
        endpoint.healthy = True
        endpoint.ok_streak += 1
        endpoint.fail_streak = 0

    def _mark_down(self, endpoint: Endpoint, error: str) -> None:
        endpoint.healthy = False
        endpoint.ok_streak = 0
        endpoint.fail_streak += 1
        endpoint.last_error = error

    async def check(self) -> None:
        await asyncio.gather(*(self._probe(e) for e in self.endpoints))
        top = max((e.block for e in self.endpoints if e.healthy), default=-1)
        for e in self.endpoints:  # an endpoint far behind the others is not healthy
            if e.healthy and top - e.block > self.max_lag_blocks:
                self._mark_down(e, f"{top - e.block} blocks behind")
        if not self.active.healthy:
            best = self._best()
            if best is not None:
                self._switch(best, f"health check failed: {self.active.last_error}")
        preferred = self.endpoints[0]
        if self.active is not preferred and preferred.healthy and preferred.ok_streak >= self.switch_back_after:
            self._switch(preferred, f"preferred endpoint healthy for {preferred.ok_streak} checks")

    async def _monitor(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.check()

    def _best(self, exclude: set[str] | None = None) -> Endpoint | None:
        candidates = [e for e in self.endpoints if e.healthy and e.url not in (exclude or set())]
        if not candidates:
            return None
        return min(candidates, key=lambda e: (-e.block, e.priority, e.latency_ms))

    def _switch(self, new: Endpoint, reason: str) -> None:
        if new is self.active:
            return
        self.switches.append(Switch(time.monotonic(), self.active.url, new.url, reason))
        self.active = new
