"""The builder's share: a configurable part of the expected profit, paid as a priority fee or to coinbase.

``coinbase``: CoinbaseArbExecutor's 7-argument ``execute`` sends the payment to
``block.coinbase`` only if the cycle made ``min_profit + payment`` (paid when it lands, never for
a failure; the payment comes out of the profit, so the trade stays at least ``min_profit``).
``priority``: the same amount spread over the gas the simulation used, as priority fee per gas.
Either way the builder sees the same value per wei; coinbase payments do not depend on the gas
estimate, priority fees need no special contract.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from functools import cache

from mevops.engine.types import ArbTrade

MODES = ("coinbase", "priority")
BPS = 10_000


@dataclass(frozen=True)
class BribePolicy:
    mode: str = "coinbase"
    share_bps: int = 5_000          # of the expected net profit (profit - gas), 0..10000

    def __post_init__(self) -> None:
        if self.mode not in MODES:
            raise ValueError(f"bribe mode is one of {', '.join(MODES)}, not {self.mode!r}")
        if not 0 <= self.share_bps <= BPS:
            raise ValueError("bribe share_bps is 0..10000")

    def amount(self, trade: ArbTrade, to_wei: Callable[[str, int], int]) -> int:
        """The bribe in wei: ``share`` of the trade's expected net profit, converted to wei; 0 if none."""
        net = trade.expected_profit - trade.gas_cost
        return to_wei(trade.token, net * self.share_bps // BPS) if net > 0 else 0

    @staticmethod
    def priority_fee(bribe_wei: int, gas_used: int, floor: int) -> int:
        """Priority fee per gas that pays ``bribe_wei`` over ``gas_used`` (never below ``floor``)."""
        return max(floor, bribe_wei // gas_used if gas_used > 0 else 0)


def same_token(native: str) -> Callable[[str, int], int]:
    """``to_wei`` for profits in the wrapped native token (WETH): 1 unit is 1 wei; other tokens refused."""
    native = native.lower()

    def to_wei(token: str, amount: int) -> int:
        if token.lower() != native:
            raise ValueError(f"no price to turn {token} profit into wei for the bribe")
        return amount

    return to_wei


@cache
def _execute_with_payment() -> bytes:
    from mevops.contracts.coinbase_executor import selector

    return selector("execute", 7)


def coinbase_calldata(trade: ArbTrade, payment: int) -> bytes:
    """``CoinbaseArbExecutor.execute(pools, zero_for_one, fees_bps, amount_in, token_in, min_profit,
    coinbase_payment)``, encoded directly like ``arb_call.execute_calldata`` (seven head words, then
    three arrays of one length); tests/unit/test_bundle_requests.py checks it against eth_abi."""
    n = len(trade.hops)
    array = 32 * (1 + n)
    head = 7 * 32
    words = [head, head + array, head + 2 * array, trade.amount_in, int(trade.token, 16), trade.min_profit, payment,
             n, *(int(h.pool, 16) for h in trade.hops), n, *(int(h.zero_for_one) for h in trade.hops),
             n, *(h.fee_bps for h in trade.hops)]
    return _execute_with_payment() + b"".join(w.to_bytes(32, "big") for w in words)
