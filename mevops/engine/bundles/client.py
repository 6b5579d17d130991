"""Talk to bundle relays and builders: one signed body, sent to all of them at once.

A relay that is down, slow or refuses is one failed ``RelayReply`` among the others, never an
exception: a bundle is out if any relay took it. Each body is signed once (the signature covers
the bytes, and every relay gets the same bytes). Relay names shown in replies and logs are
``host:port`` only: a URL's credentials or query (API keys) are never printed.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from mevops.engine.bundles import requests
from mevops.engine.bundles.auth import HEADER, FlashbotsAuth

METHOD_NOT_FOUND = -32601


@dataclass(frozen=True)
class RelayReply:
    relay: str
    ok: bool
    result: Any = None
    error: str = ""
    code: int | None = None
    seconds: float = 0.0


def relay_name(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.hostname}:{parts.port}" if parts.port else (parts.hostname or "relay")


class RelayClient:
    """One relay endpoint. ``post`` never raises for network or JSON-RPC errors: they are replies."""

    def __init__(self, url: str, *, name: str | None = None, http: Any = None, timeout: float = 3.0) -> None:
        import httpx

        self.url, self.name = url, name or relay_name(url)
        self._own = http is None
        self.http = http or httpx.AsyncClient(timeout=timeout)

    def __repr__(self) -> str:
        return f"RelayClient({self.name})"

    async def post(self, body: bytes, signature: str) -> RelayReply:
        started = time.perf_counter()
        try:
            response = await self.http.post(self.url, content=body,
                                            headers={"content-type": "application/json", HEADER: signature})
            data = response.json()
        except Exception as exc:  # noqa: BLE001 - down, timed out, not JSON: a failed reply, not a crash
            text = str(exc).replace(self.url, self.name)  # a URL may carry an API key
            return RelayReply(self.name, False, error=f"{type(exc).__name__}: {text}" if text else type(exc).__name__,
                              seconds=time.perf_counter() - started)
        seconds = time.perf_counter() - started
        if not isinstance(data, dict):
            return RelayReply(self.name, False, error=f"HTTP {response.status_code}: not a JSON-RPC answer", seconds=seconds)
        if data.get("error"):
            error = data["error"] if isinstance(data["error"], dict) else {"message": str(data["error"])}
            return RelayReply(self.name, False, error=str(error.get("message", error)), code=error.get("code"), seconds=seconds)
        if response.status_code >= 400:
            return RelayReply(self.name, False, error=f"HTTP {response.status_code}", seconds=seconds)
        return RelayReply(self.name, True, data.get("result"), seconds=seconds)

    async def close(self) -> None:
        if self._own:
            await self.http.aclose()


class Relays:
    """Several relays/builders behind one searcher identity (``auth``, the reputation key)."""

    def __init__(self, urls: Sequence[str], auth: FlashbotsAuth, *, timeout: float = 3.0) -> None:
        import httpx

        if not urls:
            raise ValueError("at least one relay URL")
        self.auth = auth
        self.http = httpx.AsyncClient(timeout=timeout, limits=httpx.Limits(max_keepalive_connections=4 * len(urls)))
        self.clients = [RelayClient(url, http=self.http) for url in urls]

    def __repr__(self) -> str:
        return f"Relays({', '.join(c.name for c in self.clients)}; signed by {self.auth.address})"

    async def broadcast(self, body: bytes) -> list[RelayReply]:
        """Send one body to every relay concurrently; a reply per relay, in relay order."""
        signature = self.auth.header(body)
        return list(await asyncio.gather(*(client.post(body, signature) for client in self.clients)))

    async def send_bundle(self, bundle: requests.Bundle) -> list[RelayReply]:
        return await self.broadcast(requests.send_bundle_body(bundle))

    async def send_bundles(self, bundles: Sequence[requests.Bundle]) -> list[list[RelayReply]]:
        """Each bundle (one per target block) to every relay, all at once."""
        return list(await asyncio.gather(*(self.send_bundle(b) for b in bundles)))

    async def cancel_bundle(self, replacement_uuid: str) -> list[RelayReply]:
        return await self.broadcast(requests.cancel_bundle_body(replacement_uuid))

    async def call_bundle(self, txs: Sequence[bytes], block: int, state_block: int | str = "latest",
                          timestamp: int | None = None) -> RelayReply:
        """Simulate at the first relay that offers ``eth_callBundle`` (asked in order; a relay
        without the method, or down, passes the question on). The last failure if none could."""
        body = requests.call_bundle_body(tuple(txs), block, state_block, timestamp)
        signature = self.auth.header(body)
        reply = RelayReply("-", False, error="no relay")
        for client in self.clients:
            reply = await client.post(body, signature)
            if reply.ok or (reply.code not in (METHOD_NOT_FOUND, None)):
                return reply  # an answer, or a real simulation error (not "I do not have it")
        return reply

    async def close(self) -> None:
        await self.http.aclose()
