"""`mevops strategy` against the real engine API (EngineService + FastAPI on a socket, scripted
collector and strategies: tests/api/world.py): a promoted strategy joins the running engine without
a restart, `diff` compares with the text the engine loaded, `disable` stops its trades at once.
Chain-facing behaviour on anvil is the engine's end-to-end test."""

from __future__ import annotations

import asyncio
import json

from tests.api.world import STRATEGY, api_world
from tests.unit.test_strategy_cli import relax_promotion

ACTIVE = f"mev/strategies/active/arbitrage/{STRATEGY}.yml"


def test_promote_diff_and_disable_through_the_running_engine(run, workspace, tmp_path):
    relax_promotion(workspace)
    source = tmp_path / "second-arb.yml"
    source.write_text((workspace / ACTIVE).read_text().replace(f"name: {STRATEGY}", "name: second-arb"))

    async def scenario():
        async with api_world(workspace) as w:
            async def cli(*args: str, role: str = "operator"):
                return await asyncio.to_thread(run, "strategy", *args, "--api", w.url, "--token", w.tokens[role], cwd=workspace)

            async def trades_of(name: str, blocks: int = 4) -> int:
                mark = sum(1 for o in w.service.recent_opportunities(10_000, name))
                block = w.engine.metrics.last_block
                while w.engine.metrics.last_block < block + blocks:
                    await asyncio.sleep(0.02)
                return sum(1 for o in w.service.recent_opportunities(10_000, name)) - mark

            out = {"listed": await cli("list", "--json", role="viewer"),
                   "testing": await cli("deploy", str(source), "--to", "testing"),
                   "promoted": await cli("promote", "second-arb", "--reason", "integration")}
            out["trading"] = await trades_of("second-arb")
            out["same"] = await cli("diff", "second-arb", "--exit-code", role="viewer")
            path = workspace / "mev/strategies/active/arbitrage/second-arb.yml"
            path.write_text(path.read_text().replace("max_slippage: 0.003", "max_slippage: 0.002"))
            out["drift"] = await cli("diff", "second-arb", "--exit-code", role="viewer")
            out["viewer_disable"] = await cli("disable", "second-arb", role="viewer")
            out["disabled"] = await cli("disable", "second-arb", "--reason", "stop it")
            out["after"] = await trades_of("second-arb")
            out["first"] = await trades_of(STRATEGY)
        return out

    out = asyncio.run(scenario())
    listed = {r["name"]: r for r in json.loads(out["listed"].out)}
    assert listed[STRATEGY]["loaded"] is True and listed["cross-chain-usdc-arbitrage"]["loaded"] is True  # testing: paper-trades
    # in testing it joins as a paper trader; promoted, the same loaded strategy goes live (an update)
    assert out["testing"].code == 0 and "reloaded: added second-arb" in out["testing"].out, out["testing"]
    assert out["promoted"].code == 0, out["promoted"].err
    assert "reloaded: updated second-arb" in out["promoted"].out, out["promoted"].out
    assert out["trading"] > 0
    assert out["same"].code == 0 and "no differences" in out["same"].out and "engine:second-arb" in out["same"].out
    assert out["drift"].code == 1 and "-  max_slippage: 0.003\n+  max_slippage: 0.002" in out["drift"].out
    assert out["viewer_disable"].code == 2 and "403" in out["viewer_disable"].err
    assert out["disabled"].code == 0, out["disabled"].err
    assert "disabled second-arb in the engine" in out["disabled"].out
    assert out["after"] == 0 and out["first"] > 0
    text = (workspace / "mev/strategies/active/arbitrage/second-arb.yml").read_text()
    assert "  enabled: false\n" in text and "max_slippage: 0.002" in text
