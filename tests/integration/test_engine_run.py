"""`mevops engine run`: paper by default, live only with --live and a signer, and a kill -9
between signing and sending never leads to a second transaction for the same trade."""

from __future__ import annotations

import asyncio
import json
import os
import subprocess
import sys

from mevops.engine.demo import DEV_SEARCHER_KEY, DemoState, setup_market
from tests.integration.test_engine_e2e import _dislocate, _signer


def _market(url: str, path):
    async def go():
        from mevops.engine.collectors.rpc import HttpRpc

        state = DemoState()
        market, executor = await setup_market(url, state, _signer())
        path.write_text(json.dumps(market.to_dict()))
        return market, executor

    return asyncio.run(go())


def _push(url: str, market) -> None:
    async def go():
        from mevops.engine.collectors.rpc import HttpRpc

        rpc = HttpRpc(url)
        await _dislocate(rpc, market, 30 * 10**18)
        await rpc.close()

    asyncio.run(go())


def _rpc(url: str, method: str, params: list):
    import urllib.request

    body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": method, "params": params}).encode()
    req = urllib.request.Request(url, data=body, headers={"content-type": "application/json"})
    return json.loads(urllib.request.urlopen(req, timeout=5).read())["result"]


def _engine(workspace, url, market_file, db, *extra, env=None, timeout=60):
    return subprocess.run([sys.executable, "-m", "mevops", "-w", str(workspace), "engine", "run", "--market", str(market_file),
                           "--rpc", url, "--db", db, "--api-port", "0", *extra], capture_output=True, text=True, timeout=timeout,
                          env={**os.environ, **(env or {})})


def test_paper_by_default_sends_nothing(workspace, tmp_path, start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    market_file = tmp_path / "market.json"
    market, _ = _market(url, market_file)
    searcher = _signer().address
    before = _rpc(url, "eth_getTransactionCount", [searcher, "latest"])
    _push(url, market)
    result = _engine(workspace, url, market_file, f"sqlite:///{tmp_path}/paper.db", "--blocks", "3", "--json")
    assert result.returncode == 0, result.stderr
    report = json.loads(result.stdout)
    assert report["mode"] == "paper" and report["outcomes"].get("paper", 0) >= 1
    assert _rpc(url, "eth_getTransactionCount", [searcher, "latest"]) == before


def test_live_needs_a_signer_and_an_executor(workspace, tmp_path, start_anvil):
    url, _ = start_anvil(chain_id=31337)
    market_file = tmp_path / "market.json"
    market_file.write_text(json.dumps({"pairs": [], "weth": "0x" + "11" * 20}))
    env = {k: v for k, v in os.environ.items() if not k.startswith("MEVOPS_SIGNER")}
    result = subprocess.run([sys.executable, "-m", "mevops", "-w", str(workspace), "engine", "run", "--market", str(market_file),
                             "--rpc", url, "--live"], capture_output=True, text=True, env=env, timeout=60)
    assert result.returncode == 2 and "live trading needs --executor and a signer" in result.stderr


def test_kill_9_after_signing_never_sends_twice(workspace, tmp_path, start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    market_file = tmp_path / "market.json"
    market, executor = _market(url, market_file)
    db = f"sqlite:///{tmp_path}/live.db"
    signer_env = {"MEVOPS_SIGNER_KEY": DEV_SEARCHER_KEY}
    searcher = _signer().address
    nonce_before = int(_rpc(url, "eth_getTransactionCount", [searcher, "latest"]), 16)
    _push(url, market)
    crashed = _engine(workspace, url, market_file, db, "--live", "--executor", executor, "--blocks", "20",
                      env={**signer_env, "MEVOPS_ENGINE_FAULT": "kill-after-sign"})
    assert crashed.returncode == -9, crashed.stderr  # a fake crash: SIGKILL right after the durable record

    from mevops.engine.store.store import Store

    with Store(db) as store:
        (pending,) = store.pending_trades("ethereum")
    assert int(_rpc(url, "eth_getTransactionCount", [searcher, "pending"]), 16) == nonce_before  # never sent
    resumed = _engine(workspace, url, market_file, db, "--live", "--executor", executor, "--blocks", "2", "--json",
                      env=signer_env)
    assert resumed.returncode == 0, resumed.stderr
    assert pending.id in json.loads(resumed.stdout)["reconciled"].get("rebroadcast", []) + \
        json.loads(resumed.stdout)["reconciled"].get("mined", [])
    with Store(db) as store:
        trade = store.trade(pending.id)
        trades = store.trades(chain="ethereum", page_size=100).items
    assert trade.tx_hash == pending.tx_hash and trade.status in ("mined", "reverted")
    receipt = _rpc(url, "eth_getTransactionReceipt", [pending.tx_hash])
    assert receipt is not None
    # one transaction per recorded trade, no more: nonces used == trades that reached the chain
    sent = [t for t in trades if t.status in ("mined", "reverted", "sent")]
    assert int(_rpc(url, "eth_getTransactionCount", [searcher, "latest"]), 16) - nonce_before == len(sent)
