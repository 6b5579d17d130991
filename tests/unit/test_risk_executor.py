"""RiskCheckedExecutor: refused trades never reach the inner executor; results settle the books."""

from __future__ import annotations

import asyncio

import pytest

from mevops.engine.risk import RiskCheckedExecutor
from mevops.engine.types import ExecutionResult
from tests.unit.risk_support import ETH, GWEI, USD, make_manager, make_trade

T0 = 1_000_000.0


class FlatPricing:
    """Every token is priced like ETH at ``usd_per_eth``."""

    def __init__(self, usd_per_eth: int = 2000, fail: bool = False) -> None:
        self.usd_per_eth, self.fail = usd_per_eth, fail

    def usd_value(self, chain: str, token: str, amount: int) -> int:
        if self.fail:
            raise LookupError(f"no price for {token} on {chain}")
        return amount * self.usd_per_eth * USD // ETH

    def gas_usd(self, chain: str, wei: int) -> int:
        return wei * self.usd_per_eth * USD // ETH

    def is_eth_denominated(self, chain: str, token: str) -> bool:
        return token == "0xweth"


class Inner:
    name = "fake"

    def __init__(self, result: ExecutionResult | Exception | None = None) -> None:
        self.calls: list[str] = []
        self.result = result

    async def execute(self, action):
        self.calls.append(action.id)
        if isinstance(self.result, Exception):
            raise self.result
        if self.result is None:
            return ExecutionResult(action.id, "mined", tx_hash="0x1", gas_used=100_000, realized_profit=ETH // 100)
        return ExecutionResult(action.id, self.result.status, tx_hash=self.result.tx_hash, gas_used=self.result.gas_used,
                               realized_profit=self.result.realized_profit)


def wrap(inner: Inner, pricing: FlatPricing | None = None, **manager):
    risk = make_manager(**manager)
    return RiskCheckedExecutor(inner, risk, pricing or FlatPricing(), clock=lambda: T0), risk


def small_trade(**kw):
    return make_trade(amount_in=ETH, expected_profit=ETH // 50, gas_cost=ETH // 1000, **kw)  # 2000 USD in


def test_refused_trades_never_reach_the_inner_executor():
    inner = Inner()
    executor, risk = wrap(inner)
    result = asyncio.run(executor.execute(small_trade(max_fee=60 * GWEI)))
    assert result.status == "refused" and result.reason.startswith("gas_price: max fee 60 gwei exceeds 50 gwei")
    assert inner.calls == [] and not risk.book.trades
    assert executor.name == "risk:fake"


def test_no_price_no_trade():
    inner = Inner()
    executor, _ = wrap(inner, FlatPricing(fail=True))
    result = asyncio.run(executor.execute(small_trade()))
    assert result.status == "refused" and result.reason.startswith("pricing: LookupError") and inner.calls == []


def test_mined_trade_settles_with_its_profit():
    inner = Inner()
    executor, risk = wrap(inner)
    trade = small_trade()
    result = asyncio.run(executor.execute(trade))
    assert result.status == "mined" and inner.calls == [trade.id]
    assert not risk.book.trades and risk.ledger.loss(T0, 3600) == 0
    assert risk.ledger.gas(T0, "ethereum") == 100_000 * trade.max_fee_per_gas


def test_reverted_trade_loses_its_gas():
    trade = small_trade(gas_limit=500_000)  # worst case 500k * 20 gwei = 0.01 ETH = 20 USD
    inner = Inner(ExecutionResult("", "reverted", tx_hash="0x1", gas_used=250_000))
    executor, risk = wrap(inner)
    asyncio.run(executor.execute(trade))
    assert risk.ledger.loss(T0, 3600) == 10 * USD
    assert risk.breaker("arb1").failures == 1


def test_gas_is_valued_at_the_reserved_price_so_a_price_move_is_no_breach():
    trade = small_trade(gas_limit=500_000)  # worst case 0.01 ETH = 20 USD at 2000 USD/ETH
    pricing = FlatPricing(2000)

    class PriceMoves(Inner):
        async def execute(self, action):
            pricing.usd_per_eth = 3000  # ETH rallies while the trade is out
            return ExecutionResult(action.id, "reverted", tx_hash="0x1", gas_used=500_000)

    executor, risk = wrap(PriceMoves(), pricing)
    asyncio.run(executor.execute(trade))
    assert risk.ledger.loss(T0, 3600) == 20 * USD and not risk.stopped


@pytest.mark.parametrize("status", ["simulated_fail", "paper", "refused"])
def test_nothing_sent_releases_the_reservation(status):
    executor, risk = wrap(Inner(ExecutionResult("", status)))
    asyncio.run(executor.execute(small_trade()))
    assert not risk.book.trades and risk.ledger.loss(T0, 86400) == 0 and risk.breaker("arb1").failures == 0


def test_failed_before_broadcast_counts_for_the_breaker_only():
    executor, risk = wrap(Inner(ExecutionResult("", "failed")))
    asyncio.run(executor.execute(small_trade()))
    assert not risk.book.trades and risk.ledger.loss(T0, 86400) == 0 and risk.breaker("arb1").failures == 1


def test_an_exception_settles_at_the_worst_case_and_propagates():
    trade = small_trade(gas_limit=500_000)
    executor, risk = wrap(Inner(ConnectionError("node went away")))
    with pytest.raises(ConnectionError):
        asyncio.run(executor.execute(trade))
    assert not risk.book.trades and risk.ledger.loss(T0, 3600) == 20 * USD


def test_sent_stays_open_until_final():
    trade = small_trade()
    executor, risk = wrap(Inner(ExecutionResult("", "sent", tx_hash="0x1")))
    asyncio.run(executor.execute(trade))
    assert trade.id in risk.book and trade.id in executor.in_flight
    executor.on_final(trade, ExecutionResult(trade.id, "mined", tx_hash="0x1", gas_used=21_000, realized_profit=1))
    assert trade.id not in risk.book and not executor.in_flight


def test_eth_denominated_trades_need_the_minimum_profit_in_eth():
    executor, _ = wrap(Inner())
    tiny = make_trade(amount_in=ETH // 10, expected_profit=ETH // 2000, gas_cost=0)
    result = asyncio.run(executor.execute(tiny))
    assert result.status == "refused" and result.reason.startswith("min_profit:")


def test_a_second_final_result_is_ignored():
    trade = small_trade()
    executor, risk = wrap(Inner(ExecutionResult("", "reverted", tx_hash="0x1", gas_used=21_000)))
    asyncio.run(executor.execute(trade))
    loss = risk.ledger.loss(T0, 3600)
    executor.on_final(trade, ExecutionResult(trade.id, "failed"))
    assert risk.ledger.loss(T0, 3600) == loss and risk.breaker("arb1").failures == 1
