"""Each risk rule on its own, with the reason it gives."""

from __future__ import annotations

import pytest

from mevops.engine.risk import CircuitBreaker, RiskLimitsView, RiskManager
from tests.unit.risk_support import ETH, GWEI, USD, make_config, make_manager, make_strategy, make_trade, values

T0 = 1_000_000.0


def refused(decision, rule: str, *fragments: str) -> None:
    assert not decision.allowed, decision
    assert decision.rule == rule, decision
    for fragment in fragments:
        assert fragment in decision.reason, decision


def test_a_trade_within_every_limit_passes():
    d = make_manager().check(make_trade(), **values())
    assert d.allowed and d.rule == "ok"


def test_check_is_pure():
    risk = make_manager()
    risk.check(make_trade(), **values())
    assert not risk.book.trades and risk.book.exposure() == 0


# -- gates -----------------------------------------------------------------------------------
def test_emergency_stop_refuses_everything_until_resume():
    risk = make_manager()
    risk.emergency_stop("operator pressed the button")
    refused(risk.check(make_trade(), **values()), "emergency_stop", "operator pressed the button")
    risk.resume()
    assert risk.check(make_trade(), **values()).allowed


def test_unknown_and_inactive_strategies_are_refused():
    risk = make_manager()
    refused(risk.check(make_trade("nope"), **values()), "unknown_strategy", "'nope'")
    refused(risk.check(make_trade("arb2"), **values()), "inactive_strategy", "'arb2' is not registered")


def test_register_strategy_refuses_past_max_concurrent_strategies():
    risk = make_manager(register=())
    assert risk.register_strategy("arb1").allowed
    assert risk.register_strategy("arb1").allowed  # idempotent
    assert risk.register_strategy("arb2").allowed
    refused(risk.register_strategy("back1"), "max_concurrent_strategies", "at most 2", "mev.max_concurrent_strategies")
    risk.unregister_strategy("arb2")
    assert risk.register_strategy("back1").allowed
    refused(risk.register_strategy("ghost"), "unknown_strategy")


@pytest.mark.parametrize("kind, fragment", [("liquidation", "no risk_limits.strategy_limits.liquidation"),
                                            ("sandwich", "sandwich attacks")])
def test_strategy_types_without_limits_or_refused_types_cannot_trade(kind, fragment):
    risk = make_manager(strategies=(make_strategy("s", kind),), register=("s",))
    refused(risk.check(make_trade("s"), **values()), "strategy_refused", fragment)


def test_chain_the_strategy_does_not_trade_on():
    risk = make_manager(register=("arb2",))
    refused(risk.check(make_trade("arb2", "arbitrum"), **values()), "chain_not_allowed", "'arbitrum'", "parameters.chains")


def test_chain_without_chain_limits():
    risk = make_manager(strategies=(make_strategy("p", chains=("polygon",)),), register=("p",))
    refused(risk.check(make_trade("p", "polygon"), **values()), "no_chain_limits", "chain_limits.polygon")


def test_duplicate_trade_id():
    risk = make_manager()
    trade = make_trade()
    assert risk.reserve(trade, **values())
    refused(risk.check(trade, **values()), "duplicate")


@pytest.mark.parametrize("trade, vals", [
    (make_trade(amount_in=0), values()),
    (make_trade(priority=30 * GWEI), values()),
    (make_trade(), values(input_usd=-1)),
])
def test_bad_input(trade, vals):
    refused(make_manager().check(trade, **vals), "bad_input")


def test_negative_min_profit_makes_the_worst_case_unbounded():
    refused(make_manager().check(make_trade(min_profit=-1), **values()), "min_profit_guard", "min_profit -1 < 0")


