"""Serve a ``DevnetRelay`` over HTTP: a bare ASGI app (the signature needs the exact body bytes) on uvicorn."""

from __future__ import annotations

import asyncio
import contextlib
import json
import socket
from collections.abc import Iterator
from typing import Any

from mevops.engine.bundles.relay.service import DevnetRelay
from mevops.engine.bundles.requests import MAX_BODY_BYTES
from mevops.errors import MevopsError, Problem

MAX_REQUEST = 4 * MAX_BODY_BYTES


class RelayApp:
    """POST / with a JSON-RPC body → ``DevnetRelay.handle``. Anything else: 405 or 413."""

    def __init__(self, relay: DevnetRelay) -> None:
        self.relay = relay

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            return
        if scope["method"] != "POST":
            await _reply(send, 405, {"error": "POST JSON-RPC requests"})
            return
        chunks, size = [], 0
        while True:
            message = await receive()
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > MAX_REQUEST:
                await _reply(send, 413, {"error": f"requests are at most {MAX_REQUEST} bytes"})
                return
            chunks.append(chunk)
            if not message.get("more_body"):
                break
        headers = {k.decode("latin-1").lower(): v.decode("latin-1") for k, v in scope["headers"]}
        status, answer = await self.relay.handle(b"".join(chunks), headers.get("x-flashbots-signature"))
        await _reply(send, status, answer)


async def _reply(send: Any, status: int, payload: dict[str, Any]) -> None:
    data = json.dumps(payload).encode()
    await send({"type": "http.response.start", "status": status,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(data)).encode())]})
    await send({"type": "http.response.body", "body": data})


class RelayServer:
    """``DevnetRelay`` + uvicorn in the running loop: ``await start()``, ``url``, ``await stop()``."""

    def __init__(self, relay: DevnetRelay, host: str = "127.0.0.1", port: int = 0) -> None:
        import uvicorn

        self.relay, self.host = relay, host
        self.sock = socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET, socket.SOCK_STREAM)
        self.sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            self.sock.bind((host, port))
        except OSError as exc:
            self.sock.close()
            raise MevopsError(Problem("--port", None, f"{host}:{port}", f"cannot listen: {exc.strerror or exc}")) from None
        self.port = self.sock.getsockname()[1]

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:  # the caller owns SIGINT/SIGTERM
                yield

        self.server = _Server(uvicorn.Config(RelayApp(relay), log_level="warning", access_log=False, lifespan="off"))
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        return f"http://{self.host if ':' not in self.host else f'[{self.host}]'}:{self.port}"

    async def start(self, blocks: int | None = None, *, autobuild: bool = True) -> None:
        """Connect to the node, take over its mining, serve, and build a block every ``block_time``
        (stop after ``blocks``; with ``autobuild=False`` only when ``relay.build_next()`` is called)."""
        try:
            await self.relay.connect()
        except BaseException:
            self.sock.close()
            await self.relay.rpc.close()
            raise
        self._task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name="relay-http")
        while not self.server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the relay's HTTP server stopped during start-up")
            await asyncio.sleep(0.01)
        if autobuild:
            self.relay.start_building(blocks)

    async def stop(self) -> None:
        self.server.should_exit = True
        if self._task is not None:
            await self._task
        await self.relay.close()
        self.sock.close()
