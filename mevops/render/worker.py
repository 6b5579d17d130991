"""A piece of a render run in a forked process, its result sent back pickled through a pipe.

A forked child shares everything the parent loaded (modules, compiled templates, the context)
copy-on-write, so it costs no start-up: the render runs validation (``inputs.PendingInputs``)
and half of the templates (``plan.Planner``) that way on a multi-core machine.
"""

from __future__ import annotations

import os
import pickle
from collections.abc import Callable
from typing import Any

from mevops.errors import MevopsError


def can_fork() -> bool:
    """Forking helps (two or more cores) and is safe (no other thread holds a lock the child needs)."""
    import threading

    return hasattr(os, "fork") and (os.cpu_count() or 1) >= 2 and threading.active_count() == 1


def send_result(write_fd: int, work: Callable[[], Any], then: Callable[[Any], None] | None = None) -> None:
    """In a worker: run ``work``, send its value or error through ``write_fd`` (pickled, then
    closed), then run ``then(value)`` if it succeeded."""
    try:
        payload: tuple[str, Any] = ("ok", work())
    except MevopsError as exc:
        payload = ("error", exc.problems)
    except BaseException as exc:  # noqa: BLE001 - reported to the parent, which raises
        payload = ("bug", f"{type(exc).__name__}: {exc}")
    with os.fdopen(write_fd, "wb") as pipe:
        pickle.dump(payload, pipe, protocol=pickle.HIGHEST_PROTOCOL)
    if then is not None and payload[0] == "ok":
        then(payload[1])


def readable(fd: int | None) -> bool:
    """A result is waiting in ``fd`` (or it was read already)."""
    import select

    return fd is None or bool(select.select([fd], [], [], 0)[0])


def read_result(read_fd: int, what: str) -> Any:
    """In the parent: what ``send_result`` sent through ``read_fd`` (read to its end and closed)."""
    with os.fdopen(read_fd, "rb") as pipe:
        data = pipe.read()
    try:
        kind, value = pickle.loads(data)
    except Exception:  # noqa: BLE001 - the worker died before sending
        kind, value = "bug", "no result (the process died)"
    if kind == "ok":
        return value
    if kind == "error":
        raise MevopsError(value)
    raise RuntimeError(f"{what} failed in the worker process: {value}")


class Worker:
    """``work()`` running in a forked child; ``result()`` returns its value or raises what it
    raised (a MevopsError as itself, anything else as RuntimeError). ``then(value)``, if given,
    runs in the child after the value is sent (the parent does not wait for it until ``close``)."""

    def __init__(self, what: str, work: Callable[[], Any], then: Callable[[Any], None] | None = None) -> None:
        self.what = what
        read_fd, write_fd = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never returns
            os.close(read_fd)
            try:
                send_result(write_fd, work, then)
            finally:
                os._exit(0)
        os.close(write_fd)
        self.pid: int | None = pid
        self._fd: int | None = read_fd

    def ready(self) -> bool:
        return readable(self._fd)

    def result(self) -> Any:
        """The child's value (once: the pipe is read to its end)."""
        assert self._fd is not None, "result() was read already"
        fd, self._fd = self._fd, None
        try:
            return read_result(fd, self.what)
        except BaseException:
            self.close()
            raise

    def close(self) -> None:
        """Reap the child (waits for ``then`` to finish)."""
        if self._fd is not None:
            os.close(self._fd)
            self._fd = None
        if self.pid is not None:
            pid, self.pid = self.pid, None
            os.waitpid(pid, 0)
