"""`mevops engine run` serves its API: a real engine process on anvil, a token made by the CLI,
status and metrics that follow the chain, trades streamed live, and an operator's emergency stop
that stops the trading while the next blocks keep coming."""

from __future__ import annotations

import json
import os
import re
import signal
import subprocess
import sys
import time

import httpx
from websockets.sync.client import connect

from tests.integration.test_engine_run import _market, _push


def _cli(workspace, *args) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mevops", "-w", str(workspace), *args], capture_output=True, text=True,
                          timeout=60)


def test_engine_run_serves_the_api_on_anvil(workspace, tmp_path, start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    market_file = tmp_path / "market.json"
    market, _ = _market(url, market_file)
    db = f"sqlite:///{tmp_path}/engine.db"
    viewer = _cli(workspace, "engine", "token", "create", "--role", "viewer", "--db", db).stdout.strip()
    operator = _cli(workspace, "engine", "token", "create", "--role", "operator", "--db", db).stdout.strip()
    assert viewer.startswith("mevops_") and operator.startswith("mevops_")
    proc = subprocess.Popen([sys.executable, "-m", "mevops", "-w", str(workspace), "engine", "run", "--market", str(market_file),
                             "--rpc", url, "--db", db, "--api-port", "0"], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        line = proc.stderr.readline()
        match = re.search(r"engine API on (http://[\d.:]+)", line)
        assert match, line
        api = match.group(1)
        v = {"Authorization": f"Bearer {viewer}"}
        with httpx.Client(base_url=api, timeout=10) as c:
            assert c.get("/api/v1/status").status_code == 401
            first = c.get("/api/v1/status", headers=v).json()
            assert first["mode"] == "paper" and first["chain"] == "ethereum"
            trades = []
            with connect(api.replace("http", "ws") + "/api/v1/stream/trades", additional_headers=v) as stream:
                deadline = time.monotonic() + 40
                while not trades and time.monotonic() < deadline:
                    _push(url, market)                       # dislocate the two DEXes
                    try:
                        trades.append(json.loads(stream.recv(timeout=3)))
                    except TimeoutError:
                        continue
            assert trades and trades[0]["data"]["status"] in ("paper", "simulated_fail", "refused")
            later = c.get("/api/v1/status", headers=v).json()
            assert later["last_block"] > first["last_block"] and later["opportunities"]["found"] >= 1
            metrics = c.get("/metrics").text
            assert re.search(r'mevops_engine_blocks_processed_total\{chain="ethereum",engine="[^"]+"\} [1-9]', metrics)
            assert "mevops_engine_rpc_latency_seconds" in metrics
            assert c.post("/api/v1/risk/emergency-stop", headers=v).status_code == 403
            stop = c.post("/api/v1/risk/emergency-stop", json={"reason": "e2e"}, headers={"Authorization": f"Bearer {operator}"})
            assert stop.status_code == 200
            found = c.get("/api/v1/status", headers=v).json()["opportunities"]["found"]
            block = c.get("/api/v1/status", headers=v).json()["last_block"]
            for _ in range(3):
                _push(url, market)
                time.sleep(1.2)
            after = c.get("/api/v1/status", headers=v).json()
            assert after["last_block"] >= block + 2, "blocks keep coming"
            assert after["opportunities"]["found"] == found and after["emergency_stop"] and not after["trading"]
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
    audit = _cli(workspace, "engine", "token", "list", "--db", db)
    assert audit.returncode == 0 and viewer not in audit.stdout
