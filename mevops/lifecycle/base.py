"""The backend Protocol and registry: adding a backend is adding one module and one line."""

from __future__ import annotations

import importlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from mevops.errors import MevopsError, Problem

if TYPE_CHECKING:
    from mevops.render.context import ChainView, ClientView, NetworkView

BACKENDS = {
    "process": "mevops.lifecycle.process:ProcessBackend",
    "docker": "mevops.lifecycle.docker:DockerBackend",
    "systemd": "mevops.lifecycle.systemd:SystemdBackend",
    "kubernetes": "mevops.lifecycle.kubernetes:KubernetesBackend",
}


@dataclass
class Node:
    """One chain on one network: the services (clients) that run together."""

    chain: "ChainView"
    network: "NetworkView"
    root: Path

    @property
    def name(self) -> str:
        return f"{self.chain.name}/{self.network.key}"

    @property
    def services(self) -> list["ClientView"]:
        return list(self.network.clients)

    def binary(self, client: "ClientView") -> Path:
        return Path(self.chain.dir) / "binaries" / client.name / "current" / client.binary

    def log_file(self, client: "ClientView") -> Path:
        return Path(self.chain.dir) / "logs" / "application" / f"{self.network.key}-{client.name}.log"

    def pid_file(self, client: "ClientView") -> Path:
        return Path(client.data_dir) / "mevops.pid"


@dataclass
class ServiceStatus:
    service: str
    client: str
    state: str            # running | stopped | crashed | starting | unknown
    pid: int | None = None
    detail: str = ""
    extra: dict[str, object] = field(default_factory=dict)


class Backend(Protocol):
    name: str

    def up(self, node: Node) -> list[ServiceStatus]: ...

    def down(self, node: Node) -> list[ServiceStatus]: ...

    def status(self, node: Node) -> list[ServiceStatus]: ...

    def logs(self, node: Node, *, lines: int = 100, follow: bool = False) -> Iterator[str]: ...


def get_backend(name: str, **options: object) -> Backend:
    if name not in BACKENDS:
        raise MevopsError(Problem("--backend", None, name, f"unknown backend (known: {', '.join(BACKENDS)})"))
    module, _, cls = BACKENDS[name].partition(":")
    return getattr(importlib.import_module(module), cls)(**options)
