"""Get validation going before the CLI framework has even loaded.

A render whose inputs are not cached validates the workspace, and most of that is importing
pydantic and building the model classes (~250 ms). ``mevops render``, started as a program,
forks at once (``mevops.cli``, before typer is imported) a process that imports that stack and
waits. If the render then needs a validation (``inputs.PendingInputs``) it hands that process
the workspace and environment; if it does not (inputs cached, nothing changed, an error, --help),
the process is killed. In-process callers (tests, the engine) never start one.

This module imports only the standard library.
"""

from __future__ import annotations

import atexit
import os
import pickle
import signal
from typing import Any

_started: "Prefork | None" = None


class Prefork:
    def __init__(self) -> None:
        request_r, request_w = os.pipe()
        result_r, result_w = os.pipe()
        pid = os.fork()
        if pid == 0:  # child: never returns
            try:
                os.close(request_w)
                os.close(result_r)
                _serve(request_r, result_w)
            finally:
                os._exit(0)
        os.close(request_r)
        os.close(result_w)
        self.pid: int | None = pid
        self._request: int | None = request_w
        self._result: int | None = result_r

    def validate(self, ws: Any, env: str, fingerprint: str) -> "Prefork":
        """Ask for the validated inputs of ``env`` of ``ws`` (``result()``, then ``close()``)."""
        assert self._request is not None
        fd, self._request = self._request, None
        config_vars = {k: v for k, v in os.environ.items() if k.startswith("MEVOPS_")}  # as they are now
        with os.fdopen(fd, "wb") as pipe:
            pickle.dump((ws, env, fingerprint, config_vars), pipe, protocol=pickle.HIGHEST_PROTOCOL)
        return self

    def ready(self) -> bool:
        from mevops.render.worker import readable

        return readable(self._result)

    def result(self) -> Any:
        from mevops.render.worker import read_result

        assert self._result is not None, "result() was read already"
        fd, self._result = self._result, None
        try:
            return read_result(fd, "validating the workspace")
        except BaseException:
            self.close()
            raise

    def close(self, kill: bool = False) -> None:
        """Reap the process (it stores what it validated first); ``kill``: it is not needed."""
        for name in ("_request", "_result"):
            fd = getattr(self, name)
            if fd is not None:
                os.close(fd)
                setattr(self, name, None)
        if self.pid is not None:
            pid, self.pid = self.pid, None
            if kill:
                try:
                    os.kill(pid, signal.SIGKILL)
                except ProcessLookupError:
                    pass
            os.waitpid(pid, 0)


def _serve(request_fd: int, result_fd: int) -> None:
    devnull = os.open(os.devnull, os.O_RDWR)
    for fd in (0, 1, 2):  # never keep the CLI's output open (a reader would wait for its end)
        os.dup2(devnull, fd)
    from mevops.render import inputs
    from mevops.render.worker import send_result

    inputs.import_validation()
    with os.fdopen(request_fd, "rb") as pipe:
        request = pipe.read()
    if not request:  # the render did not need it
        return
    ws, env, fingerprint, config_vars = pickle.loads(request)
    for name in [k for k in os.environ if k.startswith("MEVOPS_")]:
        del os.environ[name]
    os.environ.update(config_vars)
    send_result(result_fd, lambda: inputs.validate_inputs(ws, env),
                lambda value: inputs.store_inputs(ws, env, fingerprint, value))


def start() -> None:
    """Fork the waiting validator (once per process; only if forking is safe and useful)."""
    global _started
    from mevops.render.worker import can_fork

    if _started is None and can_fork():
        _started = Prefork()
        atexit.register(discard)


def take() -> Prefork | None:
    """The waiting validator, if one was started and not taken yet."""
    global _started
    taken, _started = _started, None
    return taken


def discard() -> None:
    """No validation needed: kill the waiting validator, if any."""
    taken = take()
    if taken is not None:
        taken.close(kill=True)
