"""Two `mevops engine run --live` replicas against one real PostgreSQL and one anvil: exactly one
signs, the other stands by and serves the API; kill -9 the active one and the standby takes over
within 5 s, with no nonce used twice and no trade sent twice."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx

from mevops.engine.demo import DEV_SEARCHER_KEY
from tests.integration.test_engine_run import _market, _push, _rpc, _signer


def _replica(workspace, url, market_file, db, executor):
    proc = subprocess.Popen([sys.executable, "-m", "mevops", "-w", str(workspace), "engine", "run", "--market", str(market_file),
                             "--rpc", url, "--db", db, "--live", "--executor", executor, "--api-port", "0"],
                            stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1", "MEVOPS_SIGNER_KEY": DEV_SEARCHER_KEY})
    line = proc.stderr.readline()
    match = re.search(r"engine API on (http://[\d.:]+)", line)
    assert match, line + (proc.stderr.read() if proc.poll() is not None else "")
    return proc, match.group(1)


def _role(api: str, token: str) -> str | None:
    try:
        return httpx.get(f"{api}/api/v1/status", headers={"Authorization": f"Bearer {token}"}, timeout=2).json()["replica"]["role"]
    except (httpx.HTTPError, KeyError, ValueError):
        return None


def test_one_active_signer_and_failover_within_5_s(workspace, tmp_path, start_anvil, postgres_url):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    market_file = tmp_path / "market.json"
    market, executor = _market(url, market_file)
    token = subprocess.run([sys.executable, "-m", "mevops", "-w", str(workspace), "engine", "token", "create", "--role",
                            "viewer", "--db", postgres_url], capture_output=True, text=True, check=True).stdout.strip()
    searcher = _signer().address
    first_nonce = int(_rpc(url, "eth_getTransactionCount", [searcher, "latest"]), 16)
    replicas = [_replica(workspace, url, market_file, postgres_url, executor) for _ in range(2)]
    try:
        deadline = time.monotonic() + 20
        roles = []
        while time.monotonic() < deadline:
            roles = [_role(api, token) for _, api in replicas]
            if sorted(r or "" for r in roles) == ["active", "standby"]:
                break
            time.sleep(0.2)
        assert sorted(roles) == ["active", "standby"], roles
        active = roles.index("active")
        for _ in range(4):                        # trades by the first active replica
            _push(url, market)
            time.sleep(1.1)
        killed_at = time.monotonic()
        replicas[active][0].send_signal(signal.SIGKILL)
        replicas[active][0].wait(10)
        survivor_proc, survivor_api = replicas[1 - active]
        while _role(survivor_api, token) != "active":
            assert time.monotonic() - killed_at < 5.0, "the standby did not take over within 5 s"
            time.sleep(0.05)
        takeover = time.monotonic() - killed_at
        print(f"takeover after kill -9: {takeover:.2f} s")
        for _ in range(4):                        # trades by the new active replica
            _push(url, market)
            time.sleep(1.1)
        survivor_proc.send_signal(signal.SIGTERM)
        assert survivor_proc.wait(60) == 0, survivor_proc.stderr.read()
    finally:
        for proc, _ in replicas:
            if proc.poll() is None:
                proc.kill()

    from mevops.engine.store.store import Store

    with Store(postgres_url) as store:
        trades = store.trades(chain="ethereum", page_size=500).items
        pending = store.pending_trades("ethereum")
    nonces = [t.nonce for t in trades if t.status != "dropped"]
    assert len(nonces) == len(set(nonces)), f"a nonce was used twice: {sorted(nonces)}"
    assert len({t.tx_hash for t in trades}) == len(trades)
    on_chain = int(_rpc(url, "eth_getTransactionCount", [searcher, "latest"]), 16) - first_nonce
    landed = [t for t in trades if t.status in ("mined", "reverted")]
    assert len(landed) >= 2, "trades landed"
    assert on_chain == len(landed) and not pending, (on_chain, sorted((t.nonce, t.status, t.reason) for t in trades),
                                                     [(p.nonce, p.status) for p in pending])
    for t in landed:
        receipt = _rpc(url, "eth_getTransactionReceipt", [t.tx_hash])
        assert receipt is not None and int(receipt["blockNumber"], 16) == t.block
    assert takeover < 5.0
    json.dumps([t.id for t in trades])  # the ids are plain strings (no bytes leaked into the records)
