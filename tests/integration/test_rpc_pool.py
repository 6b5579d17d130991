"""RpcPool failover against two real anvils: kill the primary mid-stream."""

from __future__ import annotations

import asyncio
import time

import pytest

from mevops.engine.chain.rpc_pool import NoHealthyEndpoint, RpcError, RpcPool


def test_failover_keeps_requests_succeeding_and_switches_fast(start_anvil):
    primary, primary_proc = start_anvil(chain_id=31337, block_time=1)
    standby, _ = start_anvil(chain_id=31337, block_time=1)

    async def scenario() -> tuple[int, int, float, RpcPool]:
        async with RpcPool([primary, standby], interval=0.5, timeout=1.0) as pool:
            assert pool.active.url == primary
            ok = failed = 0
            killed_at = None
            deadline = time.monotonic() + 4
            while time.monotonic() < deadline:
                if killed_at is None and ok >= 50:
                    primary_proc.kill()
                    killed_at = time.monotonic()
                try:
                    await pool.request("eth_chainId")
                    ok += 1
                except NoHealthyEndpoint:
                    failed += 1
                await asyncio.sleep(0.005)
            switch = next(s for s in pool.switches if s.new == standby)
            return ok, failed, switch.at - killed_at, pool

    ok, failed, switch_s, pool = asyncio.run(scenario())
    assert failed == 0
    assert ok > 100
    assert switch_s < 5.0, f"switch took {switch_s:.2f}s"
    print(f"failover switch time: {switch_s * 1000:.0f} ms")


def test_switch_back_with_hysteresis(start_anvil):
    standby, _ = start_anvil(chain_id=31337)
    import socket

    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    primary_url = f"http://127.0.0.1:{port}"

    async def scenario() -> RpcPool:
        async with RpcPool([primary_url, standby], interval=0.2, timeout=0.5, switch_back_after=3) as pool:
            assert pool.active.url == standby  # the preferred endpoint is down at start
            start_anvil(chain_id=31337, port=port)
            await asyncio.sleep(0.3)
            assert pool.active.url == standby  # not yet: it must stay healthy for 3 checks
            for _ in range(40):
                if pool.active.url == primary_url:
                    break
                await asyncio.sleep(0.1)
            return pool

    pool = asyncio.run(scenario())
    assert pool.active.url == primary_url
    assert [s.new for s in pool.switches] == [standby, primary_url]


def test_rpc_errors_do_not_fail_over(start_anvil):
    primary, _ = start_anvil()
    standby, _ = start_anvil()

    async def scenario() -> RpcPool:
        async with RpcPool([primary, standby]) as pool:
            with pytest.raises(RpcError):
                await pool.request("eth_noSuchMethod")
            return pool

    pool = asyncio.run(scenario())
    assert pool.active.url == primary and not pool.switches


def test_all_down_is_a_clear_error():
    async def scenario() -> None:
        async with RpcPool(["http://127.0.0.1:9", "http://127.0.0.1:7"], timeout=0.3) as pool:
            await pool.request("eth_chainId")

    with pytest.raises(NoHealthyEndpoint):
        asyncio.run(scenario())
