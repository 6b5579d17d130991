"""Strategy hot reload through the API: a broken file is refused with its location and changes
nothing; a file disabled on disk stops its trades; a newly active strategy joins without a restart."""

from __future__ import annotations

import asyncio
import shutil

import httpx

from tests.api.world import STRATEGY, api_world

ACTIVE = "mev/strategies/active/arbitrage"


def test_reload_refuses_a_broken_file_and_keeps_trading(workspace):
    path = workspace / ACTIVE / f"{STRATEGY}.yml"
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("operator")) as c:
                path.write_text(path.read_text().replace("max_position_size: 50000 USD", "max_position_size: lots"))
                refused = await c.post("/api/v1/strategies/reload")
                mark = w.service.hub.topics["opportunities"].seq
                await asyncio.sleep(0.3)
                still = w.service.hub.topics["opportunities"].seq - mark
                detail = (await c.get(f"/api/v1/strategies/{STRATEGY}")).json()
        return refused, still, detail

    refused, still, detail = asyncio.run(scenario())
    assert refused.status_code == 422
    (problem,) = [p for p in refused.json()["problems"] if p["key"] == "parameters.max_position_size"]
    assert problem["file"].endswith(f"{STRATEGY}.yml") and problem["line"] == 18
    assert still > 0 and detail["enabled"] and "max_position_size: 50000 USD" in detail["text"]


def test_disabled_on_disk_stops_trades_after_reload(workspace):
    path = workspace / ACTIVE / f"{STRATEGY}.yml"
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("operator")) as c:
                path.write_text(path.read_text().replace("  enabled: true", "  enabled: false", 1))
                result = (await c.post("/api/v1/strategies/reload")).json()
                block = w.engine.metrics.last_block
                mark = w.service.hub.topics["opportunities"].seq
                while w.engine.metrics.last_block < block + 5:
                    await asyncio.sleep(0.02)
                found = sum(1 for m in w.service.hub.topics["opportunities"].buffer
                            if m["seq"] > mark and m["data"]["strategy"] == STRATEGY)
        return result, found

    result, found = asyncio.run(scenario())
    assert result["disabled"] == [STRATEGY] and found == 0


def test_a_new_active_strategy_joins_the_running_engine(workspace):
    src = workspace / ACTIVE / f"{STRATEGY}.yml"
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("operator")) as c:
                (workspace / ACTIVE / "second-arb.yml").write_text(src.read_text().replace(f"name: {STRATEGY}", "name: second-arb"))
                result = (await c.post("/api/v1/strategies/reload")).json()
                await asyncio.sleep(0.3)
                opportunities = (await c.get("/api/v1/opportunities", params={"strategy": "second-arb"})).json()["items"]
                listed = {s["name"]: s for s in (await c.get("/api/v1/strategies")).json()["items"]}
                again = (await c.post("/api/v1/strategies/reload")).json()
        return result, opportunities, listed, again

    result, opportunities, listed, again = asyncio.run(scenario())
    assert result["added"] == ["second-arb"] and STRATEGY in result["unchanged"]
    assert opportunities and listed["second-arb"]["loaded"] and listed["second-arb"]["enabled"]
    assert again["added"] == [] and {STRATEGY, "second-arb"} <= set(again["unchanged"])


def test_a_strategy_in_testing_paper_trades_and_takes_no_live_slot(workspace):
    src = workspace / ACTIVE / f"{STRATEGY}.yml"
    testing = workspace / "mev/strategies/testing/arbitrage"
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("operator")) as c:
                testing.mkdir(parents=True, exist_ok=True)
                (testing / "candidate-arb.yml").write_text(src.read_text().replace(f"name: {STRATEGY}", "name: candidate-arb"))
                result = (await c.post("/api/v1/strategies/reload")).json()
                mark = w.service.hub.topics["trades"].seq
                await asyncio.sleep(0.4)
                trades = [m["data"] for m in w.service.hub.topics["trades"].buffer
                          if m["seq"] > mark and m["data"]["strategy"] == "candidate-arb"]
                listed = {s["name"]: s for s in (await c.get("/api/v1/strategies")).json()["items"]}
        return result, trades, listed, w.service.risk.active, w.service.router.paper_strategies

    result, trades, listed, active, paper = asyncio.run(scenario())
    assert result["added"] == ["candidate-arb"] and paper == {"candidate-arb", "cross-chain-usdc-arbitrage"}
    assert trades and all(t["status"] == "paper" for t in trades)
    assert listed["candidate-arb"]["mode"] == "paper" and "candidate-arb" not in active


def test_trading_start_does_not_revive_a_disabled_strategy(workspace):
    path = workspace / ACTIVE / f"{STRATEGY}.yml"
    async def scenario():
        async with api_world(workspace) as w:
            async with httpx.AsyncClient(base_url=w.url, headers=w.headers("operator")) as c:
                path.write_text(path.read_text().replace("  enabled: true", "  enabled: false", 1))
                await c.post("/api/v1/strategies/reload")
                await c.post("/api/v1/trading/stop")
                await c.post("/api/v1/trading/start")
                block, mark = w.engine.metrics.last_block, w.service.hub.topics["opportunities"].seq
                while w.engine.metrics.last_block < block + 5:
                    await asyncio.sleep(0.02)
                from_file = sum(1 for m in w.service.hub.topics["opportunities"].buffer
                                if m["seq"] > mark and m["data"]["strategy"] == STRATEGY)
                others = w.service.hub.topics["opportunities"].seq - mark - from_file
        return from_file, others

    from_file, others = asyncio.run(scenario())
    assert from_file == 0 and others > 0, "the disabled one stays off; the testing one trades again"
