"""The operations view templates use for the MEV center, deployment, security and environments.

Everything a deployment needs that is *derived* from the model is computed here, so the
templates under ``templates/mev``, ``templates/infrastructure`` and ``templates/environments``
only lay values out: the effective config with secrets masked, the store URL without a
password, which ports are public (p2p), private (RPC, metrics) or loopback-only (engine auth),
node hosts sized from the catalog's resources, the strategy registry and each engine's chains
and relays.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit, urlunsplit

from mevops.config.units import parse_bytes
from mevops.output import mask_secrets
from mevops.render.context import PUBLIC_PORTS  # port names peers on the internet must reach
from mevops.strategies import STAGES

if TYPE_CHECKING:
    from mevops.render.context import RenderContext

# Port names only processes on the same host may use (engine API JWT, bor <-> heimdall gRPC).
LOOPBACK_PORTS = frozenset({"auth", "grpc", "faucet"})
# Where RPC, WebSocket and metrics ports may be reached from (edit the rendered sets to narrow).
PRIVATE_CIDRS_V4 = ("10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16")
PRIVATE_CIDRS_V6 = ("fc00::/7",)
# Node-facing ports the engine dials (RPC and WebSocket), for its egress policy.
ENGINE_DIALS = frozenset({"rpc", "ws", "http"})
# How many engine replicas run (one signs, the others are hot standbys).
ENGINE_REPLICAS = {"production": 3}
DEFAULT_ENGINE_REPLICAS = 2
# Region roles each network's hosts are placed in (terraform variable defaults).
PLACEMENT = {
    "production": {"mainnet": ["primary", "secondary"], "testnet": ["primary"]},
}
DEFAULT_PLACEMENT = {"mainnet": ["primary"], "testnet": ["primary"]}
SIGNER_LEASE = "mevops-engine-signer"
ENGINE_IMAGE = "mevops/engine"
CONTAINER_ROOT = "/data/blockchain"
GIB = 1024**3


@dataclass
class PortRule:
    port: int
    protocols: list[str]
    exposure: str          # public | private | loopback
    chain: str
    network: str
    client: str
    name: str              # the catalog's port name, or "dynamic" for a range (agave's TPU/TVU)
    end: int | None = None  # last port of a range


@dataclass
class VolumeView:
    client: str
    size_gib: int
    mount: str             # host path of the client's data directory


@dataclass
class HostView:
    """One node host: every client of one chain's network (local devnets run on the operator's box)."""

    name: str              # ethereum-mainnet
    chain: str
    network: str
    network_name: str
    backend: str
    clients: list[str]
    cpu_cores: float       # sum of the clients' CPU limits
    memory_gib: float      # sum of the clients' memory limits
    volumes: list[VolumeView]
    public: list[PortRule]
    private: list[PortRule]
    loopback: list[PortRule]

    @property
    def public_tcp(self) -> list[int]:
        return sorted({r.port for r in self.public if "tcp" in r.protocols and r.end is None})

    @property
    def public_udp(self) -> list[int]:
        return sorted({r.port for r in self.public if "udp" in r.protocols and r.end is None})

    @property
    def public_ranges(self) -> list[dict[str, Any]]:
        return [{"protocol": p, "from": r.port, "to": r.end} for r in self.public if r.end is not None for p in r.protocols]

    @property
    def private_tcp(self) -> list[int]:
        return sorted({r.port for r in self.private})


@dataclass
class StoreView:
    url: str               # the configured URL without a password
    kind: str              # sqlite | postgresql
    user: str | None = None
    host: str | None = None
    port: int | None = None
    database: str | None = None

    @property
    def postgres(self) -> bool:
        return self.kind == "postgresql"

    def url_for_host(self, host: str) -> str:
        """The same URL pointing at another database host (e.g. the compose ``postgres`` service)."""
        parts = urlsplit(self.url)
        user = f"{parts.username}@" if parts.username else ""
        return urlunsplit((parts.scheme, f"{user}{host}:{self.port or 5432}", parts.path, parts.query, parts.fragment))


@dataclass
class EngineView:
    name: str
    definition: dict[str, Any]
    chains: list[str]
    strategies: list[dict[str, Any]]
    relays: dict[str, dict[str, Any]]
    chain_limits: dict[str, Any]
    strategy_limits: dict[str, Any]


@dataclass
class DeploymentView:
    effective: dict[str, Any]
    engine_config: dict[str, Any]
    engine_config_sha256: str
    store: StoreView
    engines: dict[str, EngineView]
    registry: list[dict[str, Any]]
    stages: dict[str, list[dict[str, Any]]]
    stage_counts: dict[str, int]
    hosts: list[HostView]
    rules: list[PortRule]
    engine_egress_ports: list[int]
    layout: list[dict[str, str]]
    dashboard_dirs: list[str]   # host directories the Grafana provisioning loads dashboards from
    node_namespaces: list[str]  # kubernetes namespaces of the nodes the engine dials
    master_key_path: str
    master_key_in_workspace: bool
    engine_image: str
    engine_replicas: int
    placement: dict[str, list[str]]
    namespace: str
    api_exposed: bool      # the engine API listens beyond loopback (firewall: private networks only)
    signer_lease: str = SIGNER_LEASE
    private_cidrs_v4: list[str] = field(default_factory=lambda: list(PRIVATE_CIDRS_V4))
    private_cidrs_v6: list[str] = field(default_factory=lambda: list(PRIVATE_CIDRS_V6))
    container_root: str = CONTAINER_ROOT

    def firewall_set(self, exposure: str, protocol: str = "tcp") -> list[tuple[str, str]]:
        """(port or range, who uses it) for one nftables set: each once, every user named."""
        users: dict[tuple[int, int], list[str]] = {}
        for r in self.rules:
            if r.exposure == exposure and protocol in r.protocols:
                users.setdefault((r.port, r.end or r.port), []).append(f"{r.chain} {r.network} {r.client} {r.name}")
        return [(str(a) if a == b else f"{a}-{b}", ", ".join(users[(a, b)])) for a, b in sorted(users)]


# -- pieces ---------------------------------------------------------------------------------
def store_view(url: str) -> StoreView:
    """The store URL with any password removed: passwords come from a secret file, never config."""
    parts = urlsplit(url)
    scheme = parts.scheme.split("+", 1)[0]
    if scheme != "postgresql":
        return StoreView(url, scheme)
    netloc = parts.hostname or ""
    if parts.port:
        netloc = f"{netloc}:{parts.port}"
    if parts.username:
        netloc = f"{parts.username}@{netloc}"
    clean = urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))
    return StoreView(clean, scheme, parts.username or "mevops", parts.hostname, parts.port or 5432,
                     parts.path.lstrip("/") or "mevops")


def _exposure(network: str, port_name: str) -> str:
    if network == "local" or port_name in LOOPBACK_PORTS:
        return "loopback"
    return "public" if port_name in PUBLIC_PORTS else "private"


def port_rules(ctx: RenderContext) -> list[PortRule]:
    rules = []
    for chain in ctx.chains:
        for network in chain.networks:
            for client in network.clients:
                for name, port in sorted(client.ports.items()):
                    exposure = _exposure(network.key, name)
                    protocols = list(PUBLIC_PORTS[name]) if exposure == "public" else ["tcp"]
                    rules.append(PortRule(port, protocols, exposure, chain.name, network.key, client.name, name))
                for start, end in client.port_ranges:
                    exposure = "loopback" if network.key == "local" else "public"
                    protocols = ["tcp", "udp"] if exposure == "public" else ["tcp"]
                    rules.append(PortRule(start, protocols, exposure, chain.name, network.key, client.name, "dynamic", end))
    return rules


def _cores(quantity: str) -> float:
    return int(quantity[:-1]) / 1000 if quantity.endswith("m") else float(quantity)


def _gib(quantity: str) -> float:
    return parse_bytes(quantity) / GIB


def host_views(ctx: RenderContext, rules: list[PortRule]) -> list[HostView]:
    hosts = []
    for chain in ctx.chains:
        for network in chain.networks:
            if network.key == "local":
                continue
            sized = [c for c in network.clients if c.resources is not None]
            volumes = [VolumeView(c.name, -(-c.storage_bytes // GIB), c.data_dir) for c in sized if c.storage_bytes]
            mine = [r for r in rules if r.chain == chain.name and r.network == network.key]
            hosts.append(HostView(
                name=f"{chain.name}-{network.key}", chain=chain.name, network=network.key, network_name=network.name,
                backend=network.backend, clients=[c.name for c in network.clients],
                cpu_cores=round(sum(_cores(c.resources.cpu_limit) for c in sized), 2),
                memory_gib=round(sum(_gib(c.resources.memory_limit) for c in sized), 2),
                volumes=volumes,
                public=[r for r in mine if r.exposure == "public"],
                private=[r for r in mine if r.exposure == "private"],
                loopback=[r for r in mine if r.exposure == "loopback"],
            ))
    return hosts


def _strategy_row(record: Any) -> dict[str, Any]:
    spec = record.spec
    source = f"mev/strategies/{record.stage}/{spec.strategy.type}/{spec.strategy.name}.yml"
    return {
        "name": spec.strategy.name, "stage": record.stage, "type": spec.strategy.type,
        "subtype": spec.strategy.subtype, "enabled": spec.strategy.enabled, "risk_level": spec.strategy.risk_level,
        "engine": spec.execution.engine, "mode": spec.execution.mode, "chains": list(spec.parameters.chains),
        "version": spec.strategy.version, "source": source,
    }


def engine_views(ctx: RenderContext, registry: list[dict[str, Any]]) -> dict[str, EngineView]:
    cfg = ctx.config
    risk = cfg.risk_limits.model_dump(mode="json")
    views = {}
    for name, definition in cfg.mev_engine.engines.items():
        assigned = [r for r in registry if r["engine"] == name and r["stage"] != "archived"]
        chains = sorted({c for r in assigned for c in r["chains"]})
        relays = {rn: {"url": r.url, "chains": [c for c in r.chains if c in chains]}
                  for rn, r in cfg.mev_engine.relays.items() if set(r.chains) & set(chains)}
        views[name] = EngineView(
            name, definition.model_dump(mode="json"), chains,
            [{"name": r["name"], "stage": r["stage"], "enabled": r["enabled"], "mode": r["mode"]} for r in assigned],
            relays,
            {c: v for c, v in risk["chain_limits"].items() if c in chains},
            {t: v for t, v in risk["strategy_limits"].items() if t in definition.strategy_types},
        )
    return views


def _engine_config(ctx: RenderContext, effective: dict[str, Any], store: StoreView) -> dict[str, Any]:
    engine = dict(effective["mev_engine"])
    engine["store"] = {"url": store.url}
    return {
        "environment": ctx.env,
        "mev": effective["mev"],
        "mev_engine": engine,
        "strategy_policy": effective["strategy_policy"],
        "risk_limits": effective["risk_limits"],
        "logging": effective["global"]["logging"],
        "networking": effective["global"]["networking"],
    }


def layout(ctx: RenderContext) -> list[dict[str, str]]:
    from mevops.render.apply import layout_dirs

    root = Path(ctx.root)
    seen: dict[str, str] = {}
    for path, mode in layout_dirs(ctx):
        seen.setdefault(path.relative_to(root).as_posix(), f"0{mode:o}")
    return [{"path": p, "mode": m} for p, m in seen.items()]


def deployment_view(ctx: RenderContext) -> DeploymentView:
    cfg = ctx.config
    store = store_view(cfg.mev_engine.store.url)
    effective = mask_secrets(cfg.model_dump(mode="json", by_alias=True))
    effective["mev_engine"]["store"]["url"] = store.url
    engine_config = _engine_config(ctx, effective, store)
    records = sorted(ctx.strategies, key=lambda r: (STAGES.index(r.stage), r.name))
    registry = [_strategy_row(r) for r in records]
    stages = {stage: [dict(row, spec=mask_secrets(r.spec.model_dump(mode="json")))
                      for row, r in zip(registry, records) if r.stage == stage] for stage in STAGES}
    rules = port_rules(ctx)
    key_path = cfg.global_.security.encryption_key_path
    return DeploymentView(
        effective=effective,
        engine_config=engine_config,
        engine_config_sha256=hashlib.sha256(json.dumps(engine_config, sort_keys=True).encode()).hexdigest(),
        store=store,
        engines=engine_views(ctx, registry),
        registry=registry,
        stages=stages,
        stage_counts={stage: len(rows) for stage, rows in stages.items()},
        hosts=host_views(ctx, rules),
        rules=rules,
        engine_egress_ports=sorted({r.port for r in rules if r.name in ENGINE_DIALS and r.network != "local"}),
        layout=layout(ctx),
        dashboard_dirs=[f"{ctx.root}/mev/monitoring", *(f"{c.dir}/monitoring" for c in ctx.chains)],
        node_namespaces=sorted({n.namespace for c in ctx.chains for n in c.networks if n.key != "local"}),
        master_key_path=key_path,
        master_key_in_workspace=not key_path.startswith("/"),
        engine_image=f"{ENGINE_IMAGE}:{ctx.version}",
        engine_replicas=ENGINE_REPLICAS.get(ctx.env, DEFAULT_ENGINE_REPLICAS),
        placement=PLACEMENT.get(ctx.env, DEFAULT_PLACEMENT),
        namespace=f"mevops-{ctx.env}",
        api_exposed=cfg.mev_engine.api.host not in ("127.0.0.1", "localhost", "::1"),
    )
