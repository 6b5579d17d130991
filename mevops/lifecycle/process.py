"""The process backend: node binaries run natively, each under a detached supervisor."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

from mevops.errors import MevopsError, Problem
from mevops.lifecycle.base import Node, ServiceStatus

STARTUP_TIMEOUT = 30.0


def pid_alive(pid: int | None) -> bool:
    if not pid:
        return False
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    try:  # a zombie is not alive
        return Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0] != "Z"
    except OSError:
        return False


def read_state(path: Path) -> dict | None:
    try:
        return json.loads(path.read_text())
    except (FileNotFoundError, ValueError):
        return None


def port_open(port: int, host: str = "127.0.0.1", timeout: float = 0.2) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.settimeout(timeout)
        return s.connect_ex((host, port)) == 0


def stop_supervised(pid_file: Path, wait: float) -> bool:
    """SIGTERM a node's supervisor (it stops its child politely, within the node's grace period), SIGKILL both if it
    is not gone after ``wait`` seconds. True if something had to be killed."""
    state = read_state(pid_file)
    if state is None:
        return False
    supervisor, child = state.get("supervisor"), state.get("child")
    killed = False
    if pid_alive(supervisor):
        os.kill(supervisor, signal.SIGTERM)
        deadline = time.monotonic() + wait
        while pid_alive(supervisor) and time.monotonic() < deadline:
            time.sleep(0.05)
        if pid_alive(supervisor):
            os.kill(supervisor, signal.SIGKILL)
            killed = True
    if pid_alive(child):
        os.kill(child, signal.SIGKILL)
        killed = True
    pid_file.unlink(missing_ok=True)
    return killed


class ProcessBackend:
    name = "process"

    def __init__(self, startup_timeout: float = STARTUP_TIMEOUT) -> None:
        self.startup_timeout = startup_timeout

    # -- status ---------------------------------------------------------------------------
    def _status(self, node: Node, client) -> ServiceStatus:  # noqa: ANN001
        state = read_state(node.pid_file(client))
        if state is None:
            return ServiceStatus(client.service, client.name, "stopped")
        if not pid_alive(state.get("supervisor")):
            return ServiceStatus(client.service, client.name, "crashed" if state.get("state") == "crashed" else "stopped",
                                 detail=f"last exit {state.get('last_exit')}")
        child_ok = pid_alive(state.get("child"))
        return ServiceStatus(client.service, client.name, state["state"] if child_ok else "restarting", state.get("child"),
                             extra={"supervisor": state.get("supervisor"), "restarts": state.get("restarts", 0),
                                    "uptime_s": round(time.time() - state.get("child_started", time.time()), 1)})

    def status(self, node: Node) -> list[ServiceStatus]:
        return [self._status(node, c) for c in node.services]

    # -- up -------------------------------------------------------------------------------
    def up(self, node: Node) -> list[ServiceStatus]:
        started = []
        try:
            for client in node.services:
                current = self._status(node, client)
                if current.state in ("running", "restarting", "starting"):
                    continue
                self._preflight(node, client)
                self._spawn(node, client)
                started.append(client)
                self._wait_ready(node, client)
        except BaseException:
            for client in reversed(started):  # nothing half-started
                self._stop(node, client)
            raise
        return self.status(node)

    def _preflight(self, node: Node, client) -> None:  # noqa: ANN001
        binary = node.binary(client)
        if not os.access(binary, os.X_OK):
            raise MevopsError(Problem(str(binary), None, node.name, f"{client.name} binary is missing; run "
                                      f"`mevops chain install {node.chain.name} --client {client.name}`"))
        data = Path(client.data_dir)
        if data.is_dir():
            from mevops.migrate.hazards import find_users

            users = find_users([str(data.resolve())], maps=False).under(str(data.resolve()))
            if users:
                who = sorted({w.split(":")[0] for ws in users.values() for w in ws})
                raise MevopsError(Problem(str(data), None, node.name, f"data dir is in use by {', '.join(who)}: "
                                          "another node (or process) owns it; stop it first"))
        for port_name, port in client.ports.items():
            if port_open(port):
                raise MevopsError(Problem(node.name, None, f"{client.name}.ports.{port_name}",
                                          f"port {port} is already taken by another process"))

    def _spawn(self, node: Node, client) -> None:  # noqa: ANN001
        data = Path(client.data_dir)
        data.mkdir(parents=True, exist_ok=True)
        spec = {
            "argv": [str(node.binary(client)), *client.flags["host"]],
            "cwd": str(data),
            "pid_file": str(node.pid_file(client)),
            "log_file": str(node.log_file(client)),
            "grace": client.stop_grace_period,
        }
        spec_path = data / "mevops.spec.json"
        spec_path.write_text(json.dumps(spec, indent=1))
        subprocess.Popen([sys.executable, "-m", "mevops.lifecycle.supervise", str(spec_path)], start_new_session=True,
                         stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, close_fds=True)

    def _wait_ready(self, node: Node, client) -> None:  # noqa: ANN001
        deadline = time.monotonic() + self.startup_timeout
        port = client.health.port
        while time.monotonic() < deadline:
            status = self._status(node, client)
            if status.state == "running" and port_open(port):
                return
            if status.state in ("crashed",) or (status.state == "stopped" and time.monotonic() > deadline - self.startup_timeout + 2):
                break
            time.sleep(0.1)
        tail = "".join(list(self.logs_for(node, client, lines=5))).strip().replace("\n", " | ")
        raise MevopsError(Problem(str(node.log_file(client)), None, node.name,
                                  f"{client.name} did not become ready on port {port}: {tail or 'no output'}"))

    # -- down -----------------------------------------------------------------------------
    def down(self, node: Node) -> list[ServiceStatus]:
        for client in reversed(node.services):
            self._stop(node, client)
        return self.status(node)

    def _stop(self, node: Node, client) -> None:  # noqa: ANN001
        stop_supervised(node.pid_file(client), client.stop_grace_period + 5)

    # -- logs -----------------------------------------------------------------------------
    def logs_for(self, node: Node, client, *, lines: int = 100, follow: bool = False) -> Iterator[str]:  # noqa: ANN001
        log = node.log_file(client)
        try:
            with open(log, "rb") as fh:
                tail = fh.read().splitlines(True)[-lines:]
                yield from (line.decode(errors="replace") for line in tail)
                while follow:
                    line = fh.readline()
                    if line:
                        yield line.decode(errors="replace")
                    else:
                        time.sleep(0.2)
        except FileNotFoundError:
            return

    def logs(self, node: Node, *, lines: int = 100, follow: bool = False) -> Iterator[str]:
        for client in node.services:
            yield from self.logs_for(node, client, lines=lines, follow=follow and client is node.services[-1])
