"""``migrate apply --stop``: stop what still uses the data through the lifecycle layer, then look again.

Holders are grouped by owner (see holders.py) and every owner is checked before anything stops: one
that cannot be stopped (a Kubernetes pod, mevops's own parent shell, another user's process, a
container the Docker/podman API does not know, a unit with no systemd running) refuses the whole
stop, so nothing is half-stopped. Then the owners stop side by side:

- a container: the docker backend (``DOCKER_HOST``: Docker Engine or ``podman system service``)
  stops it; the engine sends its stop signal and SIGKILL only after the grace period;
- a mevops-supervised node: the process backend stops its supervisor, which stops the node politely;
- a systemd unit: the systemd backend (``systemctl stop``), SIGKILL to what is left after the grace period;
- a bare process: SIGTERM, the grace period, SIGKILL only if it is still alive (by pidfd: a pid
  reused meanwhile is never signalled).

The default grace suits geth-like databases: on SIGTERM they flush caches and close LevelDB/Pebble/
MDBX, which takes minutes on a big node; a killed one may need a long recovery, or a resync.
"""

from __future__ import annotations

import json
import os
import select
import signal
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from mevops.errors import CheckFailed, MevopsError
from mevops.migrate.holders import Busy, Owner, ancestors, owner_of, start_time

DEFAULT_GRACE = 300.0
KILL_WAIT = 10.0  # after SIGKILL, how long to wait for the kernel to reap


@dataclass
class Stopped:
    what: str
    how: str            # the backend that stopped it, or "signal" (a bare process)
    pids: list[int]
    killed: bool        # still alive after the grace period: SIGKILL
    seconds: float

    def __str__(self) -> str:
        by = "SIGTERM" if self.how == "signal" else f"the {self.how}"
        end = f"killed (SIGKILL) after the grace period ({by} first)" if self.killed else f"stopped gracefully by {by}"
        return f"{self.what} (pid {', '.join(map(str, self.pids))}): {end} in {self.seconds:.1f} s"

    @classmethod
    def from_record(cls, rec: dict[str, Any]) -> Stopped:
        return cls(rec["what"], rec["how"], list(rec.get("pids") or []), bool(rec.get("killed")), float(rec.get("seconds") or 0))

    def record(self) -> dict[str, Any]:
        return {"op": "stopped", "what": self.what, "how": self.how, "pids": self.pids, "killed": self.killed,
                "seconds": round(self.seconds, 2)}


def _comm(pid: int) -> str:
    try:
        return Path(f"/proc/{pid}/comm").read_text().strip()
    except OSError:
        return "?"


def _uid(pid: int) -> int | None:
    try:
        line = next(x for x in Path(f"/proc/{pid}/status").read_text().splitlines() if x.startswith("Uid:"))
        return int(line.split()[1])
    except (OSError, StopIteration, ValueError, IndexError):
        return None


