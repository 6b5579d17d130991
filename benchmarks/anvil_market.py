"""Shared by the engine benchmarks: a throwaway anvil on a free port with the demo market deployed.

Not a benchmark itself (``make bench`` runs ``bench_*.py``).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import socket
import sys
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
    """Run the pinned anvil on a free port for the duration of the block; yields its HTTP URL (WS on the same port)."""
    from mevops.engine.scenarios.node import anvil as run_anvil

    with run_anvil(binary=anvil_binary(), extra=extra) as url:
        yield url


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
