"""WebSocket streams: auth, live messages, resume after reconnect, slow clients dropped (not waited for)."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time

import pytest
import websockets
from websockets.asyncio.client import connect

from tests.api.world import api_world


def ws_url(w, topic: str, since: int | None = None) -> str:
    url = w.url.replace("http://", "ws://") + f"/api/v1/stream/{topic}"
    return url + (f"?since={since}" if since is not None else "")


def test_stream_needs_a_token_header_or_first_message(workspace):
    async def scenario():
        async with api_world(workspace) as w:
            async with connect(ws_url(w, "opportunities")) as anonymous:
                await anonymous.send(json.dumps({"token": "mevops_wrong"}))
                with pytest.raises(websockets.ConnectionClosed) as refused:
                    await asyncio.wait_for(anonymous.recv(), 5)
            async with connect(ws_url(w, "opportunities")) as first_message:
                await first_message.send(json.dumps({"token": w.tokens["viewer"]}))
                by_message = json.loads(await asyncio.wait_for(first_message.recv(), 5))
            async with connect(ws_url(w, "trades"), additional_headers=w.headers("viewer")) as by_header:
                trade = json.loads(await asyncio.wait_for(by_header.recv(), 5))
        return refused.value.rcvd.code, by_message, trade

    code, opportunity, trade = asyncio.run(scenario())
    assert code == 1008
    assert opportunity["topic"] == "opportunities" and opportunity["data"]["strategy"] == "eth-usdc-dex-arbitrage"
    assert trade["topic"] == "trades" and trade["data"]["status"] == "paper"


def test_resume_after_reconnect_loses_nothing_in_the_buffer(workspace):
    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            hub = w.service.hub
            for i in range(10):
                hub.publish("alerts", {"n": i})
            async with connect(ws_url(w, "alerts", since=0), additional_headers=w.headers("viewer")) as ws:
                first = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(10)]
            last = first[-1]["seq"]
            for i in range(10, 60):          # published while the client is away
                hub.publish("alerts", {"n": i})
            async with connect(ws_url(w, "alerts", since=last), additional_headers=w.headers("viewer")) as ws:
                hub.publish("alerts", {"n": 60})  # and one live after the reconnect
                resumed = [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(51)]
            async with connect(ws_url(w, "alerts", since=0), additional_headers=w.headers("viewer")) as ws:
                gap = json.loads(await asyncio.wait_for(ws.recv(), 5))
        return first, resumed, gap

    first, resumed, gap = asyncio.run(scenario())
    assert [m["data"]["n"] for m in first] == list(range(10))
    assert [m["data"]["n"] for m in resumed] == list(range(10, 61))
    assert [m["seq"] for m in resumed] == list(range(first[-1]["seq"] + 1, first[-1]["seq"] + 52))
    assert gap.get("gap") is not True  # 61 messages fit the replay buffer of 1000: nothing was lost


def test_resume_beyond_the_buffer_says_there_is_a_gap(workspace):
    async def scenario():
        async with api_world(workspace, start_engine=False, replay=20) as w:
            for i in range(50):
                w.service.hub.publish("alerts", {"n": i})
            async with connect(ws_url(w, "alerts", since=5), additional_headers=w.headers("viewer")) as ws:
                return [json.loads(await asyncio.wait_for(ws.recv(), 5)) for _ in range(21)]

    messages = asyncio.run(scenario())
    assert messages[0] == {"gap": True}
    assert [m["data"]["n"] for m in messages[1:]] == list(range(30, 50))


async def raw_subscriber(w, topic: str):
    """A WebSocket client that completes the handshake and then reads nothing: its socket buffers
    fill up, as with a stalled dashboard on a bad network."""
    host, port = w.url.removeprefix("http://").split(":")
    reader, writer = await asyncio.open_connection(host, int(port))
    writer.write((f"GET /api/v1/stream/{topic} HTTP/1.1\r\nHost: {host}\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n"
                  "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n"
                  f"Authorization: Bearer {w.tokens['viewer']}\r\n\r\n").encode())
    head = await reader.readuntil(b"\r\n\r\n")
    assert head.startswith(b"HTTP/1.1 101"), head
    return reader, writer


async def close_code(reader) -> int | None:
    """Read server frames (unmasked) until the close frame; its status code."""
    while True:
        try:
            b0, b1 = await asyncio.wait_for(reader.readexactly(2), 10)
        except asyncio.IncompleteReadError:
            return None
        size = b1 & 0x7F
        if size == 126:
            size = int.from_bytes(await reader.readexactly(2), "big")
        elif size == 127:
            size = int.from_bytes(await reader.readexactly(8), "big")
        payload = await reader.readexactly(size)
        if b0 & 0x0F == 0x8:
            return int.from_bytes(payload[:2], "big")


def test_a_slow_client_is_dropped_and_never_stalls_the_engine(workspace):
    async def scenario():
        async with api_world(workspace, tick=0.02, client_buffer=64) as w:
            reader, writer = await raw_subscriber(w, "metrics")
            fast = await connect(ws_url(w, "metrics"), additional_headers=w.headers("viewer"), max_size=None)
            fast_seen = []

            async def read_fast():
                with contextlib.suppress(websockets.ConnectionClosed):
                    async for raw in fast:
                        fast_seen.append(json.loads(raw)["seq"])

            reader_task = asyncio.create_task(read_fast())
            await asyncio.sleep(0.1)
            block_before = w.engine.metrics.last_block
            payload = {"blob": "x" * 20_000}
            worst = 0.0
            for _ in range(3000):               # ~60 MB towards a client that reads nothing
                started = time.perf_counter()
                w.service.hub.publish("metrics", payload)
                worst = max(worst, time.perf_counter() - started)
                await asyncio.sleep(0)
            for _ in range(50):
                if w.service.hub.stats()["metrics"]["dropped_clients"]:
                    break
                await asyncio.sleep(0.1)
            blocks = w.engine.metrics.last_block - block_before
            dropped = w.service.hub.stats()["metrics"]["dropped_clients"]
            code = await close_code(reader)
            writer.close()
            for _ in range(50):
                if len(fast_seen) >= 3000:
                    break
                await asyncio.sleep(0.1)
            await fast.close()
            reader_task.cancel()
        return worst, blocks, dropped, code, fast_seen

    worst, blocks, dropped, code, fast_seen = asyncio.run(scenario())
    assert dropped == 1 and code == 1013
    assert worst < 0.01, f"publishing must never wait for a client (worst {worst * 1000:.1f} ms)"
    assert blocks >= 5, "the engine kept processing blocks"
    assert fast_seen[-3000:] == sorted(set(fast_seen))[-3000:] and len(fast_seen) >= 3000, "the fast client got everything, in order"


def test_metrics_stream_ticks_and_alerts_follow_state_changes(workspace):
    async def scenario():
        async with api_world(workspace, tick=0.02) as w:
            async with connect(ws_url(w, "metrics"), additional_headers=w.headers("viewer")) as metrics, \
                    connect(ws_url(w, "alerts"), additional_headers=w.headers("viewer")) as alerts:
                ticks = [json.loads(await asyncio.wait_for(metrics.recv(), 5)) for _ in range(2)]
                breaker = w.service.risk.breaker("eth-usdc-dex-arbitrage")
                for i in range(breaker.threshold):
                    breaker.on_result(f"x{i}", False, time.time())
                alert = json.loads(await asyncio.wait_for(alerts.recv(), 5))
        return ticks, alert, breaker

    ticks, alert, breaker = asyncio.run(scenario())
    assert ticks[1]["seq"] == ticks[0]["seq"] + 1 and ticks[1]["data"]["blocks_processed"] > ticks[0]["data"]["blocks_processed"]
    assert ticks[0]["data"]["rpc"] == {} and "queues" in ticks[0]["data"]
    assert alert["data"]["alert"] == "circuit_breaker_open" and alert["data"]["breaker"] == "eth-usdc-dex-arbitrage"