# -- size and exposure -----------------------------------------------------------------------
@pytest.mark.parametrize("params, chain, source", [
    ({}, "ethereum", "strategy arb1: parameters.max_position_size"),
    ({"max_position_size": "45000 USD"}, "ethereum", "risk_limits.chain_limits.ethereum.max_position_size"),
    ({"max_position_size": "45000 USD"}, "arbitrum", "risk_limits.chain_limits.arbitrum.max_position_size"),
])
def test_position_size_uses_the_tightest_limit(params, chain, source):
    risk = make_manager(strategies=(make_strategy("arb1", **params),))
    refused(risk.check(make_trade(chain=chain), **values(input_usd=40_001)), "position_size", "40,001.00 USD", source)


def test_position_size_type_global_and_envelope_limits():
    big = make_strategy("arb1", max_position_size="1000000 USD")
    roomy_chain = {"risk_limits": {"chain_limits": {"ethereum": {"max_position_size": "1000000 USD"}}}}
    risk = make_manager(strategies=(big,), **roomy_chain)
    refused(risk.check(make_trade(), **values(input_usd=40_001)), "position_size",
            "risk_limits.strategy_limits.arbitrage.max_position_size")
    assert risk.check(make_trade(), **values(input_usd=40_000)).allowed
    cfg = {"risk_limits": {"chain_limits": {"ethereum": {"max_position_size": "1000000 USD"}},
                           "strategy_limits": {"arbitrage": {"max_position_size": "1000000 USD"}}},
           "mev": {"risk_limits": {"max_position_size": "45000 USD"}}}
    risk = make_manager(strategies=(big,), **cfg)
    refused(risk.check(make_trade(), **values(input_usd=45_001)), "position_size", "mev.risk_limits.max_position_size")


def test_total_exposure_counts_open_trades():
    risk = make_manager(strategies=(make_strategy("arb1", max_position_size="40000 USD"),),
                        risk_limits={"chain_limits": {"ethereum": {"max_position_size": "40000 USD"}}})
    assert risk.reserve(make_trade(), **values(input_usd=40_000))
    assert risk.reserve(make_trade(), **values(input_usd=30_000))
    refused(risk.check(make_trade(chain="arbitrum"), **values(input_usd=10_001)), "total_exposure",
            "open exposure 70,000.00 USD", "exceeds 80,000.00 USD", "global_limits.max_total_exposure")
    assert risk.check(make_trade(chain="arbitrum"), **values(input_usd=10_000)).allowed


def test_pending_transactions_per_chain():
    risk = make_manager()
    for _ in range(3):
        assert risk.reserve(make_trade(), **values(input_usd=1))
    refused(risk.check(make_trade(), **values(input_usd=1)), "pending_transactions", "3 trades already open on ethereum")
    assert risk.check(make_trade(chain="arbitrum"), **values(input_usd=1)).allowed


# -- fees ------------------------------------------------------------------------------------
def test_gas_price_limits():
    risk = make_manager()
    refused(risk.check(make_trade(max_fee=51 * GWEI), **values()), "gas_price", "51 gwei", "chain_limits.ethereum.max_gas_price")
    assert risk.check(make_trade(max_fee=50 * GWEI), **values()).allowed
    refused(risk.check(make_trade(chain="arbitrum", max_fee=101 * GWEI, priority=0), **values()), "gas_price",
            "mev.max_gas_price")
    risk = make_manager(strategies=(make_strategy("arb1", gas_price_limit="30 gwei"),))
    refused(risk.check(make_trade(max_fee=31 * GWEI), **values()), "gas_price", "strategy arb1: parameters.gas_price_limit")


def test_strategy_type_gas_price_limit():
    risk = make_manager(risk_limits={"strategy_limits": {"arbitrage": {"max_gas_price": "25 gwei"}}})
    refused(risk.check(make_trade(max_fee=26 * GWEI), **values()), "gas_price", "strategy_limits.arbitrage.max_gas_price")


def test_priority_fee_per_chain():
    risk = make_manager()
    refused(risk.check(make_trade(priority=4 * GWEI), **values()), "priority_fee", "4 gwei", "chain_limits.ethereum.max_priority_fee")
    refused(risk.check(make_trade(chain="arbitrum", priority=2 * GWEI), **values()), "priority_fee", "arbitrum")


