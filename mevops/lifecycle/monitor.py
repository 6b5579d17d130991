"""What the lifecycle layer knows of each node, kept fresh: for the dashboard and the exporter.

A background task checks every node each ``interval`` seconds — the backend's service states
(in a thread, bounded by a timeout: a docker or kubernetes backend may be slow or absent), the
health checks of ``mevops chain health`` (head, lag vs the reference, peers, sync state) and the
newest backup archive — and keeps the last answer for the engine API's ``GET /api/v1/nodes`` and
``nodes`` stream and for ``mevops chain exporter`` (``mevops_node_*``). A reader never waits on a node.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from datetime import datetime, timezone
from pathlib import Path
from typing import Any

log = logging.getLogger("mevops.lifecycle.monitor")
STATUS_TIMEOUT_S = 3.0


def _iso(ts: float) -> str:
    return datetime.fromtimestamp(ts, timezone.utc).isoformat()


def last_backup(node: Any) -> dict[str, Any] | None:
    """The newest finished archive in the node's backup directory (``mevops chain backup``)."""
    from mevops.lifecycle.backup import backup_dir

    try:
        archives = [p for p in Path(backup_dir(node)).glob("*.tar.gz") if p.is_file()]
    except OSError:
        return None
    if not archives:
        return None
    newest = max(archives, key=lambda p: p.stat().st_mtime)
    st = newest.stat()
    return {"at": _iso(st.st_mtime), "archive": newest.name, "bytes": st.st_size}


def summarise(node: Any, services: list[dict[str, Any]], reports: list[Any], backup: dict[str, Any] | None) -> dict[str, Any]:
    """One row: the backend's states plus head/lag/peers/sync read from the health checks."""
    checks = [{"client": r.client, "name": c.name, "ok": c.ok, "detail": c.detail} for r in reports for c in r.checks]

    def first(attr: str) -> Any:   # the first client that measured it (the execution client comes first)
        return next((getattr(r, attr) for r in reports if getattr(r, attr) is not None), None)

    head, lag, peers = first("head"), first("lag"), first("peers")
    syncing = any(r.syncing for r in reports) if any(r.syncing is not None for r in reports) else None
    running = bool(services) and all(s["state"] == "running" for s in services)
    healthy = bool(reports) and all(r.healthy for r in reports)
    return {"name": node.name, "chain": node.chain.name, "network": node.network.key, "backend": node.network.backend,
            "services": services, "running": running, "healthy": healthy, "head": head, "lag": lag, "peers": peers,
            "syncing": syncing, "checks": checks, "last_backup": backup}


def _services(node: Any) -> list[dict[str, Any]]:
    from dataclasses import asdict

    from mevops.lifecycle.base import get_backend

    try:
        statuses = get_backend(node.network.backend).status(node)
    except Exception as exc:  # noqa: BLE001 - an absent docker/kubernetes is a row, not an error
        return [{"service": c.name, "client": c.name, "state": "unknown", "pid": None,
                 "detail": f"status unavailable: {type(exc).__name__}: {exc}"[:300]} for c in node.services]
    return [{k: v for k, v in asdict(s).items() if k != "extra"} for s in statuses]


class NodeMonitor:
    """``nodes()`` returns the nodes to watch (re-read each round: a reload may change them)."""

    def __init__(self, nodes: Callable[[], list[Any]], interval: float = 10.0) -> None:
        self.nodes, self.interval = nodes, interval
        self.snapshot: dict[str, Any] = {"checked_at": None, "items": []}
        # backends' status calls block (a docker client may wait long on an absent socket): their own
        # two threads, never the loop's default pool that token lookups use, and one call per node at a time
        self.pool = ThreadPoolExecutor(max_workers=2, thread_name_prefix="node-status")
        self.inflight: dict[str, asyncio.Future] = {}
        self.reports: dict[str, tuple[Any, list[Any]]] = {}   # node name → (node, its clients' last HealthReports)
        # rounds start when somebody looks (a GET /nodes, a nodes stream, a scrape): an engine nobody watches
        # spends nothing on checking nodes
        self.wanted = asyncio.Event()
        self.first_round = asyncio.Event()

    async def services(self, node: Any) -> list[dict[str, Any]]:
        future = self.inflight.get(node.name)
        if future is None or future.done():
            future = self.inflight[node.name] = asyncio.get_running_loop().run_in_executor(self.pool, _services, node)
        try:
            return await asyncio.wait_for(asyncio.shield(future), STATUS_TIMEOUT_S)
        except asyncio.TimeoutError:
            return [{"service": c.name, "client": c.name, "state": "unknown", "pid": None,
                     "detail": f"backend {node.network.backend} did not answer in {STATUS_TIMEOUT_S:.0f}s"} for c in node.services]

    async def check(self, node: Any) -> dict[str, Any]:
        from mevops.lifecycle.health import check_node

        states, reports = await asyncio.gather(self.services(node), check_node(node))
        self.reports[node.name] = (node, reports)
        return summarise(node, states, reports, last_backup(node))

    async def refresh(self) -> dict[str, Any]:
        nodes = self.nodes()
        rows = await asyncio.gather(*(self.check(n) for n in nodes), return_exceptions=True)
        items = []
        for node, row in zip(nodes, rows, strict=True):
            if isinstance(row, BaseException):
                log.warning("node %s: check failed: %s", node.name, row)
                row = summarise(node, [], [], None) | {"checks": [{"client": "", "name": "check", "ok": False, "detail": str(row)[:300]}]}
            items.append(row)
        self.snapshot = {"checked_at": _iso(time.time()), "items": items}
        self.first_round.set()
        return self.snapshot

    async def current(self, wait: float = 5.0) -> dict[str, Any]:
        """The last round's snapshot; the first call starts the rounds and waits (bounded) for the first."""
        self.wanted.set()
        if not self.first_round.is_set():
            with contextlib.suppress(asyncio.TimeoutError):
                await asyncio.wait_for(self.first_round.wait(), wait)
        return self.snapshot

    async def run(self, publish: Callable[[dict[str, Any]], None], *, lazy: bool = False) -> None:
        """Check every ``interval`` and ``publish`` each snapshot; ``lazy``: only once ``wanted`` is set."""
        try:
            if lazy:
                await self.wanted.wait()
            while True:
                try:
                    publish(await self.refresh())
                except Exception:  # a broken round never ends the monitor (nor keeps its first waiters waiting)
                    log.exception("node monitor round failed")
                    self.first_round.set()
                await asyncio.sleep(self.interval)
        finally:
            self.pool.shutdown(wait=False, cancel_futures=True)


def workspace_nodes(ws: Any, env: str, root: Path) -> Callable[[], list[Any]]:
    """Every enabled chain and network of the workspace in ``env`` (resolved once)."""
    from mevops.errors import MevopsError
    from mevops.lifecycle.base import Node
    from mevops.render.run import RenderRequest, load_context

    cache: list[Any] = []

    def nodes() -> list[Any]:
        if not cache:
            try:
                ctx = load_context(ws, RenderRequest(root, env, None, None))
            except MevopsError as exc:   # a workspace the engine could load but not render: no node rows
                log.warning("nodes: cannot resolve the workspace's nodes: %s", exc)
                cache.append(None)
            else:
                cache.extend(Node(view, net, root) for view in ctx.chains for net in view.networks)
        return [n for n in cache if n is not None]

    return nodes
