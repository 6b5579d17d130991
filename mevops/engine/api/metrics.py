"""``/metrics`` in the Prometheus text format, read from the engine at scrape time.

Nothing is counted twice: the engine, the service's counters, the risk manager and the RPC
client keep their own numbers; a scrape turns them into metric families. The names, types and
labels are those of ``mevops.render.monitoring.ENGINE_METRICS`` — the list the rendered alert
rules and dashboards are written against (a test checks every rendered reference exists here).
"""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

from prometheus_client.core import CounterMetricFamily, GaugeMetricFamily, Metric
from prometheus_client.registry import Collector, CollectorRegistry

from mevops.render.monitoring import ENGINE_METRICS

if TYPE_CHECKING:
    from mevops.engine.api.service import EngineService

SPECS = {m.name: m for m in ENGINE_METRICS}
USD = 10**6


class Families:
    """Metric families of one scrape, checked against a list of MetricSpecs (names, types, labels)."""

    def __init__(self, specs: dict[str, Any] = SPECS) -> None:
        self.specs = specs
        self.families: dict[str, Metric] = {}

    def add(self, name: str, value: float, **labels: Any) -> None:
        spec = self.specs[name]
        family = self.families.get(name)
        if family is None:
            if spec.type == "counter":
                family = CounterMetricFamily(name.removesuffix("_total"), spec.help, labels=list(spec.labels))
            else:
                family = GaugeMetricFamily(name, spec.help, labels=list(spec.labels))
            self.families[name] = family
        missing = set(spec.labels) - set(labels)
        assert not missing and len(labels) == len(spec.labels), f"{name}: labels {sorted(labels)} != {spec.labels}"
        family.add_metric([str(labels[k]) for k in spec.labels], value)

    def declare(self, name: str) -> None:
        """An empty family still documents itself (HELP/TYPE) before its first sample."""
        if name not in self.families:
            spec = self.specs[name]
            cls = CounterMetricFamily if spec.type == "counter" else GaugeMetricFamily
            self.families[name] = cls(name.removesuffix("_total") if spec.type == "counter" else name, spec.help,
                                      labels=list(spec.labels))


class EngineCollector(Collector):
    def __init__(self, service: "EngineService") -> None:
        self.service = service

    def collect(self) -> Iterator[Metric]:
        s = self.service
        e = s.name
        m = s.engine.metrics
        c = s.counters
        f = Families()
        f.add("mevops_engine_running", 1 if s.engine.running.is_set() else 0, engine=e)
        f.add("mevops_engine_trading_enabled", 1 if s.trading else 0, engine=e)
        f.add("mevops_engine_active_signer", 1 if s.replica.get("role") == "active" else 0, engine=e)
        stopped = s.risk is not None and s.risk.stopped
        f.add("mevops_engine_emergency_stop", 1 if stopped else 0, engine=e)
        f.add("mevops_engine_blocks_processed_total", m.events.get("NewBlock", 0), engine=e, chain=s.chain)
        if m.event_lag_ms:
            f.add("mevops_engine_event_lag_seconds", m.event_lag_ms[-1] / 1000, engine=e, chain=s.chain)
        for queue, capacity in s.engine.queue_sizes.items():
            f.add("mevops_engine_queue_depth", m.queue_depth.get(queue, 0), engine=e, queue=queue)
            f.add("mevops_engine_queue_capacity", capacity, engine=e, queue=queue)
            f.add("mevops_engine_queue_dropped_total", m.dropped.get(queue, 0), engine=e, queue=queue)
        strategies = {st.name for st in s.engine.strategies}
        for name in sorted(strategies):
            key = (name, s.chain)
            f.add("mevops_engine_opportunities_found_total", c.found.get(key, 0), engine=e, strategy=name, chain=s.chain)
            f.add("mevops_engine_opportunities_sent_total", c.sent.get(key, 0), engine=e, strategy=name, chain=s.chain)
            f.add("mevops_engine_opportunities_landed_total", c.landed.get(key, 0), engine=e, strategy=name, chain=s.chain)
            f.add("mevops_engine_simulations_total", c.simulated.get(name, 0), engine=e, strategy=name)
            f.add("mevops_engine_simulation_failures_total", c.sim_failed.get(name, 0), engine=e, strategy=name)
            f.add("mevops_engine_refused_total", c.refused.get(name, 0), engine=e, strategy=name)
            f.add("mevops_engine_realized_pnl_usd", c.realized_usd.get(name, 0) / USD, engine=e, strategy=name)
        f.add("mevops_engine_daily_pnl_usd", c.daily_usd.get(time.strftime("%Y-%m-%d", time.gmtime()), 0) / USD, engine=e)
        f.add("mevops_engine_gas_spent_wei_total", c.gas_wei.get(s.chain, 0), engine=e, chain=s.chain)
        rpc = s.rpc_stats()
        if rpc:
            f.add("mevops_engine_rpc_errors_total", rpc.get("errors", 0), engine=e, chain=s.chain)
            f.add("mevops_engine_rpc_failovers_total", rpc.get("failovers", 0), engine=e, chain=s.chain)
            if rpc.get("calls"):
                f.add("mevops_engine_rpc_latency_seconds", rpc.get("latency_s", 0.0), engine=e, chain=s.chain)
        for collector, restarts in sorted(m.collector_restarts.items()):
            f.add("mevops_engine_collector_restarts_total", restarts, engine=e, collector=collector)
        if s.risk is not None:
            now = time.time()
            for name, breaker in sorted(s.risk.breakers.items()):
                f.add("mevops_engine_circuit_breaker_open", 1 if breaker.state(now) == "open" else 0, engine=e, breaker=name)
            for limit, h in s.risk_state()["headroom"].items():
                f.add("mevops_engine_risk_headroom_ratio", h["headroom_ratio"], engine=e, limit=limit)
        for topic, stats in s.hub.stats().items():
            f.add("mevops_engine_stream_clients", stats["clients"], engine=e, topic=topic)
            f.add("mevops_engine_stream_dropped_clients_total", stats["dropped_clients"], engine=e, topic=topic)
        for name in SPECS:
            f.declare(name)
        yield from f.families.values()


def make_registry(service: "EngineService") -> CollectorRegistry:
    registry = CollectorRegistry(auto_describe=False)
    registry.register(EngineCollector(service))
    return registry


def exposition(registry: CollectorRegistry) -> bytes:
    from prometheus_client.exposition import generate_latest

    return generate_latest(registry)
