"""Property: no sequence of trades, fills, losses, failures, stops and clock moves takes exposure or
loss past a limit.

The machine keeps its own model of what is open and what was lost (independent of the manager's
books) and checks the limits against it after every step. Settled losses stay within the worst
case reserved for them: that is what the contract's ``min_profit`` check guarantees on chain.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import replace
from fractions import Fraction
from typing import Any

from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, precondition, rule

from mevops.engine.risk import DAY, HOUR, RiskLimitsView, RiskManager
from mevops.engine.types import ArbTrade
from tests.unit.risk_support import DEFAULT_STRATEGIES, ETH, GWEI, USD, make_config, make_trade

# Tighter than the unit tests' config, so that every limit binds in some runs: two strategies' hourly
# losses exceed the global hourly limit, arbitrage's daily limit is above the global one (which
# binds for it), backrun's daily limit binds on its own.
CONFIG = make_config(risk_limits={
    "global_limits": {"max_total_exposure": "50000 USD", "max_daily_loss": "230 USD", "max_gas_spend_daily": "0.3 ETH"},
    "strategy_limits": {"arbitrage": {"max_daily_loss": "250 USD"}, "backrun": {"max_daily_loss": "120 USD"}},
})
LIMITS = CONFIG.risk_limits
GLOBAL = LIMITS.global_limits
KIND = {s.strategy.name: s.strategy.type for s in DEFAULT_STRATEGIES}
OWN_SIZE = {s.strategy.name: s.parameters.max_position_size for s in DEFAULT_STRATEGIES}
OWN_CHAINS = {s.strategy.name: sorted(s.parameters.chains) for s in DEFAULT_STRATEGIES}
CHAINS = ["ethereum", "arbitrum", "polygon"]


# A proposal is valid but for at most one thing, so that enough trades pass to fill the books.
BREAKS = [None] * 6 + ["chain", "min_profit", "profit", "fee", "priority", "size"]


@st.composite
def proposals(draw: Any) -> dict[str, Any]:
    """A trade with its USD values (discrete values: cheap to draw, and they include the limits' edges)."""
    name = draw(st.sampled_from(["arb1", "back1", "arb1", "back1", "arb2"]))
    breaks = draw(st.sampled_from(BREAKS))
    chain = "polygon" if breaks == "chain" else draw(st.sampled_from(OWN_CHAINS[name]))
    amount = draw(st.sampled_from([1, 5, 10, 50])) * ETH
    bps = draw(st.sampled_from([-5, 0, 5] if breaks == "profit" else [20, 10, 50]))
    max_fee = draw(st.sampled_from([51, 120] if breaks == "fee" else [10, 1, 30, 50])) * GWEI
    priority = min(draw(st.sampled_from([4] if breaks == "priority" else [0, 1])) * GWEI, max_fee)
    trade = make_trade(
        name, chain, amount_in=amount, expected_profit=amount * bps // 10_000 + ETH // 1000, gas_cost=ETH // 1000,
        min_profit=-1 if breaks == "min_profit" else draw(st.sampled_from([0, 10**15])),
        gas_limit=draw(st.sampled_from([300_000, 21_000, 1_000_000, 5_000_000, 10_000_000])),
        max_fee=max_fee, priority=priority,
    )
    sizes = [10_001, 20_001, 25_001, 40_001] if breaks == "size" else [5_000, 0, 1_000, 9_999, 10_000, 15_000, 20_000]
    return {"trade": trade, "input_usd": draw(st.sampled_from(sizes)) * USD,
            "gas_usd": draw(st.sampled_from([5, 0, 1, 10, 20, 50, 100, 151])) * USD, "eth": draw(st.booleans())}


class RiskMachine(RuleBasedStateMachine):
    @initialize()
    def start(self) -> None:
        self.risk = RiskManager(RiskLimitsView.from_config(CONFIG, DEFAULT_STRATEGIES))
        self.now = 1_000_000.0
        self.count = 0
        self.open: dict[str, dict] = {}
        self.losses: list[tuple[float, int, str]] = []       # (at, usd, strategy type)
        self.gas: list[tuple[float, int, str]] = []          # (at, wei, chain)
        self.results: dict[str, list[tuple[float, bool]]] = defaultdict(list)
        for name in ("arb1", "back1"):
            assert self.risk.register_strategy(name).allowed

    # -- steps -------------------------------------------------------------------------------
    @rule(name=st.sampled_from(sorted(KIND)), on=st.booleans())
    def toggle_strategy(self, name: str, on: bool) -> None:
        if on:
            self.risk.register_strategy(name)
        else:
            self.risk.unregister_strategy(name)

    @rule(batch=st.lists(proposals(), min_size=1, max_size=3))
    def attempt(self, batch: list[dict[str, Any]]) -> None:
        for p in batch:
            self.count += 1  # deterministic ids: a uuid would make hypothesis's replays differ
            self._attempt(replace(p["trade"], id=f"t{self.count}"), p["input_usd"], p["gas_usd"], p["eth"])

    def _attempt(self, trade: ArbTrade, input_usd: int, gas_usd: int, eth: bool) -> None:
        name, chain = trade.strategy, trade.chain
        was_stopped = self.risk.stopped
        breaker = self.risk.breakers.get(name)
        breaker_open = breaker is not None and breaker.state(self.now) == "open"
        decision = self.risk.reserve(trade, usd_value_of_input=input_usd, usd_value_of_gas=gas_usd, now=self.now,
                                     eth_denominated=eth)
        event(f"decision: {decision.rule}")
        if not decision.allowed:
            return
        assert not was_stopped, "a trade passed during an emergency stop"
        assert not breaker_open, "a trade passed an open circuit breaker"
        assert not self._model_breaker_open(name), "a trade passed after N consecutive failures within the cooldown"
        assert name in self.risk.active and chain in OWN_CHAINS[name] and chain in LIMITS.chain_limits
        chain_limits, type_limits = LIMITS.chain_limits[chain], LIMITS.strategy_limits[KIND[name]]
        assert input_usd <= min(OWN_SIZE[name], type_limits.max_position_size, chain_limits.max_position_size,
                                GLOBAL.max_position_size, CONFIG.mev.risk_limits.max_position_size)
        assert trade.max_fee_per_gas <= min(chain_limits.max_gas_price, CONFIG.mev.max_gas_price)
        assert trade.max_priority_fee_per_gas <= chain_limits.max_priority_fee
        assert trade.min_profit >= 0 and trade.net_profit > 0
        assert trade.net_profit >= Fraction(repr(type_limits.min_profit_ratio)) * trade.amount_in
        assert not eth or trade.net_profit >= CONFIG.mev.min_profit_threshold
        self.open[trade.id] = {"strategy": name, "type": KIND[name], "chain": chain, "input": input_usd,
                               "worst": gas_usd, "gas": trade.gas_limit * trade.max_fee_per_gas}

    @precondition(lambda self: self.open)
    @rule(data=st.data(), outcome=st.sampled_from(["failure", "success", "failure", "not sent"]),
          loss_pct=st.sampled_from([100, 0, 50, 99]), gas_pct=st.sampled_from([100, 0, 50]),
          profit_usd=st.sampled_from([0, 1, 100, 500]))
    def finish(self, data, outcome: str, loss_pct: int, gas_pct: int, profit_usd: int) -> None:
        trade_id = data.draw(st.sampled_from(list(self.open)))
        trade = self.open.pop(trade_id)
        if outcome == "not sent":
            self.risk.release(trade_id)
            return
        success = outcome == "success"
        gas_usd, gas_wei = trade["worst"] * loss_pct // 100, trade["gas"] * gas_pct // 100
        pnl = profit_usd * USD if success else 0
        assert not self.risk.settle(trade_id, pnl, gas_usd, success, self.now, gas_wei=gas_wei).breach
        self.losses.append((self.now, max(0, gas_usd - pnl), trade["type"]))
        self.gas.append((self.now, gas_wei, trade["chain"]))
        self.results[trade["strategy"]].append((self.now, success))

    @rule(seconds=st.sampled_from([1, 30, 59, 60, 61, 600, 3599, 3600, 7200, 86399, 86400]))
    def advance(self, seconds: int) -> None:
        self.now += seconds

    @rule(roll=st.integers(0, 3))
    def stop_or_resume(self, roll: int) -> None:
        if roll == 0:  # stop rarely: a stopped manager refuses everything, which exercises little else
            self.risk.emergency_stop("test")
        else:
            self.risk.resume()

    # -- the model ---------------------------------------------------------------------------
    def _model_breaker_open(self, name: str) -> bool:
        n = GLOBAL.max_consecutive_failures
        last = self.results[name][-n:]
        return len(last) == n and not any(ok for _, ok in last) and self.now < last[-1][0] + GLOBAL.circuit_breaker_cooldown

    def _lost(self, window: int, kind: str | None = None) -> int:
        return sum(usd for at, usd, k in self.losses if at > self.now - window and kind in (None, k))

    def _worst(self, kind: str | None = None) -> int:
        return sum(t["worst"] for t in self.open.values() if kind in (None, t["type"]))

    # -- invariants --------------------------------------------------------------------------
    @invariant()
    def books_agree_with_the_model(self) -> None:
        assert set(self.risk.book.trades) == set(self.open)

    @invariant()
    def exposure_within_limit(self) -> None:
        exposure = sum(t["input"] for t in self.open.values())
        assert exposure <= GLOBAL.max_total_exposure
        if exposure > GLOBAL.max_total_exposure * 0.8:
            event("exposure above 80% of its limit")

    @invariant()
    def losses_within_limits(self) -> None:
        daily = min(GLOBAL.max_daily_loss, CONFIG.mev.risk_limits.max_daily_loss)
        assert self._lost(HOUR) + self._worst() <= GLOBAL.max_hourly_loss
        assert self._lost(DAY) + self._worst() <= daily
        if self._lost(DAY) + self._worst() > daily * 0.8:
            event("daily loss above 80% of its limit")
        for kind, sl in LIMITS.strategy_limits.items():
            if sl.max_hourly_loss is not None:
                assert self._lost(HOUR, kind) + self._worst(kind) <= sl.max_hourly_loss
            assert self._lost(DAY, kind) + self._worst(kind) <= sl.max_daily_loss

    @invariant()
    def gas_and_pending_within_limits(self) -> None:
        for chain, cl in LIMITS.chain_limits.items():
            spent = sum(w for at, w, c in self.gas if c == chain and at > self.now - DAY)
            open_ = [t for t in self.open.values() if t["chain"] == chain]
            assert spent + sum(t["gas"] for t in open_) <= GLOBAL.max_gas_spend_daily
            assert len(open_) <= cl.max_pending_transactions

    @invariant()
    def concurrent_strategies_within_limit(self) -> None:
        assert len(self.risk.active) <= CONFIG.mev.max_concurrent_strategies


RiskMachine.TestCase.settings = settings(max_examples=100, stateful_step_count=50, deadline=None,
                                         suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much])
TestRiskProperties = RiskMachine.TestCase
