"""Copy a tree to another filesystem without losing a byte or a property.

Regular files are read once, data segments only (SEEK_DATA/SEEK_HOLE: holes stay holes), and
digested on the way (digest.py); the copy is re-read after syncfs and must digest the same. Hard
links stay links (by source device and inode, across the whole migration), symlinks stay links
(target kept as written), fifos, sockets and device nodes are recreated; owner, mode, times and
extended attributes are kept.
"""

from __future__ import annotations

import os
import stat
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mevops.migrate.digest import HASH, digest_path, stream

__all__ = ["HASH", "TreeCopier", "check_tree", "digest_path", "file_type", "remove_tree", "syncfs"]
_TYPES = {stat.S_IFDIR: "dir", stat.S_IFREG: "file", stat.S_IFLNK: "symlink", stat.S_IFIFO: "fifo", stat.S_IFSOCK: "socket",
          stat.S_IFCHR: "chardev", stat.S_IFBLK: "blockdev"}


def file_type(mode: int) -> str:
    return _TYPES.get(stat.S_IFMT(mode), "other")

_LIBC: list = []


def syncfs(path: str) -> None:
    """Flush a whole filesystem: every file and directory written there, in one go."""
    if not _LIBC:
        import ctypes

        try:
            _LIBC.append(ctypes.CDLL("libc.so.6", use_errno=True).syncfs)
        except (OSError, AttributeError):
            _LIBC.append(None)
    fd = os.open(path, os.O_RDONLY)
    try:
        if _LIBC[0] is None or _LIBC[0](fd) != 0:
            os.sync()
    finally:
        os.close(fd)


