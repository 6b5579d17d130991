"""``RiskCheckedExecutor``: the risk manager wrapped around an executor.

A refused trade never reaches the inner executor: the wrapper returns ``status="refused"`` with
``"<rule>: <reason>"``. An allowed trade is reserved before the inner executor runs and settled
from its result:

- ``mined``                              success: token result and gas are priced and settled;
- ``reverted``                           failure: settled with the gas it burnt;
- ``failed`` without a tx hash           failure, nothing was broadcast: settled with no loss;
- ``failed`` with a tx hash, or an
  exception from the inner executor      outcome unknown: settled as a failure at its worst case;
- ``simulated_fail``, ``refused``, ``paper``  nothing was sent: released;
- ``sent``                               still in flight: stays open until ``on_final(action, result)``.

``ExecutionResult.realized_profit`` is read as the token result before gas (like
``ArbTrade.expected_profit``). Gas is ``gas_used * max_fee_per_gas`` wei, an upper bound
(``ExecutionResult`` carries no effective gas price), valued at the USD price it was reserved at,
so a price move between reserve and settle cannot turn into a breach of the worst case.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from typing import Protocol

from mevops.engine.risk.manager import RiskManager
from mevops.engine.types import Action, ArbTrade, ExecutionResult, Executor

log = logging.getLogger("mevops.engine.risk")

NOT_SENT = frozenset({"simulated_fail", "refused", "paper", "not_included"})  # not_included: a bundle that missed every target block cost nothing


class Pricing(Protocol):
    """USD values from an in-memory price cache (no I/O on the hot path). Integer micro-dollars."""

    def usd_value(self, chain: str, token: str, amount: int) -> int: ...

    def gas_usd(self, chain: str, wei: int) -> int: ...

    def is_eth_denominated(self, chain: str, token: str) -> bool: ...


class RiskCheckedExecutor:
    def __init__(self, inner: Executor, risk: RiskManager, pricing: Pricing, *,
                 clock: Callable[[], float] = time.time) -> None:
        self.inner, self.risk, self.pricing, self.clock = inner, risk, pricing, clock
        self.name = f"risk:{inner.name}"
        self.in_flight: dict[str, ArbTrade] = {}

    async def execute(self, action: Action) -> ExecutionResult:
        try:
            input_usd = self.pricing.usd_value(action.chain, action.token, action.amount_in)
            gas_usd = self.pricing.gas_usd(action.chain, action.gas_limit * action.max_fee_per_gas)
            eth = self.pricing.is_eth_denominated(action.chain, action.token)
        except Exception as exc:  # noqa: BLE001 (no price, no trade)
            return ExecutionResult(action.id, "refused", reason=f"pricing: {type(exc).__name__}: {exc}")
        decision = self.risk.reserve(action, usd_value_of_input=input_usd, usd_value_of_gas=gas_usd,
                                     now=self.clock(), eth_denominated=eth)
        if not decision.allowed:
            return ExecutionResult(action.id, "refused", reason=str(decision))
        try:
            result = await self.inner.execute(action)
        except BaseException:
            self._settle_worst(action)
            raise
        self.on_final(action, result)
        return result

    def on_final(self, action: ArbTrade, result: ExecutionResult) -> None:
        """Settle ``action`` from ``result``; call it again later for a trade that was only ``sent``."""
        status = result.status
        if status == "sent":
            self.in_flight[action.id] = action
            return
        self.in_flight.pop(action.id, None)
        if action.id not in self.risk.book:
            return  # settled already
        if status in NOT_SENT:
            self.risk.release(action.id)
        elif status == "mined":
            self._settle_priced(action, result, success=True)
        elif status == "reverted":
            self._settle_priced(action, result, success=False)
        elif status == "failed" and result.tx_hash is None:
            self.risk.settle(action.id, 0, 0, False, self.clock(), gas_wei=0)
        else:
            self._settle_worst(action)

    def _settle_priced(self, action: ArbTrade, result: ExecutionResult, *, success: bool) -> None:
        trade = self.risk.book.trades[action.id]
        gas_wei = min((result.gas_used if result.gas_used is not None else action.gas_limit) * action.max_fee_per_gas,
                      trade.worst_gas_wei)
        # gas at the price it was reserved at: a price move between reserve and settle is not a loss breach
        gas_usd = -(-trade.worst_loss_usd * gas_wei // trade.worst_gas_wei) if trade.worst_gas_wei else 0
        try:
            pnl = self.pricing.usd_value(action.chain, action.token, result.realized_profit or 0) if success else 0
        except Exception as exc:  # noqa: BLE001
            log.warning("cannot price the result of %s (%s): counting no profit", action.id, exc)
            pnl = 0
        self.risk.settle(action.id, pnl, gas_usd, success, self.clock(), gas_wei=gas_wei)

    def _settle_worst(self, action: ArbTrade) -> None:
        trade = self.risk.book.trades.get(action.id)
        if trade is not None:
            self.risk.settle(action.id, 0, trade.worst_loss_usd, False, self.clock(), gas_wei=trade.worst_gas_wei)
