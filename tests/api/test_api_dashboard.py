"""What the web dashboard reads beyond the engine API's first cut: who the token is, realised PnL
over time (exact integers), the nodes of the lifecycle layer (a real anvil started and stopped by
the process backend), the nodes stream, and the built dashboard served under ``/`` with headers
that keep it to its own origin."""

from __future__ import annotations

import asyncio
import json
import time
from datetime import UTC, datetime, timedelta

import httpx
import pytest
from websockets.asyncio.client import connect

from mevops.lifecycle import monitor as nodes_mod
from tests.api.world import STRATEGY, WETH, api_world

OTHER = "0x" + "33" * 20


def test_whoami_names_the_token_and_its_role(workspace):
    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            async with httpx.AsyncClient(base_url=w.url) as c:
                return [(await c.get("/api/v1/whoami", headers=w.headers(role))).json() for role in ("viewer", "operator", "admin")], \
                    (await c.get("/api/v1/whoami")).status_code

    answers, anonymous = asyncio.run(scenario())
    assert [a["role"] for a in answers] == ["viewer", "operator", "admin"]
    assert answers[0]["name"] == "test-viewer" and isinstance(answers[0]["token_id"], int)
    assert all("token" not in a for a in answers) and anonymous == 401


def test_pnl_is_cumulative_per_token_exact_and_ordered(workspace):
    big = 2**70 + 12345          # beyond 2**53 and 2**64: must stay exact
    now = datetime.now(UTC)

    def trade(store, n, token, profit, at, status="mined"):
        store.record_signed_trade(f"t{n}", n, f"0x{n:064x}", b"\x01", chain="ethereum", strategy=STRATEGY,
                                  sender="0x" + "44" * 20, token=token, at=at)
        if status == "mined":
            store.mark_mined(f"t{n}", block=100 + n, gas_used=100_000, effective_gas_price=10**9, realized_profit=profit, at=at)
        else:
            store.mark_reverted(f"t{n}", block=100 + n, gas_used=50_000, effective_gas_price=10**9, at=at)

    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            trade(w.store, 1, WETH, 10**16, now - timedelta(minutes=30))
            trade(w.store, 2, OTHER, big, now - timedelta(minutes=20))
            trade(w.store, 3, WETH, 3 * 10**16, now - timedelta(minutes=10))
            trade(w.store, 4, WETH, None, now - timedelta(minutes=5), status="reverted")
            trade(w.store, 5, WETH, 10**18, now - timedelta(days=3))     # outside the default 24 h
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("viewer")) as c:
                day = (await c.get("/api/v1/history/pnl")).json()
                week = (await c.get("/api/v1/history/pnl", params={"since": (now - timedelta(days=7)).isoformat()})).json()
                bad = await c.get("/api/v1/history/pnl", params={"since": "yesterday"})
            return day, week, bad

    day, week, bad = asyncio.run(scenario())
    by_symbol = {s["symbol"]: s for s in day["series"]}
    weth = by_symbol["WETH"]
    assert weth["decimals"] == 18 and [p["cumulative"] for p in weth["points"]] == [str(10**16), str(4 * 10**16)]
    assert [p["tx_hash"] for p in weth["points"]] == [f"0x{1:064x}", f"0x{3:064x}"]
    other = next(s for s in day["series"] if s["token"] == OTHER)
    assert other["points"][0]["cumulative"] == str(big) and other["symbol"].startswith("0x3333")
    assert day["trades"] == 3 and day["gas_spent_wei"] == str(3 * 100_000 * 10**9)
    assert day["tokens"] == {WETH: {"symbol": "WETH", "decimals": 18}}   # what the engine knows, for the UI's amounts
    assert day["realized_usd"] == pytest.approx(4 * 10**16 * 3000 / 10**18)   # the other token has no price: left out
    week_weth = next(s for s in week["series"] if s["symbol"] == "WETH")
    assert [p["cumulative"] for p in week_weth["points"]] == [str(10**18), str(10**18 + 10**16), str(10**18 + 4 * 10**16)]
    assert bad.status_code == 422


