"""`mevops strategy deploy` into a real running engine on anvil takes effect without a restart,
and `mevops strategy disable` stops the strategy's trades from the next block."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import time

import httpx

from tests.integration.test_engine_run import _market, _push

SOURCE = "mev/strategies/active/arbitrage/eth-usdc-dex-arbitrage.yml"


def _cli(workspace, *args, env=None) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "mevops", "-w", str(workspace), *args], capture_output=True, text=True,
                          timeout=60, env={**os.environ, **(env or {})})


def test_deploy_and_disable_reach_the_running_engine(workspace, tmp_path, start_anvil):
    url, _ = start_anvil(chain_id=31337, block_time=1)
    market_file = tmp_path / "market.json"
    market, _ = _market(url, market_file)
    db = f"sqlite:///{tmp_path}/engine.db"
    token = _cli(workspace, "engine", "token", "create", "--role", "operator", "--db", db).stdout.strip()
    proc = subprocess.Popen([sys.executable, "-m", "mevops", "-w", str(workspace), "engine", "run", "--market", str(market_file),
                             "--rpc", url, "--db", db, "--api-port", "0"], stderr=subprocess.PIPE, text=True,
                            env={**os.environ, "PYTHONUNBUFFERED": "1"})
    try:
        match = re.search(r"engine API on (http://[\d.:]+)", proc.stderr.readline())
        assert match
        api, auth = match.group(1), {"Authorization": f"Bearer {token}"}
        pid = proc.pid
        candidate = tmp_path / "dex-arb-b.yml"
        candidate.write_text((workspace / SOURCE).read_text().replace("name: eth-usdc-dex-arbitrage", "name: dex-arb-b"))
        deployed = _cli(workspace, "strategy", "deploy", str(candidate), "--to", "testing", "--api", api, "--token", token)
        assert deployed.returncode == 0 and "added dex-arb-b" in deployed.stdout, deployed.stdout + deployed.stderr
        with httpx.Client(base_url=api, headers=auth, timeout=10) as c:
            listed = {s["name"]: s for s in c.get("/api/v1/strategies").json()["items"]}
            assert listed["dex-arb-b"]["loaded"] and listed["dex-arb-b"]["mode"] == "paper"

            def found() -> int:
                return len(c.get("/api/v1/opportunities", params={"strategy": "dex-arb-b", "limit": 500}).json()["items"])

            deadline = time.monotonic() + 40
            while found() == 0 and time.monotonic() < deadline:
                _push(url, market)
                time.sleep(1.2)
            assert found() > 0, "the deployed strategy trades (on paper) without a restart"
            disabled = _cli(workspace, "strategy", "disable", "dex-arb-b", "--api", api, "--token", token)
            assert disabled.returncode == 0, disabled.stdout + disabled.stderr
            block = c.get("/api/v1/status").json()["last_block"]
            before = found()
            for _ in range(3):
                _push(url, market)
                time.sleep(1.2)
            status = c.get("/api/v1/status").json()
            assert status["last_block"] >= block + 2 and found() == before, "no trade after the disable"
        assert "enabled: false" in (workspace / "mev/strategies/testing/arbitrage/dex-arb-b.yml").read_text()
        assert proc.poll() is None and proc.pid == pid, "the engine was never restarted"
        proc.send_signal(signal.SIGTERM)
        assert proc.wait(30) == 0
    finally:
        if proc.poll() is None:
            proc.kill()
