"""What the monitoring templates see: scrape targets, alert thresholds and the metric contract.

One approach throughout, also written at the top of the rendered alert files: node alerts read a
uniform metric family, ``mevops_node_*``, that mevops' node-health exporter publishes for every
client from the client's own health method (eth_syncing, beacon syncing, optimism_syncStatus,
getHealth...). Clients name and mean their native metrics differently (geth ``chain_head_block``,
lighthouse ``beacon_head_slot``, op-node ``op_node_default_refs_number``...), so alerts use the
native scrapes only through ``up`` ("metrics endpoint down"); dashboards may link to them.

Everything runs in one port space per host (see ``context``), so every target is ``127.0.0.1``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import PurePosixPath
from typing import TYPE_CHECKING

from mevops.config import units

if TYPE_CHECKING:
    from mevops.render.context import ChainView, ClientView, NetworkView, RenderContext

PROMETHEUS_PORT = 9090
ALERTMANAGER_PORT = 9093
GRAFANA_PORT = 3000
LOKI_PORT = 3100
NODE_EXPORTER_PORT = 9100
NODE_HEALTH_EXPORTER_PORT = 9310
"""The mevops node-health exporter (``mevops_node_*``); no port in chains/*.yml may use it."""
NODE_HEALTH_JOB = "mevops-node-health"
ENGINE_JOB = "mevops-engine"
MONITORING_PORTS = {
    "prometheus": PROMETHEUS_PORT, "alertmanager": ALERTMANAGER_PORT, "grafana": GRAFANA_PORT,
    "loki": LOKI_PORT, "node_exporter": NODE_EXPORTER_PORT, "node_health": NODE_HEALTH_EXPORTER_PORT,
}
SCRAPE_INTERVAL_S = 15
LOSS_WARNING_FRACTION = 0.8  # warn when a loss or spend reaches 80% of its limit

# Where a client serves Prometheus metrics, by binary, when it is not /metrics on its `metrics` port.
_METRICS_ENDPOINTS = {
    "geth": ("metrics", "/debug/metrics/prometheus"),      # geth, op-geth, bsc
    "erigon": ("metrics", "/debug/metrics/prometheus"),
    "bor": ("metrics", "/debug/metrics/prometheus"),
    "nitro": ("metrics", "/debug/metrics/prometheus"),
    "avalanchego": ("http", "/ext/metrics"),
}
_DEFAULT_ENDPOINT = ("metrics", "/metrics")


@dataclass(frozen=True)
class ScrapeTarget:
    """One client's native metrics endpoint; ``job`` is its service name."""

    job: str
    address: str
    path: str
    chain: str
    network: str
    client: str
    role: str


def scrape_target(chain: ChainView, network: NetworkView, client: ClientView) -> ScrapeTarget | None:
    port_name, path = _METRICS_ENDPOINTS.get(client.binary, _DEFAULT_ENDPOINT)
    port = client.ports.get(port_name)
    if port is None:
        return None  # agave, heimdall, mev-boost, anvil: only the health exporter watches them
    return ScrapeTarget(client.service, f"127.0.0.1:{port}", path, chain.name, network.key, client.name, client.role)


@dataclass(frozen=True)
class NodeAlertPolicy:
    """Thresholds for one network's node alerts, derived from its block time."""

    stall_window_s: int        # the head has not moved for 10 blocks (and at least 4 scrapes)
    lag_warning_blocks: int    # about 1 minute of blocks behind the reference RPC
    lag_critical_blocks: int   # about 5 minutes
    expects_peers: bool        # local devnets have none
    has_reference: bool
    has_native_metrics: bool
    mountpoint_regex: str      # every filesystem that may hold the network's data
    rpc_latency_warning_s: float = 2.0
    syncing_too_long: str = "6h"


def _blocks(seconds: int, block_time_ms: int) -> int:
    return max(3, math.ceil(seconds * 1000 / block_time_ms))


def node_alert_policy(chain: ChainView, network: NetworkView) -> NodeAlertPolicy:
    return NodeAlertPolicy(
        stall_window_s=max(4 * SCRAPE_INTERVAL_S, math.ceil(10 * network.block_time_ms / 1000)),
        lag_warning_blocks=_blocks(60, network.block_time_ms),
        lag_critical_blocks=_blocks(300, network.block_time_ms),
        expects_peers=network.key != "local",
        has_reference=network.reference_rpc is not None,
        has_native_metrics=any(scrape_target(chain, network, c) for c in network.clients),
        mountpoint_regex=mountpoint_regex(*(c.data_dir for c in network.clients), network.data_dir),
    )


def mountpoint_regex(*paths: str) -> str:
    """An RE2 alternation of every ancestor of the paths: one of them is the filesystem holding it.

    '.' is written '[.]' so the regex needs no backslashes inside YAML and PromQL strings.
    """
    ancestors: set[str] = set()
    for path in paths:
        p = PurePosixPath(path)
        ancestors.update(str(a) for a in [p, *p.parents])
    return "|".join("".join(_re2_literal(ch) for ch in a) for a in sorted(ancestors))


def _re2_literal(ch: str) -> str:
    if ch in ".+*?(){}|$[":
        return f"[{ch}]"
    if ch == "]":
        return "[]]"
    if ch in "^\\\"'":
        return "."  # no escapes inside YAML and PromQL quotes; matching any one character is harmless
    return ch


@dataclass(frozen=True)
class MetricSpec:
    name: str
    type: str
    labels: tuple[str, ...]
    help: str


_NODE = ("chain", "network", "client", "role")
NODE_METRICS = (
    MetricSpec("mevops_node_head_block", "gauge", _NODE, "head block (slot, height) the client reports"),
    MetricSpec("mevops_node_reference_head_block", "gauge", ("chain", "network"), "head of the network's reference_rpc"),
    MetricSpec("mevops_node_peers", "gauge", _NODE, "connected peers"),
    MetricSpec("mevops_node_syncing", "gauge", _NODE, "1 while the client reports it is syncing, else 0"),
    MetricSpec("mevops_node_rpc_up", "gauge", _NODE, "1 if the last health call succeeded, else 0"),
    MetricSpec("mevops_node_rpc_latency_seconds", "gauge", _NODE, "round trip of the last health call"),
)
ENGINE_METRICS = (
    MetricSpec("mevops_engine_running", "gauge", ("engine",), "1 while the engine's loop runs"),
    MetricSpec("mevops_engine_blocks_processed_total", "counter", ("engine", "chain"), "blocks the collectors delivered"),
    MetricSpec("mevops_engine_event_lag_seconds", "gauge", ("engine", "chain"), "age of the last event when a strategy got it"),
    MetricSpec("mevops_engine_queue_depth", "gauge", ("engine", "queue"), "items waiting in a bounded queue"),
    MetricSpec("mevops_engine_queue_capacity", "gauge", ("engine", "queue"), "the queue's bound"),
    MetricSpec("mevops_engine_queue_dropped_total", "counter", ("engine", "queue"), "items dropped because the queue was full"),
    MetricSpec("mevops_engine_opportunities_found_total", "counter", ("engine", "strategy", "chain"), "opportunities strategies found"),
    MetricSpec("mevops_engine_opportunities_sent_total", "counter", ("engine", "strategy", "chain"), "bundles or transactions sent"),
    MetricSpec("mevops_engine_opportunities_landed_total", "counter", ("engine", "strategy", "chain"), "sent opportunities included on chain"),
    MetricSpec("mevops_engine_realized_pnl_usd", "gauge", ("engine", "strategy"), "realized profit and loss since start, USD"),
    MetricSpec("mevops_engine_daily_pnl_usd", "gauge", ("engine",), "realized profit and loss since 00:00 UTC, USD"),
    MetricSpec("mevops_engine_gas_spent_wei_total", "counter", ("engine", "chain"), "gas paid, in the chain's native wei"),
    MetricSpec("mevops_engine_simulations_total", "counter", ("engine", "strategy"), "simulations run"),
    MetricSpec("mevops_engine_simulation_failures_total", "counter", ("engine", "strategy"), "simulations that failed (nothing was sent)"),
    MetricSpec("mevops_engine_circuit_breaker_open", "gauge", ("engine", "breaker"), "1 while a circuit breaker is open"),
    MetricSpec("mevops_engine_rpc_errors_total", "counter", ("engine", "chain"), "failed RPC calls, after failover"),
    MetricSpec("mevops_engine_rpc_latency_seconds", "gauge", ("engine", "chain"), "smoothed round trip of the engine's RPC calls"),
    MetricSpec("mevops_engine_rpc_failovers_total", "counter", ("engine", "chain"), "switches to another RPC endpoint"),
    MetricSpec("mevops_engine_refused_total", "counter", ("engine", "strategy"), "actions the risk checks refused"),
    MetricSpec("mevops_engine_risk_headroom_ratio", "gauge", ("engine", "limit"), "unused share of a risk limit (0: exhausted)"),
    MetricSpec("mevops_engine_emergency_stop", "gauge", ("engine",), "1 while the emergency stop is engaged"),
    MetricSpec("mevops_engine_trading_enabled", "gauge", ("engine",), "1 while the engine may send trades"),
    MetricSpec("mevops_engine_active_signer", "gauge", ("engine",), "1 on the replica that holds the signer, 0 on standbys"),
    MetricSpec("mevops_engine_collector_restarts_total", "counter", ("engine", "collector"), "collector restarts after an error"),
    MetricSpec("mevops_engine_stream_clients", "gauge", ("engine", "topic"), "WebSocket clients subscribed to a stream"),
    MetricSpec("mevops_engine_stream_dropped_clients_total", "counter", ("engine", "topic"), "slow stream clients disconnected"),
)


@dataclass(frozen=True)
class LogRotation:
    frequency: str | None      # hourly | daily | weekly; None when rotating by size
    max_size: int | None       # bytes
    keep: int                  # rotated files kept (application logs)
    max_age_days: int
    audit_keep: int
    audit_max_age_days: int


_PERIODS = {"hourly": 3600, "daily": 86400, "weekly": 7 * 86400}


def log_rotation(rotation: str, retention_s: int, audit_retention_s: int) -> LogRotation:
    period = _PERIODS.get(rotation, 86400)  # size-based rotation is checked by the daily cron run
    size = None if rotation in _PERIODS else units.parse_bytes(rotation)
    return LogRotation(rotation if size is None else None, size, _periods(retention_s, period), _periods(retention_s, 86400),
                       _periods(audit_retention_s, period), _periods(audit_retention_s, 86400))


def _periods(seconds: int, period: int) -> int:
    return max(1, math.ceil(seconds / period))


def _number(value: float) -> int | float:
    return int(value) if float(value).is_integer() else round(value, 6)


def _scrape_host(host: str) -> str:
    if host in ("0.0.0.0", "::", ""):
        return "127.0.0.1"
    return f"[{host}]" if ":" in host else host


@dataclass
class MonitoringView:
    ports: dict[str, int]
    scrape_interval_s: int
    node_health_job: str
    engine_job: str
    engine_address: str                # host:port of the engine API, whose /metrics Prometheus scrapes
    targets: list[ScrapeTarget]
    max_daily_loss_usd: int | float
    daily_loss_warning_usd: int | float
    max_hourly_loss_usd: int | float
    hourly_loss_warning_usd: int | float
    max_gas_spend_daily_eth: int | float
    gas_spend_warning_eth: int | float
    eth_gas_chains: list[str]          # chains whose gas is paid in ETH (the gas limit is in ETH)
    log_rotation: LogRotation
    node_metrics: tuple[MetricSpec, ...] = NODE_METRICS
    engine_metrics: tuple[MetricSpec, ...] = ENGINE_METRICS

    def targets_for(self, chain: str) -> list[ScrapeTarget]:
        return [t for t in self.targets if t.chain == chain]

    def policy(self, chain: ChainView, network: NetworkView) -> NodeAlertPolicy:
        return node_alert_policy(chain, network)


def monitoring_view(ctx: RenderContext) -> MonitoringView:
    cfg = ctx.config
    limits = cfg.risk_limits.global_limits
    api = cfg.mev_engine.api
    logging = cfg.global_.logging
    daily, hourly = limits.max_daily_loss / 1e6, limits.max_hourly_loss / 1e6
    gas = limits.max_gas_spend_daily / 1e18
    targets = [t for c in ctx.chains for n in c.networks for cl in n.clients if (t := scrape_target(c, n, cl))]
    return MonitoringView(
        ports=dict(MONITORING_PORTS), scrape_interval_s=SCRAPE_INTERVAL_S,
        node_health_job=NODE_HEALTH_JOB, engine_job=ENGINE_JOB,
        engine_address=f"{_scrape_host(api.host)}:{api.port}", targets=targets,
        max_daily_loss_usd=_number(daily), daily_loss_warning_usd=_number(daily * LOSS_WARNING_FRACTION),
        max_hourly_loss_usd=_number(hourly), hourly_loss_warning_usd=_number(hourly * LOSS_WARNING_FRACTION),
        max_gas_spend_daily_eth=_number(gas), gas_spend_warning_eth=_number(gas * LOSS_WARNING_FRACTION),
        eth_gas_chains=[c.name for c in ctx.chains if c.catalog.native_currency.symbol == "ETH"],
        log_rotation=log_rotation(logging.rotation, logging.retention, logging.audit_retention),
    )
