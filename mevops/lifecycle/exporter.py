"""The node-health exporter: ``mevops_node_*`` for every client of every node, from the health
checks of ``mevops chain health``, on 127.0.0.1:9310 — where the rendered Prometheus configs scrape
it and what the rendered node alerts and dashboards are written against.

A scrape reads the NodeMonitor's last round (it never waits on a node); the round runs every
``interval`` seconds in the background.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from typing import Any

from prometheus_client.core import Metric
from prometheus_client.registry import Collector, CollectorRegistry

from mevops.engine.api.metrics import Families
from mevops.errors import MevopsError, Problem
from mevops.lifecycle.monitor import NodeMonitor
from mevops.render.monitoring import NODE_METRICS

SPECS = {m.name: m for m in NODE_METRICS}
class NodeHealthCollector(Collector):
    def __init__(self, monitor: NodeMonitor) -> None:
        self.monitor = monitor

    def collect(self) -> Iterator[Metric]:
        f = Families(SPECS)
        for node, reports in self.monitor.reports.values():
            roles = {c.name: c.role for c in node.services}
            where = {"chain": node.chain.name, "network": node.network.key}
            reference = None
            for r in reports:
                labels = {**where, "client": r.client, "role": roles.get(r.client, "")}
                checks = {c.name: c for c in r.checks}
                up = not ("rpc" in checks and not checks["rpc"].ok)
                f.add("mevops_node_rpc_up", 1 if up else 0, **labels)
                if r.latency_ms is not None:
                    f.add("mevops_node_rpc_latency_seconds", r.latency_ms / 1000, **labels)
                if r.head is not None:
                    f.add("mevops_node_head_block", r.head, **labels)
                if r.syncing is not None:
                    f.add("mevops_node_syncing", 1 if r.syncing else 0, **labels)
                if r.peers is not None:
                    f.add("mevops_node_peers", r.peers, **labels)
                if r.reference_head is not None:
                    reference = r.reference_head
            if reference is not None:
                f.add("mevops_node_reference_head_block", reference, **where)
        for name in SPECS:
            f.declare(name)
        yield from f.families.values()


def make_registry(monitor: NodeMonitor) -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(NodeHealthCollector(monitor))
    return registry


async def serve(monitor: NodeMonitor, host: str, port: int, on_listen: Any = None, stop: asyncio.Event | None = None) -> None:
    """Serve ``/metrics`` until ``stop`` is set; the first round finishes before the port opens (no empty first scrape)."""
    from prometheus_client.exposition import start_http_server

    runner = asyncio.create_task(monitor.run(lambda snapshot: None))
    try:
        await monitor.first_round.wait()      # the rounds' first, not one more before them
        try:
            server, thread = start_http_server(port, addr=host, registry=make_registry(monitor))
        except OSError as exc:   # taken, or not an address of this host: exit 2, one line
            raise MevopsError(Problem("--port", None, str(port), f"cannot listen on {host}:{port}: {exc.strerror or exc}")) from None
        try:
            if on_listen is not None:
                on_listen(server.server_address[0], server.server_address[1])
            await (stop.wait() if stop is not None else asyncio.Event().wait())
        finally:
            server.shutdown()
            server.server_close()
            thread.join(5)
    finally:
        runner.cancel()
        await asyncio.gather(runner, return_exceptions=True)