@dataclass
class TreeCopier:
    """Copies trees, sharing one hard-link map (source (dev, ino) → copied path) across calls."""

    links: dict[tuple[int, int], str] = field(default_factory=dict)
    digests: dict[tuple[int, int], str] = field(default_factory=dict)
    on_bytes: Callable[[int], None] | None = None
    tick: Callable[[], None] | None = None
    warnings: list[str] = field(default_factory=list)
    lock: Any = field(default_factory=threading.Lock)  # shared by copiers running side by side

    def sibling(self) -> "TreeCopier":
        """A copier for another thread, sharing this one's hard-link map and lock."""
        return TreeCopier(self.links, self.digests, self.on_bytes, None, self.warnings, self.lock)

    def copy(self, src: str, dst: str) -> list[dict[str, Any]]:
        """Copy ``src`` (any type) to ``dst`` (must not exist); returns the manifest."""
        entries = []
        dirs = []
        stack = [("", src, dst)]
        while stack:
            rel, s, d = stack.pop()
            st = os.lstat(s)
            entries.append(self._one(rel, s, d, st))
            if stat.S_ISDIR(st.st_mode):
                with os.scandir(s) as it:
                    names = sorted(e.name for e in it)
                stack += [(f"{rel}/{n}" if rel else n, os.path.join(s, n), os.path.join(d, n)) for n in reversed(names)]
                dirs.append((d, st))
        for d, st in reversed(dirs):
            self._meta(d, st)
        return entries

    def _one(self, rel: str, s: str, d: str, st: os.stat_result) -> dict[str, Any]:
        mode = st.st_mode
        rec: dict[str, Any] = {"rel": rel, "type": file_type(mode), "mode": stat.S_IMODE(mode), "uid": st.st_uid,
                               "gid": st.st_gid, "mtime": st.st_mtime_ns}
        if stat.S_ISDIR(mode):
            os.mkdir(d, 0o700)
            return rec
        if stat.S_ISREG(mode):
            key = (st.st_dev, st.st_ino)
            rec["size"] = st.st_size
            if st.st_nlink > 1:
                rec["key"] = f"{st.st_dev}:{st.st_ino}"  # so a rollback can re-link it to names left behind
            if st.st_nlink > 1 or key in self.links:  # (its other names may already be gone from the source)
                with self.lock:  # one thread copies a hard-linked file, every other name links to that copy
                    if key in self.links:
                        os.link(self.links[key], d)
                        rec["link"], rec["digest"] = self.links[key], self.digests[key]
                        return rec
                    self._data(s, d, st, rec)
                    self.links[key], self.digests[key] = d, rec["digest"]
            else:
                self._data(s, d, st, rec)
        elif stat.S_ISLNK(mode):
            rec["target"] = os.readlink(s)
            os.symlink(rec["target"], d)
        elif stat.S_ISFIFO(mode):
            os.mkfifo(d, 0o600)
        else:
            rec["rdev"] = st.st_rdev
            os.mknod(d, stat.S_IFMT(mode) | 0o600, st.st_rdev)
        self._meta(d, st, source=s)
        return rec

    def _data(self, s: str, d: str, st: os.stat_result, rec: dict[str, Any]) -> None:
        """A regular file's bytes, holes kept as holes; its digest into ``rec``."""
        copied = 0

        def count(n: int) -> None:
            nonlocal copied
            copied += n
            if self.on_bytes is not None:
                self.on_bytes(n)

        fd_in = os.open(s, os.O_RDONLY | os.O_NOFOLLOW)
        try:
            fd_out = os.open(d, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
            try:
                rec["digest"] = stream(fd_in, st.st_size, fd_out, count, self.tick)
            finally:
                os.close(fd_out)
        finally:
            os.close(fd_in)
        if self.on_bytes is not None and st.st_size > copied:
            self.on_bytes(st.st_size - copied)  # the holes
        rec["sparse"] = st.st_blocks * 512 < st.st_size

    def _meta(self, d: str, st: os.stat_result, source: str | None = None) -> None:
        link = stat.S_ISLNK(st.st_mode)
        if source is not None and not link:
            try:
                for name in os.listxattr(source, follow_symlinks=False):
                    os.setxattr(d, name, os.getxattr(source, name, follow_symlinks=False), follow_symlinks=False)
            except OSError:
                pass  # no xattrs here or there: nothing to keep
        try:
            os.lchown(d, st.st_uid, st.st_gid)
        except PermissionError:
            if not self.warnings:
                self.warnings.append("owners not kept: run as root to keep them")
        if not link:
            os.chmod(d, stat.S_IMODE(st.st_mode))
        os.utime(d, ns=(st.st_atime_ns, st.st_mtime_ns), follow_symlinks=False)


def check_tree(top: str, manifest: list[dict[str, Any]], *, drop_cache: bool = False, owners: bool = True,
               links: bool = True, extras: bool = True) -> list[str]:
    """Problems where the tree at ``top`` differs from ``manifest`` (empty: identical). ``links``: check
    hard links by identity with the recorded path (else by content, like any file). ``extras``: also
    look for entries the manifest does not have (pointless for a directory we just created)."""
    problems = []
    expected = set()
    for rec in manifest:
        rel = rec["rel"]
        expected.add(rel)
        path = os.path.join(top, rel) if rel else top
        try:
            st = os.lstat(path)
        except OSError as exc:
            problems.append(f"{rel or '.'}: missing ({exc.strerror})")
            continue
        if file_type(st.st_mode) != rec["type"]:
            problems.append(f"{rel or '.'}: is a {file_type(st.st_mode)}, expected a {rec['type']}")
            continue
        if rec["type"] != "symlink" and stat.S_IMODE(st.st_mode) != rec["mode"]:
            problems.append(f"{rel or '.'}: mode {stat.S_IMODE(st.st_mode):04o}, expected {rec['mode']:04o}")
        if owners and (st.st_uid, st.st_gid) != (rec["uid"], rec["gid"]):
            problems.append(f"{rel or '.'}: owner {st.st_uid}:{st.st_gid}, expected {rec['uid']}:{rec['gid']}")
        if rec["type"] == "file":
            if st.st_size != rec["size"]:
                problems.append(f"{rel or '.'}: {st.st_size} bytes, expected {rec['size']}")
            elif "link" in rec and links:
                try:
                    if not os.path.samestat(st, os.lstat(rec["link"])):
                        problems.append(f"{rel}: no longer a hard link of {rec['link']}")
                except OSError:
                    problems.append(f"{rel}: its hard link {rec['link']} is missing")
            elif digest_path(path, drop_cache) != rec["digest"]:
                problems.append(f"{rel or '.'}: content differs ({HASH} mismatch)")
            if rec.get("sparse") and st.st_blocks * 512 >= st.st_size:
                problems.append(f"{rel or '.'}: was sparse, is not")
        elif rec["type"] == "symlink" and os.readlink(path) != rec["target"]:
            problems.append(f"{rel or '.'}: link points to {os.readlink(path)!r}, expected {rec['target']!r}")
        elif "rdev" in rec and st.st_rdev != rec["rdev"]:
            problems.append(f"{rel or '.'}: device number differs")
        if st.st_mtime_ns != rec["mtime"]:
            problems.append(f"{rel or '.'}: modified time differs")
    for dirpath, dirnames, filenames in os.walk(top) if extras else ():
        prefix = dirpath[len(top) + 1:]
        for name in dirnames + filenames:
            rel = f"{prefix}/{name}" if prefix else name
            if rel not in expected:
                problems.append(f"{rel}: not in the source")
    return problems


def remove_tree(path: str, tick: Callable[[], None] | None = None) -> None:
    """Delete a tree bottom-up (files, links, specials, then directories); missing is fine."""
    try:
        st = os.lstat(path)
    except FileNotFoundError:
        return
    if not stat.S_ISDIR(st.st_mode):
        os.unlink(path)
        return
    stack = [(path, False)]
    while stack:
        directory, visited = stack.pop()
        if visited:
            os.rmdir(directory)
            continue
        if not os.access(directory, os.W_OK | os.X_OK | os.R_OK):
            os.chmod(directory, stat.S_IMODE(os.lstat(directory).st_mode) | 0o700)  # ours to delete: it was copied
        stack.append((directory, True))
        with os.scandir(directory) as it:
            for entry in it:
                if entry.is_dir(follow_symlinks=False):
                    stack.append((entry.path, False))
                else:
                    os.unlink(entry.path)
                    if tick is not None:
                        tick()
