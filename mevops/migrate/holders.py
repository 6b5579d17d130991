"""Who still uses the data a migration is about to move, and what runs each of those processes.

A holder is a process with something under a pending source: an open file (LevelDB's LOCK), its
working directory or executable, a listening IPC socket. Its owner says how ``--stop`` stops it:

- a container: its cgroup (``docker-<id>.scope``, ``/docker/<id>``, ``libpod-<id>``) or the
  runtime's shim among its ancestors (``conmon -c <id>``, ``containerd-shim -id <id>``);
- a node supervised by mevops's process backend (``python -m mevops.lifecycle.supervise SPEC``
  among its ancestors);
- a systemd unit: the innermost ``*.service`` of its cgroup (a user unit below ``user@UID.service``);
- a Kubernetes pod (``kubepods`` in its cgroup): not ours to stop;
- otherwise a bare process.

A container or unit that mevops itself runs in is not an owner: stopping it would stop mevops.
"""

from __future__ import annotations

import os
import re
from dataclasses import dataclass, field

from mevops.migrate.plan import Plan
from mevops.migrate.steps import Step

_CONTAINER = re.compile(r"(?:^|/)(?:docker-|libpod-|docker/)([0-9a-f]{64})(?:\.scope)?(?:/|$)")
_SHIMS = {"conmon": ("-c", "--cid"), "containerd-shim": ("-id",), "containerd-shim-runc-v2": ("-id",)}
SUPERVISOR = "mevops.lifecycle.supervise"


@dataclass
class Busy:
    """What uses the data: one line per path, and the processes behind them."""

    lines: list[str] = field(default_factory=list)               # "geth/chaindata/LOCK: pid 12 (geth): open file"
    pids: dict[int, list[str]] = field(default_factory=dict)     # pid → the paths (relative to SRC) it holds

    def __bool__(self) -> bool:
        return bool(self.lines)

    def shown(self, limit: int = 10) -> str:
        more = f"\n  ... and {len(self.lines) - limit} more" if len(self.lines) > limit else ""
        return "\n  ".join(self.lines[:limit]) + more


def in_use(plan: Plan, steps: list[Step]) -> Busy:
    """Who still uses the data about to move (open files, cwd, executables, live IPC sockets)."""
    from mevops.migrate.hazards import find_users

    real = os.path.realpath(plan.source)
    users = find_users([real], maps=False).rebase(real, plan.source.rstrip("/"))
    busy = Busy()

    def held(path: str, line: str) -> None:
        rel = os.path.relpath(path, plan.source)
        busy.lines.append(f"{rel}: {line}")
        for pid in sorted(users.pids.get(path, ())):
            busy.pids.setdefault(pid, []).append(rel)

    for s in (s for s in steps if s.op == "move"):
        for path, who in sorted(users.under(s.src).items()):
            held(path, who[0])
        for path in sorted(p for p in users.listening if p == s.src or p.startswith(s.src + "/")):
            held(path, "a live unix socket (IPC)")
    return busy


# -- owners ------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Owner:
    kind: str        # container | supervised | unit | user-unit | pod | process
    ref: str         # container id | supervisor spec file | unit name | pod cgroup | pid

    def __str__(self) -> str:
        return {"container": f"container {self.ref[:12]}", "supervised": f"mevops-supervised node ({self.ref})",
                "unit": f"systemd unit {self.ref}", "user-unit": f"systemd user unit {self.ref}",
                "pod": f"Kubernetes pod ({self.ref})"}.get(self.kind, f"pid {self.ref}")


def _units(path: str) -> tuple[str | None, bool]:
    """The innermost ``*.service`` of a cgroup path, and whether it is a user manager's unit."""
    parts = [p for p in path.split("/") if p]
    services = [i for i, p in enumerate(parts) if p.endswith(".service")]
    if not services:
        return None, False
    unit = parts[services[-1]]
    manager = any(p.startswith("user@") for p in parts[:services[-1]])
    return (None, False) if unit.startswith("user@") else (unit, manager)


def cgroup_paths(text: str) -> tuple[list[str], str]:
    """Every hierarchy's path of a /proc/PID/cgroup, and the one systemd keeps (v2 ``0::``, v1 ``name=systemd``)."""
    paths, v1, v2 = [], "", ""
    for line in text.splitlines():
        hid, _, rest = line.partition(":")
        controllers, _, path = rest.partition(":")
        paths.append(path)
        if controllers == "name=systemd":
            v1 = path
        elif hid == "0" and not controllers:
            v2 = path
    return paths, v1 or v2


def cgroup_owner(text: str, own: str = "") -> Owner | None:
    """The container, pod or systemd unit a /proc/PID/cgroup puts a process in (``own``: mevops's own cgroup)."""
    paths, systemd = cgroup_paths(text)
    own_paths, own_systemd = cgroup_paths(own)
    for path in paths:
        match = _CONTAINER.search(path)
        if match and not any(match[1] in p for p in own_paths):
            return Owner("container", match[1])
    if any("kubepods" in p for p in paths) and not any("kubepods" in p for p in own_paths):
        return Owner("pod", next(p for p in paths if "kubepods" in p))
    unit, user = _units(systemd)
    if unit and (unit, user) != _units(own_systemd):
        return Owner("user-unit" if user else "unit", unit)
    return None


def _read(path: str) -> str:
    try:
        with open(path, "rb") as fh:
            return fh.read().decode(errors="replace")
    except OSError:
        return ""


def parent_of(pid: int, proc: str = "/proc") -> int:
    stat = _read(f"{proc}/{pid}/stat")
    try:
        return int(stat.rpartition(")")[2].split()[1])
    except (IndexError, ValueError):
        return 0


def start_time(pid: int, proc: str = "/proc") -> int | None:
    """The process's start (clock ticks after boot): with the pid, it names one process, not a reused pid."""
    stat = _read(f"{proc}/{pid}/stat")
    try:
        return int(stat.rpartition(")")[2].split()[19])
    except (IndexError, ValueError):
        return None


def ancestors(pid: int, proc: str = "/proc") -> list[int]:
    """Parent, grandparent... up to (not including) pid 1."""
    out: list[int] = []
    parent = parent_of(pid, proc)
    while parent > 1 and parent not in out:
        out.append(parent)
        parent = parent_of(parent, proc)
    return out


def _argv(pid: int, proc: str) -> list[str]:
    return [a for a in _read(f"{proc}/{pid}/cmdline").split("\0") if a]


def _after(argv: list[str], flags: tuple[str, ...]) -> str | None:
    return next((argv[i + 1] for i, a in enumerate(argv[:-1]) if a in flags), None)


def owner_of(pid: int, proc: str = "/proc") -> Owner:
    """What runs ``pid``: a container, mevops's supervisor, a systemd unit, a pod, or nothing (a bare process)."""
    by_cgroup = cgroup_owner(_read(f"{proc}/{pid}/cgroup"), _read(f"{proc}/self/cgroup"))
    if by_cgroup is not None and by_cgroup.kind in ("container", "pod"):
        return by_cgroup
    mine = set(ancestors(os.getpid(), proc))
    for parent in (p for p in ancestors(pid, proc) if p not in mine):
        argv = _argv(parent, proc)
        name = os.path.basename(argv[0]) if argv else ""
        if name in _SHIMS and (cid := _after(argv, _SHIMS[name])):
            return Owner("container", cid)
        if SUPERVISOR in argv[:3] and len(argv) > argv.index(SUPERVISOR) + 1:
            return Owner("supervised", argv[argv.index(SUPERVISOR) + 1])
    return by_cgroup or Owner("process", str(pid))
