"""Route each action by its strategy's stage: strategies in ``testing`` paper-trade (simulated and
recorded as opportunities — the record `mevops strategy promote` reads), the others go to the
engine's executor (live when the engine runs live). A testing strategy can never send a transaction."""

from __future__ import annotations

from typing import Any


class StageRouter:
    name = "stage-router"

    def __init__(self, live: Any, paper: Any, paper_strategies: set[str] | None = None) -> None:
        self.live, self.paper = live, paper
        self.paper_strategies: set[str] = set(paper_strategies or ())

    async def execute(self, action: Any) -> Any:
        target = self.paper if action.strategy in self.paper_strategies else self.live
        return await target.execute(action)