def test_summarise_takes_head_lag_peers_and_sync_from_the_health_reports():
    from types import SimpleNamespace

    from mevops.lifecycle.health import HealthReport

    node = SimpleNamespace(name="ethereum/mainnet", chain=SimpleNamespace(name="ethereum"),
                           network=SimpleNamespace(key="mainnet", backend="docker"))
    el = HealthReport("ethereum/mainnet", "geth", "eth_syncing", "http://127.0.0.1:8545", head=19_000_000, peers=25,
                      syncing=True, lag=42, reference_head=19_000_042)
    el.add("syncing", False, "syncing: {'currentBlock': '0x1'}")
    el.add("peers", True, "25 (min 1)")
    el.add("lag", False, "42 blocks behind the reference (max 10)")
    cl = HealthReport("ethereum/mainnet", "lighthouse", "beacon_syncing", "http://127.0.0.1:5052", head=8_000_000, syncing=False)
    cl.add("syncing", True, "head slot 8000000, distance 0")
    for r in (el, cl):
        r.healthy = all(c.ok for c in r.checks)
    row = nodes_mod.summarise(node, [{"service": "geth", "client": "geth", "state": "running", "pid": 7, "detail": ""}],
                              [el, cl], None)
    assert (row["head"], row["lag"], row["peers"], row["syncing"]) == (19_000_000, 42, 25, True)
    assert row["running"] and not row["healthy"] and row["backend"] == "docker"
    assert {(c["client"], c["name"]) for c in row["checks"]} >= {("geth", "lag"), ("lighthouse", "syncing")}


def test_nodes_follow_a_real_node_up_backed_up_and_down(workspace, tmp_path, monkeypatch):
    """ethereum/local: anvil started and stopped by the process backend, exactly as the demo does."""
    from mevops.engine.demo import start_local_node
    from mevops.lifecycle.backup import backup_dir

    rpc, backend, node = start_local_node(tmp_path / "n")
    monitor = nodes_mod.NodeMonitor(lambda: [node], interval=0.2)
    try:
        async def scenario():
            async with api_world(workspace, start_engine=False, node_monitor=monitor) as w:
                async with httpx.AsyncClient(base_url=w.url, headers=w.headers("viewer")) as c:
                    async with connect(w.url.replace("http", "ws") + "/api/v1/stream/nodes") as stream:
                        await stream.send(json.dumps({"token": w.tokens["viewer"]}))
                        first = json.loads(await asyncio.wait_for(stream.recv(), 10))
                    up = (await c.get("/api/v1/nodes")).json()
                    archive = backup_dir(node) / "ethereum-local-20260101T000000Z.tar.gz"
                    archive.parent.mkdir(parents=True, exist_ok=True)
                    archive.write_bytes(b"x" * 321)
                    await asyncio.to_thread(backend.down, node)
                    deadline = time.monotonic() + 10
                    while time.monotonic() < deadline:
                        down = (await c.get("/api/v1/nodes")).json()
                        if down["items"] and not down["items"][0]["running"] and down["items"][0]["last_backup"]:
                            break
                        await asyncio.sleep(0.2)
                    return first, up, down

        first, up, down = asyncio.run(scenario())
    finally:
        backend.down(node)
    assert first["topic"] == "nodes" and first["data"]["items"][0]["name"] == "ethereum/local"
    row = up["items"][0]
    assert row["running"] and row["healthy"] and row["backend"] == "process" and row["syncing"] is False
    assert isinstance(row["head"], int) and row["services"][0]["state"] == "running" and row["last_backup"] is None
    gone = down["items"][0]
    assert not gone["running"] and not gone["healthy"] and gone["head"] is None
    assert gone["services"][0]["state"] in ("stopped", "crashed")
    assert gone["last_backup"]["archive"] == "ethereum-local-20260101T000000Z.tar.gz" and gone["last_backup"]["bytes"] == 321


def test_a_hanging_backend_never_blocks_the_api(workspace, monkeypatch):
    """A backend whose status call hangs (a docker client waiting on a dead socket) is reported as
    not answering; token lookups (the loop's default pool) keep working meanwhile."""
    from types import SimpleNamespace

    monkeypatch.setattr(nodes_mod, "STATUS_TIMEOUT_S", 0.3)
    release = __import__("threading").Event()
    monkeypatch.setattr(nodes_mod, "_services", lambda node: (release.wait(20), [])[1])

    async def fake_health(node, *a, **k):   # no client to ask: an empty report list
        return []

    monkeypatch.setattr("mevops.lifecycle.health.check_node", fake_health)
    fake_nodes = [SimpleNamespace(name=f"chain{i}/mainnet", chain=SimpleNamespace(name=f"chain{i}", dir="/nonexistent"),
                                  network=SimpleNamespace(key="mainnet", backend="docker"),
                                  services=[SimpleNamespace(name="geth")]) for i in range(8)]
    monitor = nodes_mod.NodeMonitor(lambda: fake_nodes, interval=0.1)

    async def scenario():
        try:
            async with api_world(workspace, start_engine=False, node_monitor=monitor) as w:
                await asyncio.sleep(1.0)   # several rounds, each with 8 hanging status calls
                async with httpx.AsyncClient(base_url=w.url, headers=w.headers("viewer"), timeout=5) as c:
                    started = time.monotonic()
                    answer = (await c.get("/api/v1/nodes")).json()
                    return answer, time.monotonic() - started
        finally:
            release.set()

    answer, took = asyncio.run(scenario())
    assert len(answer["items"]) == 8 and took < 2
    assert all(r["services"][0]["state"] == "unknown" and "did not answer" in r["services"][0]["detail"] for r in answer["items"])


