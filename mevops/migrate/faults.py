"""TEST-ONLY fault injection for apply, resume and rollback (a fake crash, a fake full disk).

Driven by ``MEVOPS_MIGRATE_FAULT``, which nothing but the test suite and benchmarks set:

    kill:N          SIGKILL this process right before step N's filesystem operation
    kill:N:mid      ... in the middle of step N (mid-copy, mid-rewrite)
    kill:N:remove   ... in the middle of removing step N's source after a verified copy
    kill:N:after    ... right after step N's operation, before its ``done`` record
    enospc:N        raise OSError(ENOSPC) in the middle of copying step N
    eacces:N        raise OSError(EACCES) in the middle of copying step N
    undo-kill:N[:mid]  the same kills, while rolling step N back
"""

from __future__ import annotations

import errno
import os
import signal


class Faults:
    def __init__(self, spec: str | None = None) -> None:
        spec = spec if spec is not None else os.environ.get("MEVOPS_MIGRATE_FAULT", "")
        self.kind, self.step, self.phase = "", -1, "before"
        if spec:
            parts = spec.split(":")
            self.kind, self.step = parts[0], int(parts[1])
            self.phase = parts[2] if len(parts) > 2 else ("mid" if self.kind in ("enospc", "eacces") else "before")
        self.fired = False

    def _hit(self, kind: str, step: int, phase: str) -> bool:
        return not self.fired and self.kind == kind and self.step == step and self.phase == phase

    def point(self, step: int, phase: str, *, undo: bool = False) -> None:
        """A place where a test may kill us (apply: kill:N:phase; rollback: undo-kill:N:phase)."""
        if self._hit("undo-kill" if undo else "kill", step, phase):
            self.fired = True
            os.kill(os.getpid(), signal.SIGKILL)

    def io(self, step: int) -> None:
        """Mid-copy: a fake full disk or permission error (after some bytes are already written)."""
        self.point(step, "mid")
        for kind, code in (("enospc", errno.ENOSPC), ("eacces", errno.EACCES)):
            if self._hit(kind, step, "mid"):
                self.fired = True
                raise OSError(code, os.strerror(code) + " (injected by MEVOPS_MIGRATE_FAULT)")


NO_FAULTS = Faults("")
