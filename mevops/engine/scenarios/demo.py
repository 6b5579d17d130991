"""``mevops demo --scenario flash|liquidation|bundle|all``: each scenario on a fresh local anvil
(or all on ``--rpc``, the bundle last: its relay turns automine off), one line or one JSON object."""

from __future__ import annotations

import asyncio
from typing import Any

from mevops.engine.scenarios import SCENARIOS, ScenarioResult, run_scenario


def selected(scenario: str) -> list[str]:
    import typer

    if scenario == "all":
        return list(SCENARIOS)
    if scenario not in SCENARIOS:
        raise typer.BadParameter(f"--scenario is one of {', '.join(SCENARIOS)} or all")
    return [scenario]


def run_scenarios(scenario: str, rpc: str | None, blocks: int, as_json: bool, sim: str = "eth_call") -> list[ScenarioResult]:
    from mevops.engine.scenarios.node import anvil
    from mevops.output import console, print_json

    names = selected(scenario)
    out = console()
    results: list[ScenarioResult] = []
    for name in names:
        options: dict[str, Any] = {"blocks": blocks, "sim": sim} if name == "arbitrage" else {}
        if rpc is not None:
            result = asyncio.run(run_scenario(name, rpc, **options))
        else:
            if not as_json:
                out.print(f"{name}: starting a fresh local anvil…")
            with anvil(block_time=1 if name == "arbitrage" else None) as url:
                result = asyncio.run(run_scenario(name, url, **options))
        results.append(result)
        if not as_json:
            out.print(f"[bold]{result.line()}[/]")
    if as_json:
        print_json({"scenarios": {r.scenario: r.to_json() for r in results}})
    return results
