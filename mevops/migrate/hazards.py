"""Hazards: what makes moving a path unsafe or lossy, found without touching it.

Live users come from /proc (open files, working directories, executables, mapped files; a
container's paths translated to ours through both mount namespaces), /proc/locks (flock/POSIX
locks, e.g. LevelDB's LOCK) and /proc/net/unix (IPC sockets with a listener). The rest come from lstat: symlinks of every kind (relative, absolute, dangling,
loops), hard links, sparse files, special files, unreadable entries, odd names, mount points.
"""

from __future__ import annotations

import errno
import os
import re
import stat
from dataclasses import dataclass, field

BLOCKING = {"in-use", "mount-point"}
_ODD = re.compile(r"[\s\x00-\x1f\x7f\\:\"'*?$`]|^-")


@dataclass(frozen=True)
class Hazard:
    kind: str
    path: str      # relative to the source directory
    detail: str

    @property
    def blocks(self) -> bool:
        return self.kind in BLOCKING

    def __str__(self) -> str:
        return f"{self.kind}: {self.path}: {self.detail}"


@dataclass
class Users:
    """Who uses files under a directory right now."""

    by_path: dict[str, list[str]] = field(default_factory=dict)   # absolute path → ["pid 12 (geth): open file"]
    locked: dict[tuple[int, int], list[str]] = field(default_factory=dict)  # (dev, ino) → ["pid 12 (geth): POSIX lock"]
    listening: set[str] = field(default_factory=set)              # unix socket paths with a listener
    uninspectable: int = 0                                        # processes we may not look into
    pids: dict[str, set[int]] = field(default_factory=dict)       # absolute path → the processes using it

    def of(self, path: str) -> list[str]:
        return self.by_path.get(path, [])

    def rebase(self, real: str, shown: str) -> "Users":
        """The same users, with paths under ``real`` spelled under ``shown`` (SRC given through a symlink)."""
        if real == shown:
            return self
        prefix = real.rstrip("/") + "/"
        def spell(p: str) -> str:
            return shown + p[len(real):] if p == real or p.startswith(prefix) else p

        return Users({spell(p): who for p, who in self.by_path.items()}, self.locked, {spell(p) for p in self.listening},
                     self.uninspectable, {spell(p): pids for p, pids in self.pids.items()})

    def under(self, root: str) -> dict[str, list[str]]:
        prefix = root.rstrip("/") + "/"
        return {p: who for p, who in self.by_path.items() if p == root or p.startswith(prefix)}


def _comm(pid: str) -> str:
    try:
        with open(f"/proc/{pid}/comm") as fh:
            return fh.read().strip()
    except OSError:
        return "?"


def find_users(roots: list[str], maps: bool = True) -> Users:
    """Processes holding anything under ``roots`` (absolute, resolved paths). ``maps``: also files mapped
    into memory after their descriptor was closed (slower: every process's maps is read)."""
    from mevops.migrate.mountns import Namespaces

    users = Users()
    prefixes = tuple(r.rstrip("/") + "/" for r in roots)
    exact = set(roots)
    me = str(os.getpid())
    namespaces = Namespaces()
    sockets: dict[str, set[int]] = {}  # socket inode → the processes holding it

    def inside(p: str) -> bool:
        p = p.removesuffix(" (deleted)")
        return p in exact or p.startswith(prefixes)

    def add(path: str, pid: str, how: str) -> None:
        path = path.removesuffix(" (deleted)")
        users.by_path.setdefault(path, []).append(f"pid {pid} ({_comm(pid)}): {how}")
        users.pids.setdefault(path, set()).add(int(pid))

    for pid in (p for p in os.listdir("/proc") if p.isdigit() and p != me):
        base = f"/proc/{pid}"
        here = namespaces.resolver(pid, inside)
        try:
            fds = os.listdir(f"{base}/fd")
        except PermissionError:
            users.uninspectable += 1
            fds = []
        except OSError:
            continue
        for fd in fds:
            try:
                target = os.readlink(f"{base}/fd/{fd}")
            except OSError:
                continue
            if target.startswith("socket:["):
                sockets.setdefault(target[8:-1], set()).add(int(pid))
            elif (path := here(target)) is not None:
                add(path, pid, "open file")
        for link, how in (("cwd", "working directory"), ("exe", "running executable"), ("root", "root directory")):
            try:
                target = os.readlink(f"{base}/{link}")
            except OSError:
                continue
            if (path := here(target)) is not None:
                add(path, pid, how)
        if maps:
            _read_maps(users, base, pid, here, add)
    _read_locks(users)
    _read_unix(users, inside, sockets)
    return users


def _read_maps(users: Users, base: str, pid: str, here, add) -> None:  # noqa: ANN001
    try:
        with open(f"{base}/maps") as fh:
            for line in fh:
                path = line.split(None, 5)[5].strip() if line.count(" ") >= 5 else ""
                path = here(path) if path.startswith("/") else None
                if path is not None and int(pid) not in users.pids.get(path, ()):
                    add(path, pid, "mapped file")
    except (OSError, IndexError):
        pass


def _read_locks(users: Users) -> None:
    try:
        with open("/proc/locks") as fh:
            lines = fh.readlines()
    except OSError:
        return
    for line in lines:
        parts = line.split()
        if len(parts) < 6 or "->" in parts[1]:
            continue
        try:
            major, minor, ino = parts[5].split(":")
            key = (os.makedev(int(major, 16), int(minor, 16)), int(ino))
        except ValueError:
            continue
        users.locked.setdefault(key, []).append(f"pid {parts[4]} ({_comm(parts[4])}): {parts[1]} lock")


