"""What templates see: views of the model with every derived value computed here, not in Jinja.

Three runtimes need different addresses for the same thing: ``host`` (systemd, scripts, the
process backend), ``compose`` (docker-compose service names) and ``kubernetes`` (Service DNS).
Each client view carries its fully resolved flags for all three.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from mevops.catalog.models import Chain, Client, Network
    from mevops.config.models import ChainSettings, EffectiveConfig
    from mevops.strategies.store import StrategyRecord

RUNTIMES = ("host", "compose", "kubernetes")
CONTAINER_DATA = "/data"
CONTAINER_CONFIG = "/config"
CONTAINER_SECRETS = "/secrets"
CONFIG_EXT = {"toml": "toml", "yaml": "yaml", "json": "json", "flags": "yaml"}
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")
# Port names other hosts must reach (published on every interface); the rest bind to loopback.
PUBLIC_PORTS = {"p2p": ("tcp", "udp"), "torrent": ("tcp", "udp"), "gossip": ("tcp", "udp"),
                "quic": ("udp",), "discv5": ("udp",)}
# Images whose binaries are not on PATH (directory holding them inside the image).
IMAGE_BINARY_DIRS = {"ghcr.io/base/node": "/app", "avaplatform/avalanchego": "/avalanchego/build",
                     "flashbots/mev-boost": "/app", "nethermind/nethermind": "/nethermind"}
# data_dir entries (chains/*.yml) that hold keys or node identity: what a backup must keep.
KEY_DATA_DIRS = {"keystore", "staking", "p2p_key", "config", "identity"}
_PORT_RANGE = re.compile(r"^--dynamic-port-range=(\d+)-(\d+)$")
_SYSTEMD_BARE = re.compile(r"^[A-Za-z0-9_./:=,@+-]+$")


def systemd_quote(arg: str) -> str:
    """One ExecStart= word: specifiers and variables escaped, quoted unless plainly safe."""
    arg = arg.replace("%", "%%").replace("$", "$$")
    if _SYSTEMD_BARE.match(arg):
        return arg
    return '"' + arg.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_word(value: str) -> str:
    """A word of a non-exec unit setting (paths, Environment=): specifiers escaped, quoted if needed."""
    value = value.replace("%", "%%")
    if re.search(r"[\s\"'\\]", value):
        return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'
    return value


@dataclass(frozen=True)
class PortSpec:
    """One published port (or port range) of a client, for one protocol."""

    name: str          # the catalog's port name (p2p, rpc...), or "dynamic" for a range
    port: int          # the port (first port of a range)
    protocol: str      # tcp | udp
    public: bool       # reachable from other hosts (p2p); otherwise loopback only on hosts
    end: int | None = None  # last port of a range

    @property
    def k8s_name(self) -> str:
        """Unique within a pod (a tcp+udp port gets a -udp twin), at most 15 characters."""
        both = len(PUBLIC_PORTS.get(self.name, ())) > 1
        return (f"{self.name}-udp" if self.protocol == "udp" and both else self.name)[:15]

    @property
    def compose(self) -> str:
        """docker compose short syntax: host port == container port, bound to loopback unless public."""
        span = str(self.port) if self.end is None else f"{self.port}-{self.end}"
        bind = "" if self.public else "127.0.0.1:"
        return f"{bind}{span}:{span}" + ("/udp" if self.protocol == "udp" else "")


def image_repository(image: str) -> str:
    """ghcr.io/base/node:v1.2.0@sha256:... → ghcr.io/base/node"""
    name = image.split("@", 1)[0]
    head, _, last = name.rpartition("/")
    return f"{head}/{last.split(':', 1)[0]}" if head else last.split(":", 1)[0]


@dataclass
class HealthView:
    method: str
    port: int
    port_name: str
    path: str | None
    url: str  # host URL the check calls


@dataclass
class ClientView:
    name: str
    display_name: str
    role: str
    image: str
    binary: str
    version: str
    config_format: str
    config_file: str              # e.g. mainnet.toml (primary client) or mainnet.lighthouse.yaml
    config_path: str              # absolute host path
    service: str                  # ethereum-mainnet-geth: compose service, k8s name, unit stem
    ports: dict[str, int]         # host ports (== container ports: one port space per host)
    data_dir: str                 # absolute host path
    log_dir: str
    flags: dict[str, list[str]]   # runtime → resolved argv after the binary
    health: HealthView
    stop_grace_period: int
    resources: Any
    requires: list[str]
    install: Any
    catalog: "Client" = field(repr=False)
    binary_path: str = ""         # absolute host path: <chain dir>/binaries/<client>/current/<binary> (chain install)
    log_file: str = ""            # <chain dir>/logs/application/<network>-<client>.log, for every host backend
    storage_bytes: int | None = None  # data volume size for this network (storage_testnet on testnet)
    depends_on: list[str] = field(default_factory=list)  # services of the peers this client requires
    gateway_ports: list[int] = field(default_factory=list)  # also published on the docker host gateway (L2s' L1)

    @property
    def unit(self) -> str:
        """systemd unit file name."""
        return f"{self.service}.service"

    @property
    def pid_file(self) -> str:
        """PID file of scripts/start.sh (a plain PID; `mevops chain` keeps its own mevops.pid beside it)."""
        return f"{self.data_dir}/{self.name}.pid"

    @property
    def stateful(self) -> bool:
        """Keeps a database (StatefulSet + volume) rather than being a stateless proxy (Deployment)."""
        return bool(self.catalog.data_dir)

    @property
    def storage_gi(self) -> int | None:
        return math.ceil(self.storage_bytes / 2**30) if self.storage_bytes else None

    @property
    def stop_signal(self) -> str:
        """Every client flushes on SIGTERM (anvil dumps --state). Not SIGINT: a background job of a
        non-interactive shell starts with SIGINT ignored."""
        return "SIGTERM"

    @property
    def start_period(self) -> int:
        """Seconds a container gets before failed health checks count (databases open slowly)."""
        return 600 if self.role in ("execution", "consensus") else 30

    @property
    def exec_start(self) -> str:
        """The systemd ExecStart= command line (host paths, systemd quoting)."""
        return " ".join(systemd_quote(a) for a in [self.binary_path, *self.flags.get("host", [])])

    @property
    def systemd(self) -> dict[str, str]:
        """Unit settings with systemd escaping (paths may hold spaces or %)."""
        return {
            "working_directory": self.data_dir.replace("%", "%%"),
            "home": systemd_word(f"HOME={self.data_dir}"),
            "read_write_paths": " ".join(systemd_word(p) for p in (self.data_dir, self.log_dir)),
            "log_file": self.log_file.replace("%", "%%"),
        }

    @property
    def container_entrypoint(self) -> str:
        folder = IMAGE_BINARY_DIRS.get(image_repository(self.image))
        return f"{folder}/{self.binary}" if folder else self.binary

    @property
    def uses_host_gateway(self) -> bool:
        """Its containers reach a node on the docker host (an L2 following the host's L1)."""
        return any("host.docker.internal" in f for f in self.flags.get("compose", []))

    @property
    def port_ranges(self) -> list[tuple[int, int]]:
        return [(int(m[1]), int(m[2])) for f in self.flags.get("host", []) if (m := _PORT_RANGE.match(f))]

    @property
    def port_specs(self) -> list[PortSpec]:
        """Every named port per protocol: p2p-like ports public (tcp and/or udp), the rest loopback tcp."""
        return [PortSpec(name, port, proto, name in PUBLIC_PORTS)
                for name, port in self.ports.items() for proto in PUBLIC_PORTS.get(name, ("tcp",))]

    @property
    def range_specs(self) -> list[PortSpec]:
        """Dynamic port ranges (agave's TPU/TVU...), public, tcp and udp."""
        return [PortSpec("dynamic", start, proto, True, end) for start, end in self.port_ranges for proto in ("tcp", "udp")]

    @property
    def uses_jwt(self) -> bool:
        """Reads the network's EL/CL shared secret (engine API client or server)."""
        flags = [*self.catalog.flags, *(f for fs in self.catalog.network_flags.values() for f in fs)]
        return any("{jwt_path}" in f for f in flags)

    @property
    def expects_peers(self) -> bool:
        """A healthy node of this client has devp2p peers (a devnet or a feed follower has none)."""
        return self.role == "execution" and "p2p" in self.ports

    @property
    def key_paths(self) -> list[str]:
        """Host paths holding keys or node identity (keystore, staking certs, p2p keys, identity.json)."""
        paths = [f"{self.data_dir}/{sub}" for name, sub in self.catalog.data_dir.items() if name in KEY_DATA_DIRS]
        if any("{identity_path}" in f for f in self.catalog.flags):
            paths.append(f"{self.data_dir}/identity.json")
        return paths

    @property
    def metrics_port(self) -> int | None:
        return self.ports.get("metrics")

    @property
    def rpc_port(self) -> int | None:
        return self.ports.get("rpc") or self.ports.get("http")


@dataclass
class NetworkView:
    key: str                      # mainnet | testnet | local
    name: str                     # sepolia, arb-sepolia, anvil...
    chain_id: int | None
    block_time_ms: int
    backend: str
    data_dir: str
    jwt_path: str | None          # host path of the EL/CL shared secret, if the chain pairs clients
    reference_rpc: str | None
    clients: list[ClientView]

    @property
    def block_time_s(self) -> float:
        return self.block_time_ms / 1000

    @property
    def primary(self) -> ClientView:
        return self.clients[0]

    def client(self, role: str) -> ClientView | None:
        return next((c for c in self.clients if c.role == role), None)

    @property
    def max_head_lag_s(self) -> int:
        """How old the head may be before a node counts as behind: 30 blocks, at least a minute."""
        return max(60, round(30 * self.block_time_ms / 1000))

    @property
    def namespace(self) -> str:
        """Kubernetes namespace: one per network, shared by all chains (L2s find their L1 by Service name)."""
        return f"mevops-{self.key}"


@dataclass
class ChainView:
    name: str
    display_name: str
    family: str
    dir: str
    networks: list[NetworkView]
    features: list[str]
    catalog: "Chain" = field(repr=False)

    def network(self, key: str) -> NetworkView:
        return next(n for n in self.networks if n.key == key)

    @property
    def all_clients(self) -> list[ClientView]:
        return [c for n in self.networks for c in n.clients]


def _role_order(role: str) -> int:
    return {"execution": 0, "devnet": 0, "consensus": 1, "mev": 2}.get(role, 3)


def chain_view(chain: "Chain", settings: "ChainSettings", root: Path, cfg: "EffectiveConfig", l1: "ChainView | None") -> ChainView:
    base = root / "nodes" / "chains" / chain.name
    selected = {r: c for r, c in settings.clients.items()}
    networks = []
    for key in settings.networks:
        net = chain.networks[key]
        chosen = sorted(chain.clients_for(key, selected).items(), key=lambda rc: _role_order(rc[0]))
        paired = any(chain.clients[name].requires for _, name in chosen)
        jwt = str(base / "config" / "jwt" / f"{key}.hex") if paired else None
        backend = settings.backend.get(key) or chain.backends.get(key, "process" if key == "local" else "docker")
        view = NetworkView(key, net.name, net.chain_id, net.block_time, backend, str(base / "data" / key), jwt,
                           net.reference_rpc, [])
        for i, (role, name) in enumerate(chosen):
            view.clients.append(_client_view(chain, net, key, name, i == 0, base, jwt))
        networks.append(view)
    chain_v = ChainView(chain.name, chain.display_name, chain.family, str(base), networks, list(chain.features), chain)
    for network in networks:
        for client in network.clients:
            client.flags = {rt: _resolve_flags(chain_v, network, client, rt, cfg, l1) for rt in RUNTIMES}
            client.depends_on = [peer.service for peer in network.clients if peer.role in client.requires]
    return chain_v


def _client_view(chain: "Chain", net: "Network", key: str, name: str, primary: bool, base: Path, jwt: str | None) -> ClientView:
    client = chain.clients[name]
    ext = CONFIG_EXT[client.config_format]
    config_file = f"{key}.{ext}" if primary else f"{key}.{name}.{ext}"
    ports = {p: n + net.port_offset for p, n in client.ports.items()}
    health_port = ports[client.health.port]
    path = client.health.path or ""
    return ClientView(
        name=name, display_name=client.display_name, role=client.role, image=client.image, binary=client.binary,
        version=client.version, config_format=client.config_format, config_file=config_file,
        config_path=str(base / "config" / config_file), service=f"{chain.name}-{key}-{name}", ports=ports,
        data_dir=str(base / "data" / key / name), log_dir=str(base / "logs" / "application"), flags={},
        health=HealthView(client.health.method, health_port, client.health.port, client.health.path,
                          f"http://127.0.0.1:{health_port}{path}"),
        stop_grace_period=client.stop_grace_period, resources=client.resources, requires=list(client.requires),
        install=client.install, catalog=client, binary_path=str(base / "binaries" / name / "current" / client.binary),
        log_file=str(base / "logs" / "application" / f"{key}-{name}.log"),
        storage_bytes=_storage(client, key),
    )


def _storage(client: "Client", key: str) -> int | None:
    if client.resources is None:
        return None
    if key == "testnet" and client.resources.storage_testnet:
        return client.resources.storage_testnet
    return client.resources.storage


def _address(runtime: str, service: str, port: int) -> str:
    host = "127.0.0.1" if runtime == "host" else service
    return f"http://{host}:{port}"


def _resolve_flags(chain: ChainView, network: NetworkView, client: ClientView, runtime: str,
                   cfg: "EffectiveConfig", l1: ChainView | None) -> list[str]:
    container = runtime != "host"
    values: dict[str, str] = {
        "data_dir": CONTAINER_DATA if container else client.data_dir,
        "config_file": f"{CONTAINER_CONFIG}/{client.config_file}" if container else client.config_path,
        "jwt_path": f"{CONTAINER_SECRETS}/jwt.hex" if container else (network.jwt_path or ""),
        "network": network.name,
        "chain_id": str(network.chain_id or ""),
        "log_dir": "/logs" if container else client.log_dir,
        "ledger_dir": f"{CONTAINER_DATA}/ledger" if container else f"{client.data_dir}/ledger",
        "identity_path": f"{CONTAINER_DATA}/identity.json" if container else f"{client.data_dir}/identity.json",
        "rollup_config": f"{CONTAINER_CONFIG}/rollup.json" if container else f"{chain.dir}/config/rollup.json",
        "checkpoint_sync_url": chain.catalog.networks[network.key].checkpoint_sync_url or "",
        "relays": ",".join(r.url for r in cfg.mev_engine.relays.values() if chain.name in r.chains),
    }
    for port_name, port in client.ports.items():
        values[f"{port_name}_port"] = str(port)
    peers = {c.role: c for c in network.clients}
    if "execution" in peers:
        ex = peers["execution"]
        values["execution_url"] = _address(runtime, ex.service, ex.ports.get("rpc") or ex.ports.get("http", 0))
        if "auth" in ex.ports:
            values["execution_auth_url"] = _address(runtime, ex.service, ex.ports["auth"])
    if "consensus" in peers and "http" in peers["consensus"].ports:
        values["heimdall_url"] = _address(runtime, peers["consensus"].service, peers["consensus"].ports["http"])
    if "mev" in peers:
        mev = peers["mev"]
        values["builder_url"] = _address(runtime, mev.service, next(iter(mev.ports.values())))
    values.update(_l1_urls(chain, network, runtime, cfg, l1))
    argv = []
    for flag in [*client.catalog.flags, *client.catalog.network_flags.get(network.key, [])]:
        missing = [name for name in _PLACEHOLDER.findall(flag) if name not in values]
        if missing:
            from mevops.errors import MevopsError, Problem

            raise MevopsError(Problem(f"chains/{chain.name}.yml", None, f"clients.{client.name}.flags",
                                      f"{flag!r}: {{{missing[0]}}} has no value for {network.key}"))
        argv.append(_PLACEHOLDER.sub(lambda m: values[m[1]], flag))
    return argv


def _l1_urls(chain: ChainView, network: NetworkView, runtime: str, cfg: "EffectiveConfig", l1: ChainView | None) -> dict[str, str]:
    """L2 rollup nodes follow an Ethereum node of the matching network: configured, or our own."""
    if chain.name == "ethereum":
        return {}
    configured = cfg.chains.get("ethereum")
    endpoints = configured.rpc_endpoints.get(network.key, []) if configured else []
    out: dict[str, str] = {}
    if endpoints:
        out["l1_rpc_url"] = endpoints[0]
    if l1 is not None and network.key in {n.key for n in l1.networks}:
        ln = l1.network(network.key)
        # containers reach the host's L1 node through the host gateway
        host = "127.0.0.1" if runtime == "host" else "host.docker.internal" if runtime == "compose" else None
        ex, cl = ln.client("execution") or ln.client("devnet"), ln.client("consensus")
        if ex is not None:
            port = ex.ports.get("rpc", 0)
            out.setdefault("l1_rpc_url", f"http://{host}:{port}" if host else f"http://{ex.service}:{port}")
        if cl is not None and "http" in cl.ports:
            port = cl.ports["http"]
            out["l1_beacon_url"] = f"http://{host}:{port}" if host else f"http://{cl.service}:{port}"
    out.setdefault("l1_rpc_url", "")
    out.setdefault("l1_beacon_url", "")
    return out


@dataclass
class RenderContext:
    """Everything the templates may use."""

    env: str
    root: str
    version: str
    config: "EffectiveConfig"
    chains: list[ChainView]
    strategies: list["StrategyRecord"]

    def as_dict(self) -> dict[str, Any]:
        from mevops.render.deployment import deployment_view
        from mevops.render.monitoring import monitoring_view  # scrape targets, alert thresholds, metrics

        deploy = deployment_view(self)  # operations views: effective config (masked), hosts, firewall, engines
        return {"env": self.env, "root": self.root, "version": self.version, "config": self.config,
                "chains": self.chains, "strategies": self.strategies, "ports": self.ports(),
                "deploy": deploy, "effective": deploy.effective,
                "monitoring": monitoring_view(self)}

    def ports(self) -> list[dict[str, Any]]:
        return [
            {"port": port, "chain": c.name, "network": n.key, "client": cl.name, "name": name}
            for c in self.chains for n in c.networks for cl in n.clients for name, port in sorted(cl.ports.items())
        ]


def build_context(cfg: "EffectiveConfig", catalog: dict[str, "Chain"], strategies: list["StrategyRecord"],
                  root: Path, env: str) -> RenderContext:
    from mevops import __version__

    enabled = {name: s for name, s in cfg.enabled_chains().items() if name in catalog}
    l1 = chain_view(catalog["ethereum"], enabled["ethereum"], root, cfg, None) if "ethereum" in enabled else None
    views = [l1 if name == "ethereum" else chain_view(catalog[name], settings, root, cfg, l1)
             for name, settings in sorted(enabled.items())]
    if l1 is not None:
        _mark_gateway_ports(l1, [v for v in views if v is not None and v is not l1])
    return RenderContext(env, str(root), __version__, cfg, [v for v in views if v is not None], strategies)


_GATEWAY_URL = re.compile(r"http://host\.docker\.internal:(\d+)")


def _mark_gateway_ports(l1: ChainView, others: list[ChainView]) -> None:
    """L1 ports that other chains' containers reach through host.docker.internal (compose)."""
    for network in l1.networks:
        wanted = {int(port) for chain in others for net in chain.networks if net.key == network.key
                  for client in net.clients for flag in client.flags["compose"] for port in _GATEWAY_URL.findall(flag)}
        for client in network.clients:
            client.gateway_ports = sorted(p for p in client.ports.values() if p in wanted)
