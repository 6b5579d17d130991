"""The docker backend: containers made with the Docker SDK from the model the compose file is rendered from.

Per node (one chain on one network): a bridge network ``mevops-<chain>-<network>`` (the local
devnet uses host networking, as in the compose file), and per client a container named like its
compose service, with the same image, entrypoint, flags, bind mounts (data → /data, config →
/config:ro, JWT → /secrets/jwt.hex:ro), published ports, ulimits, healthcheck, restart policy,
stop signal and labels. A config-hash label makes ``up`` idempotent: a running container with the
same hash is left alone, a changed one is recreated. ``down`` stops (grace period = the client's
``stop_grace_period``) and removes the containers; data stays in the bind-mounted directories.

Any Docker-compatible API works (Docker Engine, ``podman system service``): ``DOCKER_HOST`` or the
SDK default socket. Health is the engine's verdict; before it has one (always, on podman without
systemd, which schedules no checks) the container's own check is run once. An engine that cannot
raise nofile to the compose value (nested, rootless) runs containers with its default limits, and
``status`` says so (``ulimits=engine-default``).
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from mevops.errors import MevopsError, Problem
from mevops.lifecycle.base import Node, ServiceStatus

if TYPE_CHECKING:
    from mevops.render.context import ClientView

STARTUP_TIMEOUT = 30.0
NOFILE = 1048576  # as in the compose file
LABEL = "io.mevops"
HASH_LABEL = "io.mevops.config-hash"
ULIMITS_LABEL = "io.mevops.ulimits"
NS = 1_000_000_000


def network_name(node: Node) -> str:
    return f"mevops-{node.chain.name}-{node.network.key}"


def host_networking(node: Node) -> bool:
    """The local devnet binds 127.0.0.1 (its flags are the process backend's): host networking."""
    return node.network.key == "local"


def alive_script(client: ClientView) -> str:
    """The compose healthcheck command: templates/chain/macros.jinja is the one place that knows it."""
    from mevops.reference import templates_root
    from mevops.render.templates import make_environment

    macros = make_environment(templates_root()).get_template("chain/macros.jinja").module
    return str(macros.alive_script(client)).strip()  # type: ignore[attr-defined]


def _ports(client: ClientView) -> dict[str, Any]:
    """Host port == container port; loopback unless public; L1 ports other chains use also on the gateway."""
    ports: dict[str, Any] = {}
    for spec in client.port_specs + client.range_specs:
        for port in range(spec.port, (spec.end or spec.port) + 1):
            ports[f"{port}/{spec.protocol}"] = port if spec.public else ("127.0.0.1", port)
    gateway = os.environ.get("MEVOPS_DOCKER_GATEWAY_IP") or "172.17.0.1"  # as the compose file
    for port in getattr(client, "gateway_ports", []):
        current = ports.get(f"{port}/tcp")
        ports[f"{port}/tcp"] = [*([current] if current is not None else []), (gateway, port)]
    return ports


def _mounts(node: Node, client: ClientView) -> list[dict[str, Any]]:
    from docker.types import Mount

    mounts = [Mount("/data", client.data_dir, type="bind"),
              Mount("/config", str(Path(node.chain.dir) / "config"), type="bind", read_only=True)]
    if node.network.jwt_path and client.uses_jwt:
        mounts.append(Mount("/secrets/jwt.hex", node.network.jwt_path, type="bind", read_only=True))
    return mounts


def container_spec(node: Node, client: ClientView) -> dict[str, Any]:
    """``containers.create`` keyword arguments for one client (the compose service, as SDK calls)."""
    from docker.types import LogConfig, Ulimit

    labels = {f"{LABEL}.chain": node.chain.name, f"{LABEL}.network": node.network.key, f"{LABEL}.client": client.name,
              f"{LABEL}.role": client.role, f"{LABEL}.version": client.version}
    spec: dict[str, Any] = {
        "image": client.image, "name": client.service, "entrypoint": [client.container_entrypoint],
        "command": list(client.flags["compose"]), "environment": {"HOME": "/data"}, "labels": labels,
        "restart_policy": {"Name": "unless-stopped"}, "stop_signal": client.stop_signal,
        "mounts": _mounts(node, client), "ulimits": [Ulimit(name="nofile", soft=NOFILE, hard=NOFILE)],
        "log_config": LogConfig(type="json-file", config={"max-size": "100m", "max-file": "5"}),
        "healthcheck": {"test": ["CMD-SHELL", alive_script(client)], "interval": 30 * NS, "timeout": 10 * NS,
                        "retries": 5, "start_period": client.start_period * NS},
    }
    if host_networking(node):
        spec["network_mode"] = "host"
    else:
        spec.update(network=network_name(node), ports=_ports(client))
        if client.uses_host_gateway:
            spec["extra_hosts"] = {"host.docker.internal": "host-gateway"}
    spec["labels"][HASH_LABEL] = config_hash(spec)
    return spec


def config_hash(spec: dict[str, Any]) -> str:
    """sha256 of everything the container is made from (Mount, Ulimit and LogConfig are dicts)."""
    body = {k: v for k, v in spec.items() if k != "labels"}
    body["labels"] = {k: v for k, v in spec["labels"].items() if k != HASH_LABEL}
    return hashlib.sha256(json.dumps(body, sort_keys=True, default=str).encode()).hexdigest()[:16]


def api_address() -> str:
    return os.environ.get("DOCKER_HOST") or "unix:///var/run/docker.sock"


def connect(timeout: int = 60):
    """A docker client that answered a ping, or exit 2 saying where no API answered."""
    try:
        import docker
        import requests
    except ModuleNotFoundError:
        raise MevopsError(Problem("--backend docker", None, "", "the docker backend needs the Docker SDK: "
                                  "pip install 'docker>=7'")) from None

    try:
        client = docker.from_env(timeout=timeout)
        client.ping()
        return client
    except (docker.errors.DockerException, requests.RequestException, OSError) as exc:
        reason = str(exc).splitlines()[0][:200]
        raise MevopsError(Problem("--backend docker", None, "", f"no Docker/podman API at {api_address()} ({reason}); "
                                  "start one or choose --backend process")) from None


def _preflight(node: Node, client: ClientView) -> None:
    """Rendered files the flags name must exist; data and config directories are created."""
    config_flag = f"/config/{client.config_file}"
    if any(config_flag in flag for flag in client.flags["compose"]) and not Path(client.config_path).is_file():
        raise MevopsError(Problem(client.config_path, None, node.name, f"{client.name} configuration is missing; "
                                  "run `mevops render` first"))
    if node.network.jwt_path and client.uses_jwt and not Path(node.network.jwt_path).is_file():
        raise MevopsError(Problem(node.network.jwt_path, None, node.name,
                                  "the engine API JWT is missing; run `mevops render` first"))
    Path(client.data_dir).mkdir(parents=True, exist_ok=True)
    (Path(node.chain.dir) / "config").mkdir(parents=True, exist_ok=True)


def _ports_free(node: Node, client: ClientView) -> None:
    """On the host's network a taken port would only show as a crash in the container's log."""
    from mevops.lifecycle.process import port_open

    for port_name, port in client.ports.items():
        if port_open(port):
            raise MevopsError(Problem(node.name, None, f"{client.name}.ports.{port_name}",
                                      f"port {port} is already taken by another process"))


def _api_error(node: Node, client: ClientView, exc: Exception) -> MevopsError:
    reason = getattr(exc, "explanation", None) or str(exc)
    return MevopsError(Problem(f"container {client.service}", None, node.name, f"the container engine refused: {reason}"))


class DockerBackend:
    name = "docker"

    def __init__(self, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        self.startup_timeout = startup_timeout
        self._client = None
        self._nofile_ok: bool | None = None

    @property
    def client(self):
        if self._client is None:
            self._client = connect()
        return self._client

    def _container(self, name: str):
        import docker

        try:
            return self.client.containers.get(name)
        except docker.errors.NotFound:
            return None

    # -- up -------------------------------------------------------------------------------
    def up(self, node: Node) -> list[ServiceStatus]:
        specs = []
        for client in node.services:
            _preflight(node, client)
            specs.append((client, container_spec(node, client)))
        if not host_networking(node):
            self._ensure_network(node)
        started = []
        try:
            for client, spec in specs:
                if self._ensure_container(node, client, spec):
                    started.append(client)
                self._wait_ready(node, client)
        except BaseException:
            for client in reversed(started):  # nothing half-started
                self._remove(client)
            raise
        return self.status(node)

    def _ensure_network(self, node: Node) -> None:
        name = network_name(node)
        if not self.client.networks.list(names=[name]):
            self.client.networks.create(name, driver="bridge", labels={f"{LABEL}.chain": node.chain.name,
                                                                        f"{LABEL}.network": node.network.key})

    def _ensure_container(self, node: Node, client: ClientView, spec: dict[str, Any]) -> bool:
        """Create or start the container unless it already runs this spec; True if it was (re)started."""
        existing = self._container(client.service)
        if existing is not None:
            labels = existing.labels or {}
            if labels.get(f"{LABEL}.chain") != node.chain.name:
                raise MevopsError(Problem(f"container {client.service}", None, node.name,
                                          "a container of that name exists that mevops did not create; remove or rename it"))
            if labels.get(HASH_LABEL) == spec["labels"][HASH_LABEL]:
                if existing.status in ("running", "restarting"):
                    return False
                existing.start()
                return True
            self._remove(client)  # changed configuration: recreate
        if host_networking(node):
            _ports_free(node, client)
        self._create(node, client, spec)
        return True

    def _create(self, node: Node, client: ClientView, spec: dict[str, Any]) -> None:
        import docker

        try:
            self._image(client)
            if not self._nofile_allowed(spec):
                # the engine cannot raise nofile to the compose value (an unprivileged or nested engine)
                spec = {**spec, "labels": {**spec["labels"], ULIMITS_LABEL: "engine-default"}}
                spec.pop("ulimits")
            container = self.client.containers.create(**spec)
            try:
                container.start()
            except docker.errors.APIError:
                container.remove(force=True)
                raise
        except docker.errors.APIError as exc:
            raise _api_error(node, client, exc) from None

    def _nofile_allowed(self, spec: dict[str, Any]) -> bool:
        """Can the engine set the compose file's nofile limit? Asked once, of a throwaway container
        without ports (podman 4.3 keeps a failed container's published ports reserved)."""
        import docker

        if self._nofile_ok is None:
            probe = self.client.containers.create(image=spec["image"], entrypoint=spec["entrypoint"], command=["--version"],
                                                  ulimits=spec["ulimits"], network_mode="none",
                                                  labels={f"{LABEL}.probe": "ulimits"})
            try:
                probe.start()
                self._nofile_ok = True
            except docker.errors.APIError as exc:
                self._nofile_ok = "rlimit" not in str(exc)
            finally:
                probe.remove(force=True)
        return self._nofile_ok

    def _image(self, client: ClientView) -> None:
        import docker

        try:
            self.client.images.get(client.image)
        except docker.errors.ImageNotFound:
            self.client.images.pull(client.image)

    def _wait_ready(self, node: Node, client: ClientView) -> None:
        deadline = time.monotonic() + self.startup_timeout
        while time.monotonic() < deadline:
            status = self._status(node, client)
            if status.state == "running":
                return
            if status.state in ("crashed", "stopped"):
                break
            time.sleep(0.5)  # each look may run the health check in the container
        else:
            return  # still starting (a database may open slowly): the engine keeps checking its health
        tail = "".join(self.logs_for(client, lines=5)).strip().replace("\n", " | ")
        raise MevopsError(Problem(f"container {client.service}", None, node.name,
                                  f"{client.name} exited during start ({status.detail}): {tail or 'no output'}"))

    # -- down -----------------------------------------------------------------------------
    def down(self, node: Node) -> list[ServiceStatus]:
        for client in reversed(node.services):
            self._remove(client)
        if not host_networking(node):
            for network in self.client.networks.list(names=[network_name(node)]):
                network.reload()
                if not network.containers:
                    network.remove()
        return self.status(node)

    def _remove(self, client: ClientView) -> None:
        import docker

        container = self._container(client.service)
        if container is None:
            return
        try:
            if container.status in ("running", "restarting", "paused"):
                container.stop(timeout=client.stop_grace_period)
            container.remove(force=True)
        except docker.errors.NotFound:
            pass

    def stop_container(self, ref: str, grace: float) -> dict[str, Any] | None:
        """Stop one container by id or name, mevops's or not (``migrate apply --stop``): its stop signal, then SIGKILL
        after ``grace`` seconds. Its name, compose labels and exit code; None if the engine has no such container."""
        container = self._container(ref)
        if container is None:
            return None
        if container.status in ("running", "restarting", "paused"):
            container.stop(timeout=max(1, round(grace)))
            container.reload()
        labels = container.labels or {}
        return {"name": container.name, "exit": container.attrs.get("State", {}).get("ExitCode"),
                "project": labels.get("com.docker.compose.project"),
                "project_dir": labels.get("com.docker.compose.project.working_dir")}

    # -- status ---------------------------------------------------------------------------
    def status(self, node: Node) -> list[ServiceStatus]:
        return [self._status(node, c) for c in node.services]

    def _status(self, node: Node, client: ClientView) -> ServiceStatus:
        container = self._container(client.service)
        if container is None:
            return ServiceStatus(client.service, client.name, "stopped", detail="no container")
        state = container.attrs.get("State", {})
        extra: dict[str, object] = {"container": container.short_id, "restarts": container.attrs.get("RestartCount", 0)}
        if (container.labels or {}).get(ULIMITS_LABEL):
            extra["ulimits"] = container.labels[ULIMITS_LABEL]
        status = state.get("Status", "unknown")
        if status == "running":
            health, source = self._health(container, state)
            extra["health"] = health if source == "engine" else f"{health} (probed)"
            return ServiceStatus(client.service, client.name, _running_state(health, state, client), state.get("Pid") or None,
                                 extra=extra)
        if status == "restarting":
            return ServiceStatus(client.service, client.name, "restarting", extra=extra)
        code = state.get("ExitCode", 0)
        crashed = status in ("exited", "dead") and code not in (0, 143, 130)
        return ServiceStatus(client.service, client.name, "crashed" if crashed else "stopped",
                             detail=f"{status}, exit {code}" + (f": {state['Error']}" if state.get("Error") else ""), extra=extra)

    def _health(self, container, state: dict) -> tuple[str, str]:
        """The engine's health verdict; before it has one, run the container's own check once.
        (podman without systemd never schedules health checks: this is its only verdict.)"""
        health = (state.get("Health") or {}).get("Status") or "none"
        if health not in ("starting", "none"):
            return health, "engine"
        test = (container.attrs.get("Config", {}).get("Healthcheck") or {}).get("Test") or []
        if len(test) < 2 or test[0] not in ("CMD-SHELL", "CMD"):
            return health, "engine"
        argv = ["/bin/sh", "-c", test[1]] if test[0] == "CMD-SHELL" else test[1:]
        try:
            result = container.exec_run(argv)
        except Exception:  # noqa: BLE001 - a failed probe is an unhealthy answer, not a crash
            return "unhealthy", "probe"
        return ("healthy" if result.exit_code == 0 else "unhealthy"), "probe"

    # -- logs -----------------------------------------------------------------------------
    def logs_for(self, client: ClientView, *, lines: int = 100, follow: bool = False) -> Iterator[str]:
        from mevops.lifecycle.supervise import Redactor

        container = self._container(client.service)
        if container is None:
            return
        redact, pending = Redactor(), b""
        for chunk in container.logs(stream=True, follow=follow, tail=lines):
            pending += chunk
            *complete, pending = pending.split(b"\n")
            for line in complete:
                yield redact(line + b"\n").decode(errors="replace")
        if pending:
            yield redact(pending + b"\n").decode(errors="replace")

    def logs(self, node: Node, *, lines: int = 100, follow: bool = False) -> Iterator[str]:
        for client in node.services:
            yield from self.logs_for(client, lines=lines, follow=follow and client is node.services[-1])


def _running_state(health: str, state: dict, client: ClientView) -> str:
    """healthy → running; a failing check counts only after the start period, as in the engine."""
    if health in ("healthy", "none"):
        return "running"
    started = _started_at(state.get("StartedAt", ""))
    if started is not None and time.time() - started < client.start_period:
        return "starting"
    return "unhealthy"


def _started_at(value: str) -> float | None:
    """RFC 3339 with nanoseconds (the engines' StartedAt) → epoch seconds."""
    import re
    from datetime import datetime

    match = re.match(r"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d)(\.\d+)?(Z|[+-]\d\d:\d\d)?$", value)
    if not match:
        return None
    fraction = (match[2] or ".0")[:7]
    zone = "+00:00" if match[3] in (None, "Z") else match[3]
    return datetime.fromisoformat(match[1] + fraction + zone).timestamp()