def _read_unix(users: Users, inside, sockets: dict[str, set[int]]) -> None:  # noqa: ANN001
    """Bound unix sockets under the roots, and the processes holding them (by the socket's inode)."""
    try:
        with open("/proc/net/unix") as fh:
            next(fh, None)
            for line in fh:
                parts = line.split(None, 7)
                if len(parts) == 8 and parts[7].startswith("/") and inside(parts[7].strip()):
                    users.listening.add(parts[7].strip())
                    users.pids.setdefault(parts[7].strip(), set()).update(sockets.get(parts[6], ()))
    except OSError:
        pass


def socket_alive(path: str) -> bool:
    """Does something listen on this unix socket? (connect, then close at once)."""
    import socket

    for kind in (socket.SOCK_STREAM, socket.SOCK_SEQPACKET, socket.SOCK_DGRAM):
        s = socket.socket(socket.AF_UNIX, kind)
        s.settimeout(0.2)
        try:
            s.connect(path)
            return True
        except OSError as exc:
            if exc.errno != errno.EPROTOTYPE:
                return False
        finally:
            s.close()
    return False


def entry_hazards(rel: str, path: str, st: os.stat_result, item_root: str, src_root: str, parent_dev: int,
                  users: Users) -> list[Hazard]:
    """Hazards of one path inside an item (``item_root``) of the source tree."""
    out: list[Hazard] = []
    mode = st.st_mode
    name = os.path.basename(path)
    if _ODD.search(name) or not name.isascii():
        out.append(Hazard("odd-name", rel, "spaces, quotes, control or non-ASCII characters in the name"))
    who = users.of(path) + users.locked.get((st.st_dev, st.st_ino), [])
    if who:
        out.append(Hazard("in-use", rel, "; ".join(sorted(set(who)))))
    if stat.S_ISLNK(mode):
        out.append(_symlink_hazard(rel, path, item_root, src_root))
    elif stat.S_ISDIR(mode):
        if st.st_dev != parent_dev:
            out.append(Hazard("mount-point", rel, "another filesystem is mounted here: remount it at the destination instead"))
        if not os.access(path, os.R_OK | os.X_OK):
            out.append(Hazard("unreadable", rel, "directory cannot be listed by this user"))
        elif mode & 0o700 != 0o700:
            out.append(Hazard("permissions", rel, f"mode {stat.S_IMODE(mode):04o}: its owner cannot fully use it"))
    elif stat.S_ISREG(mode):
        if st.st_nlink > 1:
            out.append(Hazard("hardlink", rel, f"{st.st_nlink} names for one file (kept as links)"))
        if st.st_size and st.st_blocks * 512 < st.st_size:
            out.append(Hazard("sparse", rel, f"{st.st_size} bytes, {st.st_blocks * 512} allocated (kept sparse)"))
        if not os.access(path, os.R_OK):
            out.append(Hazard("unreadable", rel, "file cannot be read by this user"))
        elif mode & 0o400 == 0:
            out.append(Hazard("permissions", rel, f"mode {stat.S_IMODE(mode):04o}: not readable by its owner"))
    elif stat.S_ISSOCK(mode):
        alive = path in users.listening or socket_alive(path)
        detail = "unix socket with a live listener (IPC)" if alive else "stale unix socket"
        out.append(Hazard("in-use" if alive else "special", rel, detail))
    else:
        kind = "fifo" if stat.S_ISFIFO(mode) else "device node"
        out.append(Hazard("special", rel, f"{kind} (recreated, never read)"))
    return out


def _symlink_hazard(rel: str, path: str, item_root: str, src_root: str) -> Hazard:
    try:
        target = os.readlink(path)
    except OSError as exc:
        return Hazard("symlink", rel, f"unreadable link: {exc.strerror}")
    resolved = os.path.normpath(os.path.join(os.path.dirname(path), target))
    try:
        os.stat(path)
    except OSError as exc:
        if exc.errno == errno.ELOOP:
            return Hazard("symlink-loop", rel, f"-> {target} (a loop; moved as a link)")
        return Hazard("symlink-dangling", rel, f"-> {target} (target missing; moved as a link)")
    inside_item = resolved == item_root or resolved.startswith(item_root.rstrip("/") + "/")
    inside_src = resolved.startswith(src_root.rstrip("/") + "/")
    if not os.path.isabs(target):
        if inside_item:
            return Hazard("symlink", rel, f"-> {target} (relative, inside the item: moves intact)")
        return Hazard("symlink-escapes", rel, f"-> {target} (relative, leaves the item: it will dangle after the move)")
    if inside_src and not inside_item:
        return Hazard("symlink-escapes", rel, f"-> {target} (absolute, into the source tree: it will dangle after the move)")
    return Hazard("symlink", rel, f"-> {target} (absolute: kept as written)")


def external_references(src_root: str, places: tuple[str, ...] = ("/etc/systemd/system", "/etc/cron.d")) -> list[Hazard]:
    """Files outside the source (live systemd units, cron jobs) that mention it: to update by hand."""
    out = []
    for place in places:
        try:
            names = sorted(os.listdir(place))
        except OSError:
            continue
        for name in names:
            path = os.path.join(place, name)
            try:
                if os.path.isfile(path) and os.path.getsize(path) < 1 << 20:
                    with open(path, errors="replace") as fh:
                        if src_root in fh.read():
                            out.append(Hazard("external-reference", path,
                                              "mentions the source directory: update it after migrating"))
            except OSError:
                continue
    return out
