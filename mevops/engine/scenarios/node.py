"""A throwaway anvil on a free port for one scenario (killed after)."""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path


def anvil_binary() -> str:
    from mevops.reference import reference_root

    local = shutil.which("anvil") or str(reference_root() / ".tools/bin/anvil")
    if not os.access(local, os.X_OK):
        from mevops.errors import CheckFailed

        raise CheckFailed("no anvil binary found (PATH or .tools/bin/anvil): start one and pass --rpc")
    return str(Path(local).resolve())


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def anvil(block_time: float | None = None, chain_id: int = 31337, *, binary: str | None = None,
          extra: tuple[str, ...] = ()) -> Iterator[str]:
    """Run anvil on a free port for the duration of the block; yields its HTTP URL (WS on the same port)."""
    port = _free_port()
    argv = [binary or anvil_binary(), "--port", str(port), "--chain-id", str(chain_id), "--silent", *extra]
    if block_time:
        argv += ["--block-time", str(block_time)]
    proc = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 15
        while True:
            try:
                req = urllib.request.Request(url, data=b'{"jsonrpc":"2.0","id":1,"method":"eth_chainId","params":[]}',
                                             headers={"content-type": "application/json"})
                urllib.request.urlopen(req, timeout=0.5).read()
                break
            except OSError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError(f"anvil did not start on port {port}") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.kill()
        proc.wait()