class Stopper:
    """Stops the owners of holder processes; ``backends`` (docker, systemd, systemd-user) may be given (tests)."""

    def __init__(self, grace: float = DEFAULT_GRACE, note: Callable[[str], None] | None = None,
                 backends: dict[str, Any] | None = None) -> None:
        self.grace = grace
        self.note = note or (lambda text: None)
        self.backends: dict[str, Any] = dict(backends or {})
        self.names: dict[Owner, str] = {}

    def backend(self, name: str) -> Any:
        from mevops.lifecycle.base import get_backend

        if name not in self.backends:
            self.backends[name] = get_backend("systemd", user=True) if name == "systemd-user" else get_backend(name)
        return self.backends[name]

    # -- who ------------------------------------------------------------------------------------------
    def owners(self, busy: Busy) -> dict[Owner, dict[int, int | None]]:
        """Owner → its holder pids (with their start times)."""
        out: dict[Owner, dict[int, int | None]] = {}
        for pid in sorted(busy.pids):
            out.setdefault(owner_of(pid), {})[pid] = start_time(pid)
        return out

    def what(self, owner: Owner) -> str:
        if owner.kind == "process":
            return f"bare process {_comm(int(owner.ref))}"
        return self.names.get(owner) or str(owner)

    def problems(self, owners: dict[Owner, dict[int, int | None]]) -> dict[Owner, str]:
        """Why some owners cannot be stopped (checked before anything is)."""
        mine = set(ancestors(os.getpid())) | {1}
        found = {owner: self._problem(owner, list(pids), mine) for owner, pids in owners.items()}
        return {owner: why for owner, why in found.items() if why}

    def _problem(self, owner: Owner, pids: list[int], mine: set[int]) -> str | None:
        if owner.kind == "pod":
            return "runs in a Kubernetes pod, which would only be restarted: scale its workload down, then retry"
        if owner.kind == "process":
            if pids[0] in mine:
                return "is an ancestor of this mevops (a shell whose working directory is inside the source?): leave it"
            try:
                os.kill(pids[0], 0)
            except PermissionError:
                return "belongs to another user: run mevops as root, or stop it yourself"
            except ProcessLookupError:
                pass
            return None
        if owner.kind == "supervised":
            try:
                json.loads(Path(owner.ref).read_text())["pid_file"]
            except (OSError, ValueError, KeyError, TypeError):
                return f"its supervisor's spec {owner.ref} cannot be read"
            return None
        if owner.kind in ("unit", "user-unit"):
            name = "systemd" if owner.kind == "unit" else "systemd-user"
            if name not in self.backends and not os.path.isdir("/run/systemd/system"):
                return "systemd is not running here (no /run/systemd/system): stop the unit where it runs"
            if owner.kind == "user-unit" and any(_uid(p) not in (None, os.geteuid()) for p in pids):
                return "is another user's systemd user unit: stop it as that user"
            return None
        return self._container_problem(owner)

    def _container_problem(self, owner: Owner) -> str | None:
        try:
            client = self.backend("docker").client
            container = client.containers.get(owner.ref)
        except MevopsError as exc:
            return exc.problems[0].reason
        except Exception as exc:  # noqa: BLE001 - docker.errors.NotFound and API errors: the engine does not know it
            from mevops.lifecycle.docker import api_address

            return (f"the container API at {api_address()} does not know it ({str(exc).splitlines()[0][:120]}); "
                    "point DOCKER_HOST at the engine that runs it (podman: `podman system service`)")
        labels = container.labels or {}
        project = labels.get("com.docker.compose.project")
        self.names[owner] = f"container {container.name} ({owner.ref[:12]})" + (
            f", compose project {project} ({labels.get('com.docker.compose.project.working_dir', '?')})" if project else "")
        return None

    # -- stopping -------------------------------------------------------------------------------------
    def stop(self, owner: Owner, pids: dict[int, int | None]) -> Stopped:
        what = self.what(owner)
        how = {"container": "docker backend", "supervised": "process backend", "unit": "systemd backend",
               "user-unit": "systemd backend"}.get(owner.kind, "signal")
        self.note(f"stopping {what} (pid {', '.join(map(str, pids))}) by {'SIGTERM' if how == 'signal' else 'the ' + how}: "
                  f"up to {self.grace:g} s before SIGKILL")
        t0 = time.monotonic()
        if owner.kind == "container":
            info = self.backend("docker").stop_container(owner.ref, self.grace) or {}
            killed = info.get("exit") == 128 + signal.SIGKILL
        elif owner.kind == "supervised":
            from mevops.lifecycle.process import stop_supervised

            killed = stop_supervised(Path(json.loads(Path(owner.ref).read_text())["pid_file"]), self.grace + 5)
        elif owner.kind in ("unit", "user-unit"):
            _, killed = self.backend("systemd" if owner.kind == "unit" else "systemd-user").stop_unit(owner.ref, self.grace)
        else:
            pid, start = next(iter(pids.items()))
            killed = terminate(pid, start, self.grace)
        return Stopped(what, how, sorted(pids), killed, time.monotonic() - t0)

    def stop_all(self, busy: Busy) -> tuple[list[Stopped], list[str]]:
        """Stop every owner side by side; refuses (exit 1) before stopping anything if one cannot be stopped.
        What was stopped, and what failed."""
        owners = self.owners(busy)
        problems = self.problems(owners)
        if problems:
            raise CheckFailed("refusing to migrate: a node still uses the data and --stop cannot stop it "
                              "(nothing was stopped):\n  " + "\n  ".join(f"{self.what(o)}: {why}" for o, why in problems.items()))
        stopped, failed = [], []

        def one(item: tuple[Owner, dict[int, int | None]]) -> None:
            try:
                stopped.append(self.stop(*item))
            except Exception as exc:  # noqa: BLE001 - an engine's or systemctl's refusal: reported, then re-checked
                failed.append(f"{self.what(item[0])}: could not be stopped: {(str(exc) or repr(exc)).splitlines()[0]}")

        with ThreadPoolExecutor(max_workers=max(1, len(owners)), thread_name_prefix="mevops-stop") as pool:
            list(pool.map(one, owners.items()))
        return stopped, failed


