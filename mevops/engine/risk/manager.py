"""The risk manager: decides whether a trade may go, and tracks what is open and what was lost.

Pure bookkeeping, no I/O, no clock of its own: every call that depends on time takes ``now``
(seconds, wall clock). USD values come from the caller (``RiskCheckedExecutor`` asks its pricing).

Lifecycle of a trade::

    check(trade, ...)      -> Decision            read-only
    reserve(trade, ...)    -> Decision            check + open the trade atomically if allowed
    release(trade_id)                             nothing was sent (simulation failed, paper, ...)
    settle(trade_id, ...)  -> realised loss       the trade is final: mined, reverted or failed

Invariant (proved by the property tests): at any time, for every limit, realised losses in the
rolling window + the worst case of open trades stay within the limit, open exposure stays within
``max_total_exposure`` and gas spent + open worst case within ``max_gas_spend_daily`` — as long as
settled losses stay within the worst case reserved for them, which the contract's ``min_profit``
check guarantees on chain. A settled loss beyond it is a breach: it is recorded as it is and, with
``mev.risk_limits.emergency_stop_on_breach``, stops all trading until ``resume()``.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from mevops.engine.risk.breaker import CircuitBreaker
from mevops.engine.risk.ledger import ExposureBook, LossLedger, OpenTrade
from mevops.engine.risk.limits import DAY, HOUR, RiskLimitsView, usd
from mevops.engine.risk.rules import OK, Decision, Proposal, State, evaluate, refuse
from mevops.engine.types import ArbTrade

if TYPE_CHECKING:
    from mevops.config.models import EffectiveConfig
    from mevops.strategies.schema import StrategyFile

log = logging.getLogger("mevops.engine.risk")


@dataclass(frozen=True)
class Settlement:
    trade_id: str
    loss_usd: int
    breach: bool


class RiskManager:
    def __init__(self, limits: RiskLimitsView) -> None:
        self.limits = limits
        self.book = ExposureBook()
        self.ledger = LossLedger()
        self.breakers: dict[str, CircuitBreaker] = {}
        self.active: set[str] = set()
        self.stop_reason: str | None = None

    @classmethod
    def from_config(cls, cfg: EffectiveConfig, strategies: Iterable[StrategyFile],
                    chains: Iterable[str] | None = None) -> RiskManager:
        return cls(RiskLimitsView.from_config(cfg, strategies, chains))

    # -- strategies --------------------------------------------------------------------------
    def register_strategy(self, name: str) -> Decision:
        if name in self.active:
            return OK
        if name not in self.limits.strategies:
            return refuse("unknown_strategy", f"no strategy file for {name!r} was given to the risk manager")
        cap = self.limits.max_concurrent_strategies
        if len(self.active) >= cap:
            return refuse("max_concurrent_strategies", f"{len(self.active)} strategies already active, "
                                                       f"at most {cap} (mev.max_concurrent_strategies)")
        self.active.add(name)
        return OK

    def unregister_strategy(self, name: str) -> None:
        """Stops new trades of ``name``; its open trades stay open until settled."""
        self.active.discard(name)

    def breaker(self, strategy: str) -> CircuitBreaker:
        if strategy not in self.breakers:
            view = self.limits.strategies[strategy]
            self.breakers[strategy] = CircuitBreaker(view.max_consecutive_failures.value, self.limits.breaker_cooldown)
        return self.breakers[strategy]

    # -- emergency stop ----------------------------------------------------------------------
    def emergency_stop(self, reason: str = "operator request") -> None:
        if self.stop_reason is None:
            log.warning("emergency stop: %s", reason)
        self.stop_reason = reason

    def resume(self) -> None:
        self.stop_reason = None

    @property
    def stopped(self) -> bool:
        return self.stop_reason is not None

    # -- decisions ---------------------------------------------------------------------------
    def check(self, trade: ArbTrade, *, usd_value_of_input: int, usd_value_of_gas: int, now: float,
              eth_denominated: bool = False) -> Decision:
        """May ``trade`` go? ``usd_value_of_gas`` is the USD value of ``gas_limit * max_fee_per_gas``:
        the worst case the trade can lose. Pure: changes nothing."""
        gate = self._gate(trade, now)
        if gate is not None:
            return gate
        proposal = self._proposal(trade, usd_value_of_input, usd_value_of_gas, now, eth_denominated)
        return evaluate(proposal, State(self.limits, self.book, self.ledger))

    def _gate(self, trade: ArbTrade, now: float) -> Decision | None:
        if self.stop_reason is not None:
            return refuse("emergency_stop", f"trading is stopped: {self.stop_reason}")
        view = self.limits.strategies.get(trade.strategy)
        if view is None:
            return refuse("unknown_strategy", f"no strategy file for {trade.strategy!r} was given to the risk manager")
        if view.refusal is not None:
            return refuse("strategy_refused", view.refusal)
        if trade.strategy not in self.active:
            return refuse("inactive_strategy", f"strategy {trade.strategy!r} is not registered as active")
        breaker = self.breakers.get(trade.strategy)
        if breaker is not None and not breaker.admits(now):
            return self._breaker_refusal(trade.strategy, breaker, now)
        if trade.chain not in view.chains:
            return refuse("chain_not_allowed", f"strategy {trade.strategy!r} does not trade on {trade.chain!r} "
                                               f"(parameters.chains: {', '.join(sorted(view.chains))})")
        if trade.chain not in self.limits.chains:
            return refuse("no_chain_limits", f"no risk_limits.chain_limits.{trade.chain} for this engine")
        if trade.id in self.book:
            return refuse("duplicate", f"trade {trade.id} is already open")
        return None

    def _breaker_refusal(self, strategy: str, breaker: CircuitBreaker, now: float) -> Decision:
        if breaker.state(now) == "half_open":
            return refuse("circuit_breaker", f"strategy {strategy!r}: circuit breaker half-open, probe trade "
                                             f"{breaker.probe} in flight")
        wait = (breaker.reopens_at() or now) - now
        return refuse("circuit_breaker", f"strategy {strategy!r}: circuit breaker open after {breaker.failures} "
                                         f"consecutive failures; half-opens in {wait:.0f}s")

    def _proposal(self, trade: ArbTrade, input_usd: int, gas_usd: int, now: float, eth: bool) -> Proposal:
        return Proposal(trade=trade, strategy=self.limits.strategies[trade.strategy], chain=self.limits.chains[trade.chain],
                        input_usd=input_usd, worst_loss_usd=gas_usd,
                        worst_gas_wei=trade.gas_limit * trade.max_fee_per_gas, eth_denominated=eth, now=now)

    # -- bookkeeping -------------------------------------------------------------------------
    def reserve(self, trade: ArbTrade, *, usd_value_of_input: int, usd_value_of_gas: int, now: float,
                eth_denominated: bool = False) -> Decision:
        """``check`` and, if allowed, open the trade: from now on it counts as exposure and worst case."""
        decision = self.check(trade, usd_value_of_input=usd_value_of_input, usd_value_of_gas=usd_value_of_gas,
                              now=now, eth_denominated=eth_denominated)
        if decision.allowed:
            self._open(trade, usd_value_of_input, usd_value_of_gas, now)
            self.breaker(trade.strategy).on_reserve(trade.id, now)
        return decision

    def adopt(self, trade: ArbTrade, *, usd_value_of_input: int, usd_value_of_gas: int, now: float) -> None:
        """Count a trade that is already out (found pending in the store after a restart), unchecked."""
        if trade.id not in self.book:
            self._open(trade, usd_value_of_input, usd_value_of_gas, now)

    def _open(self, trade: ArbTrade, input_usd: int, gas_usd: int, now: float) -> None:
        view = self.limits.strategies.get(trade.strategy)
        kind = view.type if view else "unknown"
        self.book.open(OpenTrade(trade.id, trade.strategy, kind, trade.chain, input_usd, gas_usd,
                                 trade.gas_limit * trade.max_fee_per_gas, now))

    def release(self, trade_id: str) -> None:
        """The trade was never sent: nothing was spent, nothing lost, the breaker is not told."""
        if trade_id not in self.book:
            return
        trade = self.book.close(trade_id)
        if trade.strategy in self.breakers:
            self.breakers[trade.strategy].on_release(trade_id)

    def settle(self, trade_id: str, realized_pnl_usd: int, gas_usd: int, success: bool, now: float, *,
               gas_wei: int | None = None) -> Settlement:
        """The trade is final. ``realized_pnl_usd`` is the token result before gas, ``gas_usd`` the gas
        paid; the loss is ``max(0, gas_usd - realized_pnl_usd)``. ``gas_wei`` defaults to the worst case."""
        trade = self.book.close(trade_id)
        loss = max(0, gas_usd - realized_pnl_usd)
        spent = trade.worst_gas_wei if gas_wei is None else gas_wei
        self.ledger.record(trade.type, trade.chain, loss, spent, now)
        if trade.strategy in self.limits.strategies:
            self.breaker(trade.strategy).on_result(trade_id, success, now)
        breach = loss > trade.worst_loss_usd or spent > trade.worst_gas_wei
        if breach:
            log.error("trade %s lost %s (gas %d wei), beyond its worst case %s (%d wei)", trade_id, usd(loss), spent,
                      usd(trade.worst_loss_usd), trade.worst_gas_wei)
            if self.limits.emergency_stop_on_breach:
                self.emergency_stop(f"trade {trade_id} lost {usd(loss)}, beyond its worst case {usd(trade.worst_loss_usd)}")
        return Settlement(trade_id, loss, breach)

    def record_loss(self, strategy_type: str, chain: str, loss_usd: int, gas_wei: int, at: float) -> None:
        """Seed realised losses and gas from the store after a restart."""
        self.ledger.record(strategy_type, chain, loss_usd, gas_wei, at)

    # -- views -------------------------------------------------------------------------------
    def snapshot(self, now: float) -> dict[str, Any]:
        """For the API and metrics: integers, as stored."""
        return {
            "stopped": self.stop_reason,
            "active_strategies": sorted(self.active),
            "open_trades": len(self.book.trades),
            "open_exposure_usd": self.book.exposure(),
            "open_worst_loss_usd": self.book.worst_loss(),
            "loss_hour_usd": self.ledger.loss(now, HOUR),
            "loss_day_usd": self.ledger.loss(now, DAY),
            "breakers": {name: b.state(now) for name, b in sorted(self.breakers.items())},
        }
