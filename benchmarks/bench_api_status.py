"""API speed: `GET /api/v1/status` under load on loopback while the engine processes blocks.

A real `mevops engine run` (paper) follows a real anvil mining a block every second, with the
demo market deployed and a swap pushed every block so the engine has work. A load generator
(asyncio, raw HTTP/1.1 keep-alive, one process) keeps CONNECTIONS requests in flight for
DURATION seconds with a viewer token. Baseline in the same run, same generator: `GET /healthz`
(no auth, no JSON body worth the name), i.e. what the server and the generator cost by themselves.

Target: >= 2,000 req/s and p99 <= 25 ms for /api/v1/status on this 2-core machine.
Run: `python benchmarks/bench_api_status.py`.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

from anvil_market import anvil, deploy, percentile

CONNECTIONS = 16
DURATION = 8.0
WARMUP = 1.0
TARGET_RPS = 2000
TARGET_P99_MS = 25.0


async def load(host: str, port: int, path: str, token: str | None, duration: float) -> tuple[int, list[float], int]:
    """(ok responses, latencies in seconds, errors) over ``duration`` after a warm-up."""
    auth = f"Authorization: Bearer {token}\r\n" if token else ""
    request = f"GET {path} HTTP/1.1\r\nHost: {host}\r\n{auth}\r\n".encode()
    latencies: list[float] = []
    counts = {"ok": 0, "err": 0}
    start = time.perf_counter()
    measure_from = start + WARMUP
    stop_at = measure_from + duration

    async def worker() -> None:
        reader, writer = await asyncio.open_connection(host, port)
        try:
            while True:
                sent = time.perf_counter()
                if sent >= stop_at:
                    return
                writer.write(request)
                head = await reader.readuntil(b"\r\n\r\n")
                match = re.search(rb"content-length: (\d+)", head, re.IGNORECASE)
                await reader.readexactly(int(match.group(1)) if match else 0)
                done = time.perf_counter()
                if sent >= measure_from:
                    if head.startswith(b"HTTP/1.1 200"):
                        counts["ok"] += 1
                        latencies.append(done - sent)
                    else:
                        counts["err"] += 1
        finally:
            writer.close()

    await asyncio.gather(*(worker() for _ in range(CONNECTIONS)))
    return counts["ok"], latencies, counts["err"]


def pusher(url: str, market, stop: threading.Event) -> None:  # noqa: ANN001
    """One swap per block on dex 0 so the engine has pool events and opportunities to evaluate."""
    from mevops.contracts.transactions import encode_call
    from mevops.engine.demo import DEV_ACCOUNTS
    import urllib.request

    pair = market.pair("WETH", "USDC", 0)
    n = 0
    while not stop.wait(1.0):
        n += 1
        path = [market.weth, market.address("USDC")] if n % 2 else [market.address("USDC"), market.weth]
        amount = 3 * 10**18 if n % 2 else 9000 * 10**6
        call = encode_call("UniswapV2Router", "swapExactTokensForTokens", amount, 0, path, DEV_ACCOUNTS[2], 2**63)
        body = json.dumps({"jsonrpc": "2.0", "id": 1, "method": "eth_sendTransaction", "params": [
            {"from": DEV_ACCOUNTS[2], "to": market.routers[pair.dex], "data": "0x" + call.hex(), "gas": hex(300_000)}]}).encode()
        try:
            urllib.request.urlopen(urllib.request.Request(url, data=body, headers={"content-type": "application/json"}),
                                   timeout=5).read()
        except OSError:
            pass


def main() -> int:
    python = sys.executable
    with tempfile.TemporaryDirectory(prefix="mevops-bench-api-") as tmp, anvil("--block-time", "1") as url:
        tmp_path = Path(tmp)
        ws = tmp_path / "ws"
        subprocess.run([python, "-m", "mevops", "init", str(ws), "--chains", "ethereum"], check=True, stdout=subprocess.DEVNULL)
        market, _, _, _ = asyncio.run(deploy(url))
        (tmp_path / "market.json").write_text(json.dumps(market.to_dict()))
        db = f"sqlite:///{tmp}/engine.db"
        env = {**os.environ, "PYTHONUNBUFFERED": "1",
               "MEVOPS_GLOBAL__SECURITY__API_RATE_LIMITS__DEFAULT": "100000000/second"}
        token = subprocess.run([python, "-m", "mevops", "-w", str(ws), "engine", "token", "create", "--role", "viewer",
                                "--db", db], check=True, capture_output=True, text=True, env=env).stdout.strip()
        engine = subprocess.Popen([python, "-m", "mevops", "-w", str(ws), "engine", "run", "--market", str(tmp_path / "market.json"),
                                   "--rpc", url, "--db", db, "--api-port", "0"], stderr=subprocess.PIPE, text=True, env=env)
        stop = threading.Event()
        push = threading.Thread(target=pusher, args=(url, market, stop), daemon=True)
        try:
            line = engine.stderr.readline()
            match = re.search(r"engine API on http://([\d.]+):(\d+)", line)
            if not match:
                raise SystemExit(f"the engine did not start its API: {line}{engine.stderr.read()}")
            host, port = match.group(1), int(match.group(2))
            push.start()
            import urllib.request

            def status() -> dict:
                req = urllib.request.Request(f"http://{host}:{port}/api/v1/status", headers={"Authorization": f"Bearer {token}"})
                return json.loads(urllib.request.urlopen(req, timeout=5).read())

            time.sleep(2.5)
            before = status()
            base_ok, base_lat, base_err = asyncio.run(load(host, port, "/healthz", None, DURATION))
            ok, lat, err = asyncio.run(load(host, port, "/api/v1/status", token, DURATION))
            after = status()
        finally:
            stop.set()
            engine.terminate()
            engine.wait(30)
    rps, base_rps = ok / DURATION, base_ok / DURATION
    p50, p99 = percentile(lat, 0.5) * 1000, percentile(lat, 0.99) * 1000
    blocks = after["blocks_processed"] - before["blocks_processed"]
    print(f"engine: paper, anvil block time 1 s, one swap per block; {blocks} blocks processed during the load "
          f"({after['opportunities']['found'] - before['opportunities']['found']} opportunities)")
    print(f"load: {CONNECTIONS} keep-alive connections, {DURATION:.0f} s each, one Python generator process (shares the 2 cores)")
    print(f"GET /healthz (baseline)   {base_rps:8.0f} req/s  p50 {percentile(base_lat, 0.5) * 1000:6.2f} ms  "
          f"p99 {percentile(base_lat, 0.99) * 1000:6.2f} ms  errors {base_err}")
    print(f"GET /api/v1/status        {rps:8.0f} req/s  p50 {p50:6.2f} ms  p99 {p99:6.2f} ms  errors {err}  "
          f"ratio to baseline {rps / base_rps:4.2f}x")
    rps_ok, p99_ok = rps >= TARGET_RPS, p99 <= TARGET_P99_MS
    print(f"target >= {TARGET_RPS} req/s: {'met' if rps_ok else 'MISSED'}; target p99 <= {TARGET_P99_MS:.0f} ms: "
          f"{'met' if p99_ok else 'MISSED'}; engine kept processing blocks: {'yes' if blocks >= DURATION else 'NO'}")
    return 0 if rps_ok and p99_ok and err == 0 and blocks >= DURATION else 1


if __name__ == "__main__":
    sys.exit(main())
