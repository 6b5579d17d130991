"""Removing the sources of verified copies in the background, one at a time and in order, while the
next item is being copied (unlinking big files is slow on some filesystems: it need not stall
the copy). A source is only ever handed over once its copy is verified and journaled."""

from __future__ import annotations

from concurrent.futures import Future, ThreadPoolExecutor
from typing import TYPE_CHECKING

from mevops.migrate.copy import remove_tree

if TYPE_CHECKING:
    from mevops.migrate.faults import Faults
    from mevops.migrate.steps import Step


class Remover:
    def __init__(self, faults: "Faults") -> None:
        self.faults = faults
        self._pool: ThreadPoolExecutor | None = None
        self._queue: list[tuple["Step", Future]] = []

    def submit(self, s: "Step") -> None:
        if self._pool is None:
            self._pool = ThreadPoolExecutor(max_workers=1, thread_name_prefix="mevops-remove")
        self._queue.append((s, self._pool.submit(self._remove, s)))

    def _remove(self, s: "Step") -> None:
        self.faults.point(s.n, "remove")
        remove_tree(s.src, tick=lambda: self.faults.point(s.n, "remove"))
        self.faults.point(s.n, "after")

    def finished(self, wait: bool = False) -> tuple[list["Step"], tuple["Step", BaseException] | None]:
        """Steps whose source is gone (in order), and the first failure, if any."""
        done: list[Step] = []
        while self._queue and (wait or self._queue[0][1].done()):
            s, future = self._queue.pop(0)
            error = future.exception()
            if error is not None:
                return done, (s, error)
            done.append(s)
        return done, None

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=True)
            self._pool = None