@pytest.fixture
def built(tmp_path, monkeypatch):
    static = tmp_path / "static"
    (static / "assets").mkdir(parents=True)
    (static / "index.html").write_text('<!doctype html><script type="module" src="./assets/index-abc123.js"></script>')
    (static / "assets" / "index-abc123.js").write_text("console.log('mevops')")
    (static / "favicon.svg").write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")
    (tmp_path / "secret.txt").write_text("outside the static dir")
    monkeypatch.setattr("mevops.web.STATIC", static)
    return static


def test_the_dashboard_is_served_under_root_with_its_headers(workspace, built):
    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            async with httpx.AsyncClient(base_url=w.url) as c:
                return {path: await c.get(path) for path in ("/", "/assets/index-abc123.js", "/favicon.svg", "/nope.svg",
                                                              "/assets/missing.js", "/assets/../../secret.txt",
                                                              "/%2e%2e/secret.txt", "/healthz", "/openapi.json")}

    r = asyncio.run(scenario())
    index = r["/"]
    assert index.status_code == 200 and "index-abc123.js" in index.text and index.headers["cache-control"] == "no-cache"
    csp = index.headers["content-security-policy"]
    assert "default-src 'self'" in csp and "connect-src 'self' ws: wss:" in csp and "frame-ancestors 'none'" in csp
    asset = r["/assets/index-abc123.js"]
    assert asset.status_code == 200 and "immutable" in asset.headers["cache-control"] and asset.text == "console.log('mevops')"
    assert r["/favicon.svg"].status_code == 200
    assert all(r[p].status_code == 404 for p in ("/nope.svg", "/assets/missing.js", "/assets/../../secret.txt", "/%2e%2e/secret.txt"))
    assert r["/healthz"].status_code in (200, 503) and "paths" in r["/openapi.json"].json()
    assert "/" not in r["/openapi.json"].json()["paths"]


def test_without_a_build_root_says_how_to_build(workspace, tmp_path, monkeypatch):
    monkeypatch.setattr("mevops.web.STATIC", tmp_path / "nothing")

    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            async with httpx.AsyncClient(base_url=w.url) as c:
                return await c.get("/"), await c.get("/assets/x.js")

    root, asset = asyncio.run(scenario())
    assert root.status_code == 503 and "npm --prefix web run build" in root.text and asset.status_code == 404


def test_the_exporter_turns_health_reports_into_node_metrics():
    """mevops_node_* from what the health checks measured: per client, the reference head per node,
    rpc_up 0 for a client that did not answer (and no head for it)."""
    from types import SimpleNamespace

    from prometheus_client.exposition import generate_latest
    from prometheus_client.parser import text_string_to_metric_families

    from mevops.lifecycle.exporter import make_registry
    from mevops.lifecycle.health import HealthReport

    node = SimpleNamespace(name="ethereum/mainnet", chain=SimpleNamespace(name="ethereum"),
                           network=SimpleNamespace(key="mainnet", backend="docker"),
                           services=[SimpleNamespace(name="geth", role="execution"), SimpleNamespace(name="lighthouse", role="consensus")])
    el = HealthReport("ethereum/mainnet", "geth", "eth_syncing", "u", head=100, latency_ms=12.0, peers=25, syncing=False,
                      lag=3, reference_head=103)
    el.add("syncing", True, "synced")
    cl = HealthReport("ethereum/mainnet", "lighthouse", "beacon_syncing", "u")
    cl.add("rpc", False, "unreachable: ConnectError")
    monitor = nodes_mod.NodeMonitor(lambda: [node])
    monitor.reports[node.name] = (node, [el, cl])
    text = generate_latest(make_registry(monitor)).decode()
    samples = {(s.name, s.labels.get("client", "")): s for f in text_string_to_metric_families(text) for s in f.samples}
    assert samples[("mevops_node_head_block", "geth")].value == 100
    assert samples[("mevops_node_head_block", "geth")].labels == {"chain": "ethereum", "network": "mainnet", "client": "geth",
                                                                   "role": "execution"}
    assert samples[("mevops_node_peers", "geth")].value == 25 and samples[("mevops_node_syncing", "geth")].value == 0
    assert samples[("mevops_node_rpc_latency_seconds", "geth")].value == 0.012
    assert samples[("mevops_node_reference_head_block", "")].value == 103
    assert samples[("mevops_node_rpc_up", "geth")].value == 1 and samples[("mevops_node_rpc_up", "lighthouse")].value == 0
    assert ("mevops_node_head_block", "lighthouse") not in samples
