"""Serve the API with uvicorn inside the engine's running event loop (one process, one loop:
the API reads engine state without locks). The socket is bound here first, so a port in use is a
clear error before anything starts; uvicorn's own signal handling is left out (the engine owns
SIGINT/SIGTERM and stops the server with everything else)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import socket
from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from mevops.errors import MevopsError, Problem

log = logging.getLogger("mevops.engine.api")


@dataclass
class ApiOptions:
    host: str = "127.0.0.1"
    port: int = 8080
    cert_path: str | None = None
    key_path: str | None = None

    @property
    def scheme(self) -> str:
        return "https" if self.cert_path else "http"


def bind(host: str, port: int) -> socket.socket:
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        sock.close()
        raise MevopsError(Problem("--api-port", None, f"{host}:{port}", f"cannot listen: {exc.strerror or exc}")) from None
    sock.set_inheritable(True)
    return sock


class ApiServer:
    def __init__(self, app: Any, opts: ApiOptions) -> None:
        import uvicorn

        if bool(opts.cert_path) != bool(opts.key_path):
            raise MevopsError(Problem("global.security.tls", None, "cert_path", "TLS needs both cert_path and key_path"))
        self.opts = opts
        self.sock = bind(opts.host, opts.port)
        self.port = self.sock.getsockname()[1]
        config = uvicorn.Config(app, log_level="warning", access_log=False, lifespan="off", ws="websockets-sansio",
                                ssl_certfile=opts.cert_path, ssl_keyfile=opts.key_path, ws_max_size=1 << 20,
                                timeout_graceful_shutdown=3)

        class _Server(uvicorn.Server):
            @contextlib.contextmanager
            def capture_signals(self) -> Iterator[None]:
                yield

        self.server = _Server(config)
        self._task: asyncio.Task | None = None

    @property
    def url(self) -> str:
        host = self.opts.host if ":" not in self.opts.host else f"[{self.opts.host}]"
        return f"{self.opts.scheme}://{host}:{self.port}"

    async def start(self) -> None:
        self._task = asyncio.create_task(self.server.serve(sockets=[self.sock]), name="api")
        state = getattr(self.server.config.app, "state", None)
        self._background = [asyncio.create_task(job(), name=f"api:{job.__name__}")
                            for job in getattr(state, "background", [])]
        while not self.server.started:
            if self._task.done():
                self._task.result()
                raise RuntimeError("the API server stopped during start-up")
            await asyncio.sleep(0.01)
        log.info("API listening on %s", self.url)

    async def stop(self) -> None:
        for task in getattr(self, "_background", []):
            task.cancel()
        await asyncio.gather(*getattr(self, "_background", []), return_exceptions=True)
        self.server.should_exit = True
        if self._task is not None:
            with contextlib.suppress(Exception, asyncio.CancelledError):
                await asyncio.wait_for(self._task, 10)
        self.sock.close()
