"""A stand-in engine replica for the signer-lease tests and benchmark: a real process around a
``SignerLease``, reporting what it does as JSON lines on stdout (``event``, wall time ``t``).

Modes:
- ``hold``: stand by, become active, and when the lease is lost stand by again, for ever. Emits
  ``standby``, ``active``, ``inactive`` (``last_active_t``: the last time ``is_active`` read True,
  sampled every 10 ms) and ``lost`` (``reason``).
- ``trade-then-die``: once active and told ``go`` on stdin, take over (``take_over``), sign, record
  and send a transfer, sign and record a second one, emit ``recorded`` and SIGKILL itself before
  sending it — the worst moment for a duplicate.
- ``take-over``: once active, take over, emit ``took-over`` (reconciled trade ids, nonces), sign,
  record and send one transfer with the next nonce (``sent``), settle (``settled``) and exit.

``Replica`` starts one and reads its events (tests and ``benchmarks/bench_failover.py``).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import queue
import signal
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

# anvil's first well-known development account (public test key, funded on every anvil)
DEV_KEY = "0xac0974bec39a17e36ba4a6b4d238ff944bacb478cbed5efcae784d7bf4f2ff80"
DEV_ADDRESS = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"
CHAIN = "ethereum"


def emit(event: str, **fields: Any) -> None:
    print(json.dumps({"event": event, "t": time.time(), "pid": os.getpid(), **fields}), flush=True)


# -- the replica (child process) ---------------------------------------------------------------
async def hold(lease: Any) -> None:
    while True:
        await stand_by(lease)
        last_active, reported = time.time(), False
        while not lease.lost.is_set():
            if lease.is_active:
                last_active, reported = time.time(), False
            elif not reported:
                emit("inactive", last_active_t=last_active)
                reported = True
            await asyncio.sleep(0.01)
        emit("lost", reason=lease.lost_reason, last_active_t=last_active)
        await lease.release()


async def stand_by(lease: Any) -> None:
    said = False
    while not await lease.try_acquire():
        if not said:
            emit("standby")
            said = True
        await asyncio.sleep(lease.poll_s)
    emit("active", state=lease.state())


def transfer(nonce: int, chain_id: int) -> tuple[bytes, str]:
    from eth_account import Account  # imported at start (see main): a slow first import here would stall the loop

    tx = {"type": 2, "chainId": chain_id, "nonce": nonce, "to": "0x" + "11" * 20, "value": 1000 + nonce, "gas": 21000,
          "maxFeePerGas": 10**11, "maxPriorityFeePerGas": 10**9, "data": b""}
    signed = Account.from_key(DEV_KEY).sign_transaction(tx)
    return bytes(signed.raw_transaction), "0x" + bytes(signed.hash).hex()


async def sign_record_send(store: Any, pool: Any, nonces: Any, holder: str, *, send: bool = True) -> dict[str, Any]:
    nonce = await nonces.take()
    raw, tx_hash = transfer(nonce, int(await pool.request("eth_chainId", []), 16))
    trade_id = f"{holder}-{nonce}"
    store.record_signed_trade(trade_id, nonce, tx_hash, raw, chain=CHAIN, strategy="arb", sender=DEV_ADDRESS, token="0xweth")
    if send:
        await pool.request("eth_sendRawTransaction", ["0x" + raw.hex()])
        store.mark_sent(trade_id)
    return {"trade": trade_id, "nonce": nonce, "tx_hash": tx_hash}


async def trade(lease: Any, args: argparse.Namespace) -> None:
    from mevops.engine.chain.rpc_pool import RpcPool
    from mevops.engine.lease import take_over
    from mevops.engine.store import Store, reconcile_pending

    await stand_by(lease)
    with Store(args.url) as store:
        async with RpcPool([args.rpc]) as pool:
            took = await take_over(store, lease, pool)
            emit("took-over", reconciled={k: v for k, v in vars(took.reconciled).items() if v},
                 last_nonce=took.last_nonce, next_nonce=took.next_nonce)
            if args.mode == "trade-then-die":
                await asyncio.to_thread(sys.stdin.readline)  # "go"
                first = await sign_record_send(store, pool, took.nonces, args.holder)
                second = await sign_record_send(store, pool, took.nonces, args.holder, send=False)
                emit("recorded", sent=first, unsent=second)
                os.kill(os.getpid(), signal.SIGKILL)
            sent = await sign_record_send(store, pool, took.nonces, args.holder)
            emit("sent", **sent)
            settled = await reconcile_pending(store, CHAIN, pool, sender=DEV_ADDRESS)
            emit("settled", reconciled={k: v for k, v in vars(settled).items() if v})
    await lease.release()


async def replica(args: argparse.Namespace) -> None:
    from mevops.engine.lease import SignerLease

    lease = SignerLease(args.url, CHAIN, args.address, holder=args.holder, poll_s=args.poll, ttl_s=args.ttl)
    await (hold(lease) if args.mode == "hold" else trade(lease, args))


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--url", required=True)
    parser.add_argument("--holder", required=True)
    parser.add_argument("--address", default=DEV_ADDRESS)
    parser.add_argument("--poll", type=float, default=1.0)
    parser.add_argument("--ttl", type=float, default=None)
    parser.add_argument("--mode", choices=("hold", "trade-then-die", "take-over"), default="hold")
    parser.add_argument("--rpc")
    import eth_account  # noqa: F401 - before the lease: importing it takes seconds on a loaded machine, and a
    # blocked event loop misses keep-alives, so the lease (correctly) counts itself expired
    asyncio.run(replica(parser.parse_args()))


# -- the driver (test side) --------------------------------------------------------------------
class Replica:
    """One replica process; its events are collected by a reader thread."""

    def __init__(self, url: str, holder: str, *, poll_s: float = 1.0, ttl_s: float | None = None, mode: str = "hold",
                 rpc: str | None = None) -> None:
        self.holder = holder
        argv = [sys.executable, __file__, "--url", url, "--holder", holder, "--poll", str(poll_s), "--mode", mode]
        argv += ["--ttl", str(ttl_s)] if ttl_s is not None else []
        argv += ["--rpc", rpc] if rpc else []
        self.stderr = tempfile.TemporaryFile(mode="w+")  # noqa: SIM115 (closed by stop())
        self.proc = subprocess.Popen(argv, stdin=subprocess.PIPE, stdout=subprocess.PIPE, stderr=self.stderr, text=True)
        self.events: list[dict[str, Any]] = []
        self._queue: queue.Queue[dict[str, Any] | None] = queue.Queue()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        assert self.proc.stdout is not None
        for line in self.proc.stdout:
            event = json.loads(line)
            self.events.append(event)
            self._queue.put(event)
        self._queue.put(None)

    def wait_for(self, name: str, timeout: float) -> dict[str, Any]:
        """The first ``name`` event not yet waited for, or AssertionError with the process's stderr."""
        deadline = time.monotonic() + timeout
        while True:
            try:
                event = self._queue.get(timeout=max(0.0, deadline - time.monotonic()))
            except queue.Empty:
                raise AssertionError(f"{self.holder}: no {name!r} within {timeout} s; last events {self.events[-6:]}\n"
                                     f"{self.log()}") from None
            if event is None:
                raise AssertionError(f"{self.holder} exited ({self.proc.wait()}) before {name!r}\n{self.log()}")
            if event["event"] == name:
                return event

    def seen(self, name: str) -> list[dict[str, Any]]:
        return [e for e in list(self.events) if e["event"] == name]

    def tell(self, line: str) -> None:
        assert self.proc.stdin is not None
        self.proc.stdin.write(line + "\n")
        self.proc.stdin.flush()

    def signal(self, sig: int) -> float:
        """Send ``sig``; returns the wall time just before."""
        at = time.time()
        os.kill(self.proc.pid, sig)
        return at

    def log(self) -> str:
        self.stderr.seek(0)
        return self.stderr.read()[-3000:]

    def stop(self) -> None:
        if self.proc.poll() is None:
            os.kill(self.proc.pid, signal.SIGKILL)  # a stopped (SIGSTOP) process dies too
        self.proc.wait(timeout=30)
        self.stderr.close()


if __name__ == "__main__":
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
    main()