def terminate(pid: int, start: int | None, grace: float) -> bool:
    """SIGTERM, up to ``grace`` seconds, then SIGKILL if it still runs; True if it had to be killed. Through a pidfd,
    opened while the pid still names the process that was found (same start time)."""
    try:
        fd = os.pidfd_open(pid)
    except ProcessLookupError:
        return False
    try:
        if start is not None and start_time(pid) != start:
            return False  # gone, its pid reused: not ours to signal
        try:
            signal.pidfd_send_signal(fd, signal.SIGTERM)
            if select.select([fd], [], [], grace)[0]:  # a pidfd reads ready once its process has exited
                return False
            signal.pidfd_send_signal(fd, signal.SIGKILL)
        except ProcessLookupError:
            return False
        select.select([fd], [], [], KILL_WAIT)
        return True
    finally:
        os.close(fd)


def stop_users(busy: Busy, look_again: Callable[[], Busy], grace: float,
               note: Callable[[str], None] | None = None, stopper: Stopper | None = None) -> list[Stopped]:
    """Stop everything in ``busy`` through the lifecycle layer, then look again: still in use → exit 1."""
    stopper = stopper or Stopper(grace, note)
    stopped, failed = stopper.stop_all(busy)
    left = look_again()
    if left or failed:
        done = "".join(f"\n  stopped: {s}" for s in stopped)
        why = "".join(f"\n  {f}" for f in failed)
        raise CheckFailed(f"refusing to migrate: the data is still in use after --stop:{done}{why}"
                          + (f"\n  {left.shown()}" if left else ""))
    return stopped


def describe(busy: Busy, grace: float) -> list[str]:
    """What ``--stop`` would stop, and how (for ``--dry-run``)."""
    stopper = Stopper(grace)
    owners = stopper.owners(busy)
    problems = stopper.problems(owners)
    lines = []
    for owner, pids in owners.items():
        held = sorted({p for pid in pids for p in busy.pids[pid]})
        how = f"cannot stop: {problems[owner]}" if owner in problems else _method(owner, grace)
        lines.append(f"would stop {stopper.what(owner)} (pid {', '.join(map(str, pids))}), holding {', '.join(held[:3])}"
                     + (" ..." if len(held) > 3 else "") + f": {how}")
    return lines


def _method(owner: Owner, grace: float) -> str:
    return {"container": f"docker backend stop, SIGKILL after {grace:g} s",
            "supervised": "process backend (its supervisor stops it politely)",
            "unit": f"systemd backend stop, SIGKILL after {grace:g} s",
            "user-unit": f"systemd backend stop (user unit), SIGKILL after {grace:g} s"}.get(
        owner.kind, f"SIGTERM, SIGKILL after {grace:g} s if still alive")
