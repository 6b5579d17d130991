"""The content digest that proves a copy: canonical, sparse-aware, and computed off the I/O path.

The digest is BLAKE3 (blake2b without the blake3 package) over the file's logical content on a
1 MiB grid, all-zero chunks skipped, plus the size: two files with the same bytes digest the
same however their holes are allocated, and a hole is never read (SEEK_DATA/SEEK_HOLE).

Digesting runs inline with the copy: a worker thread (hashing releases the GIL) was measured
slower on two cores, the hand-overs cost more than the overlap saves.
"""

from __future__ import annotations

import errno
import hashlib
import os
from collections.abc import Callable

CHUNK = 1 << 20
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


def _absorb(h, buf: bytearray, idx: int, length: int) -> None:  # noqa: ANN001
    """One grid chunk into the digest, unless it is all zeros."""
    data = buf if length == CHUNK else buf[:length]
    if data[:1] == b"\0" and data[-1:] == b"\0" and data == ZERO[:length]:
        return
    h.update(idx.to_bytes(8, "little"))
    h.update(memoryview(buf)[:length])


def stream(src_fd: int, size: int, dst_fd: int | None = None, on_bytes: Callable[[int], None] | None = None,
           tick: Callable[[], None] | None = None) -> str:
    """The canonical digest of a file; with ``dst_fd``, also a sparse copy of it (holes are skipped)."""
    buf = bytearray(min(CHUNK, size) or 1)
    mv = memoryview(buf)
    h = new_hash()
    cur, filled = -1, 0

    def flush() -> None:
        length = min(CHUNK, size - cur * CHUNK)
        if filled < length:
            mv[filled:length] = ZERO[: length - filled]
        _absorb(h, buf, cur, length)

    for start, end in segments(src_fd, size):
        pos = start
        while pos < end:
            idx = pos // CHUNK
            base = idx * CHUNK
            if idx != cur:
                if cur >= 0:
                    flush()
                cur, filled = idx, 0
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
        flush()
    if dst_fd is not None:
        os.ftruncate(dst_fd, size)
    h.update(size.to_bytes(8, "little"))
    return h.hexdigest()


def digest_path(path: str, drop_cache: bool = False) -> str:
    """The digest of a file on disk (``drop_cache``: read it from the disk, not from memory)."""
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
