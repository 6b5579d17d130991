"""Paths another mount namespace (a container) shows, spelled the way ours does.

/proc/PID/fd of a containerised process names its files as the container sees them
(``/root/.ethereum/geth/chaindata/LOCK``), while here the same file may be
``/data/blockchain/nodes/geth-mainnet/data/geth/chaindata/LOCK``. Both namespaces' mountinfo say
which filesystem (major:minor) and which directory of it each mount shows, so a container path
becomes (filesystem, path inside it), and that becomes every path under which we see it.
"""

from __future__ import annotations

import os
import re
from collections.abc import Callable

_ESCAPED = re.compile(r"\\([0-7]{3})")
Mount = tuple[str, str, str]  # (mount point, major:minor, the directory of the filesystem mounted there)


def read_mountinfo(path: str) -> list[Mount]:
    """The mounts of /proc/PID/mountinfo, in mount order (spaces and the like are octal-escaped there)."""
    out = []
    try:
        with open(path) as fh:
            for line in fh:
                fields = line.split()
                if len(fields) >= 5:
                    out.append((_unescape(fields[4]), fields[2], _unescape(fields[3])))
    except OSError:
        pass
    return out


def _unescape(text: str) -> str:
    return _ESCAPED.sub(lambda m: chr(int(m[1], 8)), text)


def _inside(path: str, top: str) -> bool:
    return top == "/" or path == top or path.startswith(top + "/")


def _below(path: str, top: str) -> str:
    """``path`` relative to ``top`` as "" or "/a/b"."""
    return "" if top == "/" and path == "/" else path[len(top.rstrip("/")):]


class Translator:
    """One foreign namespace's paths → our spellings of them (none when that directory is not mounted here)."""

    def __init__(self, theirs: list[Mount], ours: list[Mount]) -> None:
        # the deepest mount point first; of two on one point, the later one (it hides the other)
        order = sorted(range(len(theirs)), key=lambda i: (len(theirs[i][0].rstrip("/")), i), reverse=True)
        self.theirs = [theirs[i] for i in order]
        self.ours: dict[str, list[tuple[str, str]]] = {}
        for point, dev, root in ours:
            self.ours.setdefault(dev, []).append((point, root))

    def __call__(self, path: str) -> list[str]:
        mount = next((m for m in self.theirs if _inside(path, m[0])), None)
        if mount is None:
            return []
        point, dev, root = mount
        in_fs = root.rstrip("/") + _below(path, point) or "/"
        return [our_point.rstrip("/") + _below(in_fs, our_root) or "/"
                for our_point, our_root in self.ours.get(dev, []) if _inside(in_fs, our_root)]


class Namespaces:
    """Translators for the mount namespaces of the processes looked at (one per namespace, made once)."""

    def __init__(self, proc: str = "/proc") -> None:
        self.proc = proc
        self.own = self._ns("self")
        self._ours: list[Mount] | None = None
        self._made: dict[str, Translator | None] = {}

    def _ns(self, pid: str) -> str | None:
        try:
            return os.readlink(f"{self.proc}/{pid}/ns/mnt")
        except OSError:
            return None

    def translator(self, pid: str) -> Translator | None:
        """None when ``pid`` shares our mount namespace, or we may not read its mounts (its paths are taken as written)."""
        ns = self._ns(pid)
        if ns is None or ns == self.own:
            return None
        if ns not in self._made:
            if self._ours is None:
                self._ours = read_mountinfo(f"{self.proc}/self/mountinfo")
            theirs = read_mountinfo(f"{self.proc}/{pid}/mountinfo")
            self._made[ns] = Translator(theirs, self._ours) if theirs else None
        return self._made[ns]

    def resolver(self, pid: str, wanted: Callable[[str], bool]) -> Callable[[str], str | None]:
        """What process ``pid`` names (a link in /proc/PID) → our spelling of it, if ``wanted``; else None."""
        translate = self.translator(pid)
        if translate is None:
            return lambda target: target if wanted(target) else None

        def here(target: str) -> str | None:
            if not target.startswith("/"):
                return None
            deleted = target.endswith(" (deleted)")
            found = next((p for p in translate(target.removesuffix(" (deleted)")) if wanted(p)), None)
            return found + " (deleted)" if found and deleted else found

        return here
