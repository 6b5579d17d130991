"""The chain catalog's schema: what a chain, its networks and its clients are (data in chains/*.yml)."""

from __future__ import annotations

import re
from typing import Literal

from pydantic import Field, field_validator, model_validator

from mevops.config.snapshot import ChainMethods
from mevops.config.types import Bytes, Millis, Name, Port, PositiveInt, Seconds, Strict

NetworkKey = Literal["mainnet", "testnet", "local"]
NETWORK_KEYS: tuple[str, ...] = ("mainnet", "testnet", "local")
Role = Literal["execution", "consensus", "mev", "devnet"]
Backend = Literal["process", "docker", "systemd", "kubernetes"]
HealthMethod = Literal[
    "eth_syncing",       # JSON-RPC eth_syncing + eth_blockNumber (EVM execution clients, anvil)
    "beacon_syncing",    # GET /eth/v1/node/syncing (Ethereum consensus clients)
    "optimism_sync",     # op-node optimism_syncStatus
    "heimdall_status",   # GET /status (heimdall)
    "avalanche_health",  # POST /ext/health + info.isBootstrapped
    "solana_health",     # JSON-RPC getHealth + getSlot
    "http_status",       # GET path expecting 200 (mev-boost /eth/v1/builder/status)
]
ConfigFormat = Literal["toml", "yaml", "json", "flags"]
# Placeholders a client's flags may use; render fills them in.
FLAG_PLACEHOLDERS = {
    "data_dir", "config_file", "jwt_path", "network", "chain_id", "log_dir",
    "rpc_port", "ws_port", "p2p_port", "auth_port", "metrics_port", "http_port", "grpc_port",
    "feed_port", "gossip_port", "execution_url", "execution_auth_url", "l1_rpc_url", "l1_beacon_url",
    "rollup_config", "relays", "checkpoint_sync_url", "heimdall_url", "ledger_dir", "identity_path", "builder_url",
}
_PLACEHOLDER = re.compile(r"\{([a-z0-9_]+)\}")
_ADDRESS = re.compile(r"^(0x[0-9a-fA-F]{40}|[1-9A-HJ-NP-Za-km-z]{32,44})$")


class Resources(Strict):
    """Kubernetes-style requests/limits and the data volume size for one client."""

    cpu_request: str
    cpu_limit: str
    memory_request: str
    memory_limit: str
    storage: Bytes = Field(description="data volume size for mainnet, e.g. '2TiB'")
    storage_testnet: Bytes | None = None


class Health(Strict):
    method: HealthMethod
    port: str = Field(description="name of the port (in `ports`) the check talks to")
    path: str | None = None


class Release(Strict):
    """A pinned client release: where to fetch it and the sha256 it must have."""

    url: str = Field(pattern=r"^(https?|file)://")
    sha256: str = Field(pattern=r"^[0-9a-f]{64}$")
    member: str = Field(description="path of the binary inside the archive (or the file name of a bare binary)")


class Install(Strict):
    source: Literal["npm", "url"]
    package: str | None = Field(None, description="npm package name (source: npm)")
    default_version: str
    releases: dict[str, Release] = {}


class Client(Strict):
    display_name: str
    role: Role
    image: str = Field(pattern=r"^[a-z0-9./_-]+(:[A-Za-z0-9._-]+)?(@sha256:[0-9a-f]{64})?$")
    binary: str = Field(pattern=r"^[A-Za-z0-9._-]+$")
    version: str
    config_format: ConfigFormat
    flags: list[str] = []
    network_flags: dict[NetworkKey, list[str]] = {}
    ports: dict[Name, Port]
    health: Health
    data_dir: dict[Name, str] = Field(default_factory=dict, description="named subpaths of the data directory")
    resources: Resources | None = None
    stop_grace_period: Seconds = 30
    networks: list[NetworkKey] = ["mainnet", "testnet"]
    install: Install | None = Field(None, description="how `mevops chain install` fetches the binary")
    requires: list[Role] = Field(default_factory=list, description="roles this client must be wired to")

    @field_validator("data_dir")
    @classmethod
    def _relative_paths(cls, layout: dict[str, str]) -> dict[str, str]:
        for name, sub in layout.items():
            parts = sub.split("/")
            if sub.startswith("/") or ".." in parts or "" in parts:
                raise ValueError(f"data_dir.{name}: {sub!r} must be a relative path inside the data directory")
        return layout

    @model_validator(mode="after")
    def _consistent(self) -> "Client":
        if self.health.port not in self.ports:
            raise ValueError(f"health.port {self.health.port!r} is not one of ports ({', '.join(self.ports)})")
        known = FLAG_PLACEHOLDERS | {f"{port}_port" for port in self.ports}
        for flag in [*self.flags, *(f for fs in self.network_flags.values() for f in fs)]:
            for name in _PLACEHOLDER.findall(flag):
                if name not in known:
                    raise ValueError(f"flag {flag!r} uses unknown placeholder {{{name}}}")
        return self


class Network(Strict):
    name: str = Field(description="the public name: mainnet, sepolia, arb-sepolia, devnet...")
    chain_id: PositiveInt | None = Field(None, description="EVM chain id; none for non-EVM chains")
    block_time: Millis
    port_offset: int = Field(0, ge=0, le=20000)
    reference_rpc: str | None = Field(None, description="public RPC used as the head reference for lag alerts")
    checkpoint_sync_url: str | None = None
    explorer: str | None = None


class Asset(Strict):
    decimals: int = Field(ge=0, le=36)
    addresses: dict[NetworkKey, str] = {}

    @field_validator("addresses")
    @classmethod
    def _addresses(cls, addresses: dict[str, str]) -> dict[str, str]:
        for network, address in addresses.items():
            if not _ADDRESS.match(address):
                raise ValueError(f"{network}: {address!r} is not an address")
        return addresses


class NativeCurrency(Strict):
    symbol: str
    decimals: int = 18


class Chain(ChainMethods, Strict):
    """A chain of the catalog (what runs where: ``ChainMethods``)."""

    name: Name
    display_name: str
    family: Literal["evm", "solana"]
    native_currency: NativeCurrency
    networks: dict[NetworkKey, Network]
    clients: dict[Name, Client]
    defaults: dict[Role, Name] = Field(description="the default client per role")
    backends: dict[NetworkKey, Backend] = Field(default_factory=lambda: {"mainnet": "docker", "testnet": "docker", "local": "process"})
    features: list[str] = []
    assets: dict[str, Asset] = {}

    @model_validator(mode="after")
    def _consistent(self) -> "Chain":
        problems = []
        for role, client in self.defaults.items():
            if client not in self.clients:
                problems.append(f"defaults.{role}: unknown client {client!r}")
            elif self.clients[client].role != role:
                problems.append(f"defaults.{role}: client {client!r} has role {self.clients[client].role!r}")
        if "execution" not in self.defaults:
            problems.append("defaults: needs an execution client")
        if "local" in self.networks and "devnet" not in self.defaults:
            problems.append("defaults: the local network needs a devnet client (e.g. anvil)")
        for name, client in self.clients.items():
            for role in client.requires:
                if role not in self.defaults:
                    problems.append(f"clients.{name}.requires: no default {role} client to wire to")
        if problems:
            raise ValueError("; ".join(problems))
        return self