# -- profit ----------------------------------------------------------------------------------
def test_unprofitable_trades_are_refused():
    refused(make_manager().check(make_trade(expected_profit=10, gas_cost=10), **values()), "unprofitable")


def test_min_profit_ratio_is_exact():
    risk = make_manager()
    amount = 10 * ETH  # 0.001 of it is 0.01 ETH
    assert risk.check(make_trade(amount_in=amount, expected_profit=ETH // 100 + 5, gas_cost=5), **values()).allowed
    refused(risk.check(make_trade(amount_in=amount, expected_profit=ETH // 100 + 4, gas_cost=5), **values()),
            "min_profit_ratio", "strategy_limits.arbitrage.min_profit_ratio")
    strict = make_manager(strategies=(make_strategy("arb1", min_profit_threshold=0.002),))
    refused(strict.check(make_trade(amount_in=amount, expected_profit=ETH // 50 - 1, gas_cost=0), **values()),
            "min_profit_ratio", "strategy arb1: parameters.min_profit_threshold")


def test_min_profit_in_eth_applies_to_eth_denominated_trades_only():
    risk = make_manager()
    small = make_trade(amount_in=ETH // 10, expected_profit=ETH // 2000, gas_cost=0)  # 0.0005 ETH net, ratio 0.005
    assert risk.check(small, **values()).allowed
    refused(risk.check(small, **values(eth=True)), "min_profit", "0.0005 ETH", "mev.min_profit_threshold")
    own = make_manager(strategies=(make_strategy("arb1", min_profit="0.01 ETH"),))
    refused(own.check(make_trade(amount_in=ETH, expected_profit=ETH // 200, gas_cost=0), **values(eth=True)), "min_profit",
            "strategy arb1: parameters.min_profit")


# -- losses ----------------------------------------------------------------------------------
def _lose(risk: RiskManager, usd_loss: float, now: float, strategy: str = "arb1", chain: str = "ethereum") -> None:
    trade = make_trade(strategy, chain, priority=0)
    assert risk.reserve(trade, **values(input_usd=1, gas_usd=usd_loss, now=now))
    risk.settle(trade.id, 0, int(usd_loss * USD), False, now)


def test_strategy_hourly_loss_counts_realised_and_open_worst_case():
    risk = make_manager()
    _lose(risk, 100, T0)
    assert risk.reserve(make_trade(), **values(gas_usd=30, now=T0 + 1))
    refused(risk.check(make_trade(), **values(gas_usd=21, now=T0 + 2)), "strategy_hourly_loss",
            "arbitrage strategies", "realised loss in the last hour 100.00 USD", "open trades 30.00 USD",
            "worst case 21.00 USD", "exceeds 150.00 USD", "strategy_limits.arbitrage.max_hourly_loss")
    assert risk.check(make_trade(), **values(gas_usd=20, now=T0 + 2)).allowed


def test_hourly_window_rolls():
    risk = make_manager()
    _lose(risk, 140, T0)
    refused(risk.check(make_trade(), **values(gas_usd=20, now=T0 + 3599)), "strategy_hourly_loss")
    assert risk.check(make_trade(), **values(gas_usd=20, now=T0 + 3600)).allowed


def test_global_hourly_loss_spans_strategy_types():
    risk = make_manager(register=("arb1", "back1"))
    _lose(risk, 140, T0)
    _lose(risk, 50, T0, "back1", "arbitrum")
    refused(risk.check(make_trade("back1", "arbitrum", priority=0), **values(gas_usd=11, now=T0 + 1)), "hourly_loss",
            "all strategies", "global_limits.max_hourly_loss")


def test_daily_loss_per_type_rolls_after_a_day():
    risk = make_manager()
    for hour in range(2):
        _lose(risk, 145, T0 + hour * 3600)
    refused(risk.check(make_trade(), **values(gas_usd=11, now=T0 + 7200)), "strategy_daily_loss",
            "last day 290.00 USD", "strategy_limits.arbitrage.max_daily_loss")
    assert risk.check(make_trade(), **values(gas_usd=11, now=T0 + 3600 + 86400)).allowed


def test_global_daily_loss_takes_the_tighter_of_risk_limits_and_envelope():
    risk = make_manager(register=("arb1", "back1"), mev={"risk_limits": {"max_daily_loss": "250 USD"}})
    _lose(risk, 145, T0)
    _lose(risk, 95, T0 + 3600, "back1", "arbitrum")
    refused(risk.check(make_trade(), **values(gas_usd=11, now=T0 + 7200)), "daily_loss",
            "all strategies", "exceeds 250.00 USD", "mev.risk_limits.max_daily_loss")


def test_profits_do_not_offset_losses():
    risk = make_manager()
    _lose(risk, 140, T0)
    trade = make_trade(priority=0)
    assert risk.reserve(trade, **values(input_usd=1, gas_usd=5, now=T0))
    assert risk.settle(trade.id, 1000 * USD, 5 * USD, True, T0).loss_usd == 0
    refused(risk.check(make_trade(), **values(gas_usd=11, now=T0 + 1)), "strategy_hourly_loss")


def test_daily_gas_spend_per_chain_counts_open_worst_case():
    risk = make_manager()
    half_eth = make_trade(gas_limit=10_000_000, max_fee=50 * GWEI)  # 0.5 ETH of gas at most
    assert risk.reserve(half_eth, **values())
    assert risk.reserve(make_trade(gas_limit=10_000_000, max_fee=50 * GWEI), **values())
    refused(risk.check(make_trade(gas_limit=21_000, max_fee=1 * GWEI, priority=0), **values()), "gas_spend_daily",
            "ethereum", "open 1", "global_limits.max_gas_spend_daily")
    risk.settle(half_eth.id, 0, 1 * USD, False, T0, gas_wei=ETH // 10)
    assert risk.check(make_trade(gas_limit=21_000, max_fee=1 * GWEI, priority=0), **values()).allowed


# -- settlement, breach, release ----------------------------------------------------------------
def test_release_frees_exposure_without_loss():
    risk = make_manager()
    trade = make_trade()
    assert risk.reserve(trade, **values(input_usd=20_000))
    assert risk.book.exposure() == 20_000 * USD
    risk.release(trade.id)
    assert risk.book.exposure() == 0 and risk.ledger.loss(T0, 86400) == 0


def test_a_loss_beyond_the_worst_case_is_a_breach_and_stops_trading():
    risk = make_manager()
    trade = make_trade()
    assert risk.reserve(trade, **values(gas_usd=10))
    settlement = risk.settle(trade.id, -500 * USD, 10 * USD, False, T0)
    assert settlement.breach and settlement.loss_usd == 510 * USD
    refused(risk.check(make_trade(), **values()), "emergency_stop", "beyond its worst case")


def test_breach_without_emergency_stop_on_breach():
    risk = make_manager(mev={"risk_limits": {"emergency_stop_on_breach": False}})
    trade = make_trade()
    assert risk.reserve(trade, **values(gas_usd=10))
    assert risk.settle(trade.id, -5 * USD, 10 * USD, False, T0).breach
    assert not risk.stopped


def test_settling_an_unknown_trade_is_a_bug():
    with pytest.raises(KeyError):
        make_manager().settle("nope", 0, 0, True, T0)


def test_adopt_counts_a_pending_trade_after_restart():
    risk = make_manager()
    risk.adopt(make_trade(), usd_value_of_input=30_000 * USD, usd_value_of_gas=140 * USD, now=T0)
    refused(risk.check(make_trade(), **values(gas_usd=11)), "strategy_hourly_loss", "open trades 140.00 USD")


# -- circuit breaker ---------------------------------------------------------------------------
def _fail(risk: RiskManager, now: float) -> str:
    trade = make_trade(priority=0)
    assert risk.reserve(trade, **values(input_usd=1, gas_usd=1, now=now)), risk.check(trade, **values(now=now))
    risk.settle(trade.id, 0, 0, False, now)
    return trade.id


def test_circuit_breaker_opens_half_opens_and_closes():
    risk = make_manager()
    for i in range(3):
        _fail(risk, T0 + i)
    refused(risk.check(make_trade(), **values(now=T0 + 10)), "circuit_breaker", "open after 3 consecutive failures",
            "half-opens in 52s")
    probe = make_trade()
    assert risk.reserve(probe, **values(now=T0 + 62))
    refused(risk.check(make_trade(), **values(now=T0 + 63)), "circuit_breaker", "half-open", probe.id)
    risk.settle(probe.id, 10 * USD, 1 * USD, True, T0 + 64)
    assert risk.check(make_trade(), **values(now=T0 + 65)).allowed
    assert risk.breaker("arb1").state(T0 + 65) == "closed"


def test_a_failed_probe_reopens_the_breaker():
    risk = make_manager()
    for i in range(3):
        _fail(risk, T0)
    _fail(risk, T0 + 60)
    refused(risk.check(make_trade(), **values(now=T0 + 61)), "circuit_breaker", "half-opens in 59s")


def test_a_released_probe_frees_the_probe_slot():
    risk = make_manager()
    for i in range(3):
        _fail(risk, T0)
    probe = make_trade()
    assert risk.reserve(probe, **values(now=T0 + 60))
    risk.release(probe.id)
    assert risk.check(make_trade(), **values(now=T0 + 61)).allowed


def test_breaker_threshold_from_strategy_alerts():
    strategy = make_strategy("arb1", alerts={"max_consecutive_failures": 1})
    risk = make_manager(strategies=(strategy,))
    _fail(risk, T0)
    refused(risk.check(make_trade(), **values(now=T0 + 1)), "circuit_breaker", "after 1 consecutive failures")


def test_breaker_is_per_strategy():
    risk = make_manager(register=("arb1", "arb2"))
    for _ in range(3):
        _fail(risk, T0)
    assert risk.check(make_trade("arb2"), **values(now=T0 + 1)).allowed


def test_breaker_ignores_successes_of_trades_in_flight_when_it_opened():
    breaker = CircuitBreaker(threshold=2, cooldown=60)
    breaker.on_result("a", False, 0)
    breaker.on_result("b", False, 1)
    assert breaker.state(2) == "open"
    breaker.on_result("c", True, 2)
    assert breaker.state(2) == "open" and not breaker.admits(2)
    breaker.on_result("d", False, 30)  # restarts the cooldown
    assert breaker.state(89) == "open" and breaker.state(90) == "half_open"
    breaker.on_reserve("p", 90)
    assert not breaker.admits(91)
    breaker.on_result("e", True, 92)  # not the probe
    assert breaker.state(92) == "half_open" and breaker.probe == "p"
    breaker.on_result("p", True, 93)
    assert breaker.state(93) == "closed" and breaker.failures == 0


# -- the reference workspace ---------------------------------------------------------------------
def test_view_from_the_reference_workspace(workspace):
    from mevops.strategies.store import load_strategies
    from mevops.workspace import Workspace

    ws = Workspace.open(workspace)
    records, _ = load_strategies(ws)
    view = RiskLimitsView.from_config(ws.config("development"), [r.spec for r in records])
    arb = view.strategies["eth-usdc-dex-arbitrage"]
    assert arb.type == "arbitrage" and arb.max_position.value > 0
    assert view.strategies["private-flow-guard"].refusal is None
    assert "ethereum" in view.chains and view.chains["ethereum"].max_gas_price.value <= 300 * GWEI
    assert view.max_gas_spend_daily.value == 5 * ETH


def test_restricting_the_view_to_chains():
    view = RiskLimitsView.from_config(make_config(), [make_strategy()], chains=["arbitrum"])
    assert set(view.chains) == {"arbitrum"}
    risk = RiskManager(view)
    risk.register_strategy("arb1")
    refused(risk.check(make_trade(), **values()), "no_chain_limits", "ethereum")
