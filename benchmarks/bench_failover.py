"""Signer failover: how long after the active replica dies a standby becomes the active signer.

Real replica processes (``tests/lease_replica.py``, a ``SignerLease`` each) against a real,
throwaway PostgreSQL cluster (``tests/postgres.py``; skipped with a message when ``initdb`` or
psycopg is missing) and, for comparison, SQLite's flock. Two replicas at a time: kill -9 the active
one at a random moment of the standby's poll cycle, time until the standby reports ``active`` (wall
clock, same host), start a fresh standby, repeat. Then the frozen holder (SIGSTOP: what a hung or
cut-off host looks like to the server), which only the server-side ``idle_session_timeout`` (ttl)
frees. Last, the cost of ``SignerLease.confirm()`` (one round trip), should the runtime check the
lease in the database before every signature.

Target: takeover < 5 s. Baseline in the same run: the standby's poll interval (the floor of a
kill -9 takeover: a standby notices a free lock at its next try, on average half an interval later).
Run: `python benchmarks/bench_failover.py` (about a minute).
"""

from __future__ import annotations

import asyncio
import random
import signal
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from mevops.engine.lease import SignerLease
from mevops.engine.store import Store
from tests.lease_replica import CHAIN, DEV_ADDRESS, Replica
from tests.postgres import ClusterUnavailable, fresh_database, throwaway_cluster

TARGET_S = 5.0
POLL_S = 1.0
KILLS = 8
FREEZES = 3
CONFIRMS = 2000


def kill_9_takeovers(url: str, kills: int) -> list[float]:
    active, figures, started = Replica(url, "r0", poll_s=POLL_S), [], []
    started.append(active)
    try:
        active.wait_for("active", 30)
        for i in range(kills):
            standby = Replica(url, f"r{i + 1}", poll_s=POLL_S)
            started.append(standby)
            standby.wait_for("standby", 30)
            time.sleep(random.uniform(0, POLL_S))  # a random phase of the standby's poll cycle
            killed_at = active.signal(signal.SIGKILL)
            figures.append(standby.wait_for("active", 15)["t"] - killed_at)
            active = standby
    finally:
        for replica in started:
            replica.stop()
    return figures


def freeze_takeovers(url: str, runs: int) -> list[float]:
    figures = []
    for i in range(runs):
        frozen, standby = Replica(url, f"f{i}a", poll_s=POLL_S), None
        try:
            frozen.wait_for("active", 30)
            standby = Replica(url, f"f{i}b", poll_s=POLL_S)
            standby.wait_for("standby", 30)
            time.sleep(random.uniform(0, POLL_S))
            stopped_at = frozen.signal(signal.SIGSTOP)
            figures.append(standby.wait_for("active", 15)["t"] - stopped_at)
        finally:
            frozen.stop()
            if standby is not None:
                standby.stop()
    return figures


async def confirm_latencies(url: str, n: int) -> list[float]:
    async with SignerLease(url, CHAIN, DEV_ADDRESS, holder="bench", poll_s=POLL_S) as lease:
        out = []
        for _ in range(n):
            start = time.perf_counter()
            assert await lease.confirm()
            out.append(time.perf_counter() - start)
        return out


def line(name: str, figures: list[float]) -> None:
    worst = max(figures)
    print(f"{name:<36} median {statistics.median(figures):6.3f} s  max {worst:6.3f} s  (n={len(figures)})  "
          f"target < {TARGET_S:.0f} s: {'met' if worst < TARGET_S else 'MISSED'} ({TARGET_S / worst:.1f}x headroom)")


def migrated(url: str) -> str:
    with Store(url) as store:
        store.migrate()
    return url


def main() -> None:
    print(f"baseline: standby poll interval {POLL_S:.1f} s (keep-alive {POLL_S:.1f} s, PostgreSQL ttl {max(3.0, 3 * POLL_S):.1f} s)")
    try:
        with throwaway_cluster() as cluster, fresh_database(cluster) as url:
            migrated(url)
            line("postgresql kill -9 → takeover", kill_9_takeovers(url, KILLS))
            line("postgresql frozen holder → takeover", freeze_takeovers(url, FREEZES))
            confirms = sorted(asyncio.run(confirm_latencies(url, CONFIRMS)))
            print(f"{'postgresql confirm() round trip':<36} median {statistics.median(confirms) * 1e3:.3f} ms  "
                  f"p99 {confirms[int(len(confirms) * 0.99)] * 1e3:.3f} ms  (n={CONFIRMS}, loopback)")
    except ClusterUnavailable as exc:
        print(f"postgresql: skipped ({exc})")
    with tempfile.TemporaryDirectory(prefix="mevops-failover-") as tmp:
        line("sqlite flock kill -9 → takeover", kill_9_takeovers(migrated(f"sqlite:///{tmp}/engine.db"), KILLS))


if __name__ == "__main__":
    main()
