"""REST behaviour: config updates (validated like `mevops config validate`, hot-reloaded), trading
start/stop and emergency stop really stop trades, history paging and filters, audit, no secrets."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

import httpx

from tests.api.world import STRATEGY, api_world


async def settle(w, blocks: int = 4) -> None:
    start = w.engine.metrics.last_block
    while w.engine.metrics.last_block < start + blocks:
        await asyncio.sleep(0.02)


def test_invalid_config_update_is_refused_with_locations_and_changes_nothing(workspace):
    async def scenario():
        async with api_world(workspace) as w:
            limits_before = w.service.risk.limits
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("admin")) as c:
                bad_type = await c.post("/api/v1/config/update", json={"changes": {"global.networking.rpc_timeout": "soon"}})
                cross_file = await c.post("/api/v1/config/update",
                                          json={"changes": {"risk_limits.global_limits.max_daily_loss": "100 USD"}})
                unknown = await c.post("/api/v1/config/update", json={"changes": {"global.no_such_section": 1}})
                status = (await c.get("/api/v1/status")).json()
            return bad_type, cross_file, unknown, status, w.service.risk.limits is limits_before, w.service.overrides

    bad_type, cross_file, unknown, status, same_limits, overrides = asyncio.run(scenario())
    assert bad_type.status_code == 422
    assert bad_type.json()["problems"][0]["file"] == "api:global.networking.rpc_timeout"
    problems = cross_file.json()["problems"]
    assert cross_file.status_code == 422 and any(p["file"].endswith("mev/config/risk-limits.yml") and p["line"] for p in problems)
    assert unknown.status_code == 422 and "no_such_section" in unknown.text
    assert same_limits and overrides == {} and status["config_version"] == 0


def test_valid_config_update_hot_reloads_the_risk_limits(workspace):
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("admin")) as c:
                await settle(w)
                before = [o["status"] for o in (await c.get(f"/api/v1/opportunities?limit=3&strategy={STRATEGY}")).json()["items"]]
                # the scripted trades net ~0.02 ETH: a 1 ETH threshold must refuse them from now on
                update = await c.post("/api/v1/config/update", json={"changes": {"mev.min_profit_threshold": "1 ETH"}})
                mark = w.service.hub.topics["trades"].seq
                await settle(w)
                after = [m["data"] for m in w.service.hub.topics["trades"].buffer
                         if m["seq"] > mark and m["data"]["strategy"] == STRATEGY]
                status = (await c.get("/api/v1/status")).json()
        return before, update, after, status, w.engine.running

    before, update, after, status, _ = asyncio.run(scenario())
    assert before and set(before) == {"paper"}
    assert update.status_code == 200 and update.json()["config_version"] == 1
    assert after and all(t["status"] == "refused" and "min_profit" in t["reason"] for t in after)
    assert status["running"] and status["config_version"] == 1


def test_emergency_stop_stops_trading_until_resumed_and_started(workspace):
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("operator")) as c:
                await settle(w)
                stop = await c.post("/api/v1/risk/emergency-stop", json={"reason": "test drill"})
                mark = w.service.hub.topics["opportunities"].seq
                await settle(w, 6)
                found_while_stopped = w.service.hub.topics["opportunities"].seq - mark
                refused_start = await c.post("/api/v1/trading/start")
                risk = (await c.get("/api/v1/risk")).json()
                resume = await c.post("/api/v1/risk/resume")
                start = await c.post("/api/v1/trading/start")
                mark = w.service.hub.topics["opportunities"].seq
                await settle(w)
                found_after = w.service.hub.topics["opportunities"].seq - mark
                alerts = [m["data"]["alert"] for m in w.service.hub.topics["alerts"].buffer]
        return stop, found_while_stopped, refused_start, risk, resume, start, found_after, alerts

    stop, found_while_stopped, refused_start, risk, resume, start, found_after, alerts = asyncio.run(scenario())
    assert stop.status_code == 200 and stop.json()["trading"] is False
    assert found_while_stopped == 0, "no trade is proposed while stopped"
    assert refused_start.status_code == 409 and "emergency stop" in refused_start.json()["detail"]
    assert "test drill" in risk["emergency_stop"]
    assert resume.status_code == 200 and start.status_code == 200 and found_after > 0
    assert alerts[:1] == ["emergency_stop"] and "trading_started" in alerts


def test_strategy_disable_and_unknown(workspace):
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("operator")) as c:
                off = await c.post("/api/v1/strategies/eth-usdc-dex-arbitrage/disable")
                mark = w.service.hub.topics["opportunities"].seq
                await settle(w)
                found = sum(1 for m in w.service.hub.topics["opportunities"].buffer
                            if m["seq"] > mark and m["data"]["strategy"] == STRATEGY)
                listed = (await c.get("/api/v1/strategies")).json()["items"]
                unknown = await c.post("/api/v1/strategies/nope/enable")
                not_loaded = await c.post("/api/v1/strategies/private-flow-guard/enable")
        return off, found, listed, unknown, not_loaded

    off, found, listed, unknown, not_loaded = asyncio.run(scenario())
    assert off.json() == {"name": "eth-usdc-dex-arbitrage", "enabled": False} and found == 0
    row = next(s for s in listed if s["name"] == "eth-usdc-dex-arbitrage")
    assert row["loaded"] and not row["enabled"] and row["stage"] == "active"
    assert unknown.status_code == 404 and not_loaded.status_code == 409


def test_trade_history_pages_and_filters(workspace):
    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            t0 = datetime(2026, 1, 1, tzinfo=UTC)
            for i in range(23):
                w.store.record_signed_trade(f"t{i:02d}", i, f"0x{i:064x}", b"\x02raw", chain="ethereum" if i % 2 else "base",
                                            strategy="s-a" if i % 3 else "s-b", sender="0x" + "ab" * 20, token="0x" + "11" * 20,
                                            amount_in=10**30 + i, at=t0 + timedelta(minutes=i))
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("viewer")) as c:
                p1 = (await c.get("/api/v1/history/trades", params={"page_size": 10})).json()
                p3 = (await c.get("/api/v1/history/trades", params={"page_size": 10, "page": 3})).json()
                eth = (await c.get("/api/v1/history/trades", params={"chain": "ethereum", "strategy": "s-b"})).json()
                window = (await c.get("/api/v1/history/trades", params={
                    "since": (t0 + timedelta(minutes=5)).isoformat(), "until": (t0 + timedelta(minutes=8)).isoformat()})).json()
                bad = await c.get("/api/v1/history/trades", params={"page_size": 0})
        return p1, p3, eth, window, bad

    p1, p3, eth, window, bad = asyncio.run(scenario())
    assert (p1["total"], p1["pages"], len(p1["items"]), len(p3["items"])) == (23, 3, 10, 3)
    assert p1["items"][0]["id"] == "t22" and p1["items"][0]["amount_in"] == str(10**30 + 22), "newest first, exact amounts"
    assert {t["id"] for t in eth["items"]} == {f"t{i:02d}" for i in range(23) if i % 2 and not i % 3}
    assert [t["id"] for t in window["items"]] == ["t07", "t06", "t05"]
    assert "raw_tx" not in p1["items"][0] and bad.status_code == 422


def test_audit_log_records_mutations_without_secrets(workspace):
    async def scenario():
        async with api_world(workspace, start_engine=False) as w:
            async with httpx.AsyncClient(base_url=w.url) as c:
                await c.post("/api/v1/trading/stop", headers=w.headers("operator"))
                made = (await c.post("/api/v1/tokens", json={"name": "ci", "role": "viewer"}, headers=w.headers("admin"))).json()
                await c.post("/api/v1/config/update", json={"changes": {"global.logging.level": "DEBUG"}}, headers=w.headers("admin"))
                log = (await c.get("/api/v1/audit", headers=w.headers("admin"))).json()["items"]
                everything = "".join([(await c.get(p, headers=w.headers("admin"))).text for p in (
                    "/api/v1/status", "/api/v1/metrics", "/api/v1/tokens", "/api/v1/audit", "/api/v1/strategies", "/api/v1/risk")])
                everything += (await c.get("/metrics")).text
            db = (workspace / "engine.db").read_bytes()
        return made, log, everything, db, w.tokens

    made, log, everything, db, tokens = asyncio.run(scenario())
    actions = [(e["action"], e["who"].split(":")[-1]) for e in log]
    assert actions[:3] == [("config.update", "test-admin"), ("token.create", "test-admin"), ("trading.stop", "test-operator")]
    for secret in (made["token"], *tokens.values()):
        assert secret not in everything and secret.encode() not in db
