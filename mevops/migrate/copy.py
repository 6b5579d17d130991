"""Copy a tree to another filesystem without losing a byte or a property.

Regular files are read once, data segments only (SEEK_DATA/SEEK_HOLE: holes stay holes), and
digested on the way; the copy is re-read after syncfs and must digest the same. Hard links stay
links (by source device and inode, across the whole migration), symlinks stay links (target
kept as written), fifos, sockets and device nodes are recreated; owner, mode, times and
extended attributes are kept.

The digest is canonical: BLAKE3 (blake2b without the blake3 package) over the file's logical
content on a 256 KiB grid, all-zero chunks skipped, plus the size. Two files with the same bytes
digest the same however their holes are allocated, and a hole is never read.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

CHUNK = 1 << 18
ZERO = bytes(CHUNK)

try:  # pragma: no branch
    import blake3 as _blake3

    HASH = "blake3"

    def new_hash():  # noqa: ANN201
        return _blake3.blake3()
except ImportError:  # pragma: no cover - blake3 is optional
    HASH = "blake2b"

    def new_hash():  # noqa: ANN201
        return hashlib.blake2b(digest_size=32)


class SourceChanged(OSError):
    """The source changed while being copied (a node still writing?)."""


def file_type(mode: int) -> str:
    from mevops.migrate.scan import file_type as ft

    return ft(mode)


def segments(fd: int, size: int):  # noqa: ANN201 - iterator of (start, end)
    """Data segments of an open file (the whole file where holes cannot be asked for)."""
    pos = 0
    while pos < size:
        try:
            start = os.lseek(fd, pos, os.SEEK_DATA)
        except OSError as exc:
            if exc.errno == errno.ENXIO:
                return
            yield pos, size
            return
        if start >= size:
            return
        end = min(os.lseek(fd, start, os.SEEK_HOLE), size)
        yield start, end
        pos = end


def _read_into(fd: int, view: memoryview, offset: int) -> None:
    while view:
        n = os.preadv(fd, [view], offset)
        if n == 0:
            raise SourceChanged(errno.EIO, "the source file shrank while being copied (is a node still writing it?)")
        view, offset = view[n:], offset + n


def _write_all(fd: int, view: memoryview, offset: int) -> None:
    while view:
        n = os.pwrite(fd, view, offset)
        view, offset = view[n:], offset + n


_HASHER: list = []


def _hasher():  # noqa: ANN202
    """One worker thread that digests chunk k while the caller reads and writes chunk k+1 (hashing
    releases the GIL)."""
    if not _HASHER:
        from concurrent.futures import ThreadPoolExecutor

        _HASHER.append(ThreadPoolExecutor(max_workers=1, thread_name_prefix="mevops-digest"))
    return _HASHER[0]


def stream(src_fd: int, size: int, dst_fd: int | None = None, on_bytes: Callable[[int], None] | None = None,
           tick: Callable[[], None] | None = None) -> str:
    """The canonical digest of a file; with ``dst_fd``, also a sparse copy of it."""
    bufs = [bytearray(CHUNK), bytearray(CHUNK)] if size > CHUNK else [bytearray(min(size, CHUNK) or 1)]
    h = new_hash()
    pool = _hasher() if len(bufs) > 1 else None
    pending = None
    cur, filled, which = -1, 0, 0

    def flush(buf: bytearray, idx: int, filled: int) -> None:
        length = min(CHUNK, size - idx * CHUNK)
        mv = memoryview(buf)
        if filled < length:
            mv[filled:length] = ZERO[: length - filled]
        data = buf if length == len(buf) == CHUNK else buf[:length]
        if data != (ZERO if length == CHUNK else ZERO[:length]):
            h.update(idx.to_bytes(8, "little"))
            h.update(mv[:length])

    def hand_over() -> None:
        nonlocal pending, which
        if pending is not None:
            pending.result()  # the other buffer is free again, and digests stay in order
        if pool is None:
            flush(bufs[which], cur, filled)
        else:
            pending = pool.submit(flush, bufs[which], cur, filled)
            which ^= 1

    for start, end in segments(src_fd, size):
        pos = start
        while pos < end:
            idx = pos // CHUNK
            base = idx * CHUNK
            if idx != cur:
                if cur >= 0:
                    hand_over()
                cur, filled = idx, 0
            mv = memoryview(bufs[which])
            lo, hi = pos - base, min(end, base + CHUNK) - base
            if lo > filled:
                mv[filled:lo] = ZERO[: lo - filled]
            _read_into(src_fd, mv[lo:hi], pos)
            if dst_fd is not None:
                if tick is None:
                    _write_all(dst_fd, mv[lo:hi], pos)
                else:
                    half = lo + (hi - lo) // 2
                    _write_all(dst_fd, mv[lo:half], pos)
                    tick()  # a fault may strike here, mid-file
                    _write_all(dst_fd, mv[half:hi], base + half)
            filled = hi
            if on_bytes is not None:
                on_bytes(hi - lo)
            pos = base + hi
    if cur >= 0:
        hand_over()
    if pending is not None:
        pending.result()
    if dst_fd is not None:
        os.ftruncate(dst_fd, size)
    h.update(size.to_bytes(8, "little"))
    return h.hexdigest()


def digest_path(path: str, drop_cache: bool = False) -> str:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW)
    try:
        if drop_cache:
            try:
                os.posix_fadvise(fd, 0, 0, os.POSIX_FADV_DONTNEED)
            except OSError:
                pass
        return stream(fd, os.fstat(fd).st_size)
    finally:
        os.close(fd)


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
            if key in self.links:  # a hard link copied before (its other names may already be gone from the source)
                os.link(self.links[key], d)
                rec["link"], rec["digest"] = self.links[key], self.digests[key]
                return rec
            fd_in = os.open(s, os.O_RDONLY | os.O_NOFOLLOW)
            try:
                fd_out = os.open(d, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600)
                try:
                    before = 0

                    def count(n: int) -> None:
                        nonlocal before
                        before += n
                        if self.on_bytes is not None:
                            self.on_bytes(n)

                    rec["digest"] = stream(fd_in, st.st_size, fd_out, count, self.tick)
                    if self.on_bytes is not None and st.st_size > before:
                        self.on_bytes(st.st_size - before)  # the holes
                finally:
                    os.close(fd_out)
            finally:
                os.close(fd_in)
            rec["sparse"] = st.st_blocks * 512 < st.st_size
            if st.st_nlink > 1:
                self.links[key], self.digests[key] = d, rec["digest"]
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
