"""Shared by the engine benchmarks: a throwaway anvil on a free port with the demo market deployed.

Not a benchmark itself (``make bench`` runs ``bench_*.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import subprocess
import sys
import time
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))


def anvil_binary() -> str:
    for candidate in (REPO / ".tools/bin/anvil", shutil.which("anvil")):
        if candidate and os.access(candidate, os.X_OK):
            return str(candidate)
    raise SystemExit("anvil is not installed (scripts/install-test-tools installs it into .tools/bin)")


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextlib.contextmanager
def anvil(*extra: str) -> Iterator[str]:
    """Run anvil on a free port for the duration of the block; yields its HTTP URL (WS on the same port)."""
    port = free_port()
    proc = subprocess.Popen([anvil_binary(), "--port", str(port), "--silent", *extra],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
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
                if time.monotonic() > deadline:
                    raise RuntimeError(f"anvil did not start on port {port}") from None
                time.sleep(0.05)
        yield url
    finally:
        proc.kill()
        proc.wait()


async def deploy(url: str) -> tuple[Any, str, Any, Any]:
    """The demo market (4 tokens, 2 DEXes) and a funded executor owned by the searcher: (market, executor, signer, state)."""
    from mevops.engine.chain.signer import Signer
    from mevops.engine.demo import DEV_SEARCHER_KEY, DemoState, setup_market

    state, signer = DemoState(), Signer(DEV_SEARCHER_KEY, "anvil dev account #1")
    market, executor = await setup_market(url, state, signer)
    return market, executor, signer, state


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(q * len(ordered)))]
