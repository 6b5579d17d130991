"""What the risk manager remembers: open trades (exposure and worst case) and realised losses.

Worst case of an open trade. An ``ArbTrade`` is executed by a contract that reverts unless the
trade ends with at least ``amount_in + min_profit`` of the token. With ``min_profit >= 0`` the
trade cannot lose any of the token, so the most it can lose is the gas it burns, at most
``gas_limit * max_fee_per_gas`` wei. That is the worst case counted against the loss limits for
as long as the trade is open (the risk manager refuses trades with ``min_profit < 0``).

Losses are counted gross: each settled trade that lost adds its loss; profits of other trades do
not offset it. A loss counts from the moment it is realised, for one rolling hour and one rolling
day (not calendar periods).
"""

from __future__ import annotations

from collections import deque
from collections.abc import Iterator
from dataclasses import dataclass, field

from mevops.engine.risk.limits import DAY


@dataclass
class RollingSum:
    """Amounts stamped with the time they happened, summed over a trailing window."""

    horizon: int = DAY
    _entries: deque[tuple[float, int]] = field(default_factory=deque)
    _latest: float = float("-inf")

    def add(self, at: float, amount: int) -> None:
        if amount <= 0:
            return
        self._entries.append((at, amount))
        self._latest = max(self._latest, at)
        cutoff = self._latest - self.horizon
        if self._entries[0][0] <= cutoff:
            self._entries = deque(e for e in self._entries if e[0] > cutoff)

    def total(self, now: float, window: int) -> int:
        """The sum of the amounts that happened in ``(now - window, now]`` (and any stamped later)."""
        assert window <= self.horizon
        cutoff = now - window
        return sum(amount for at, amount in self._entries if at > cutoff)


@dataclass(frozen=True)
class OpenTrade:
    id: str
    strategy: str
    type: str
    chain: str
    exposure_usd: int      # USD value of the input
    worst_loss_usd: int    # USD value of gas_limit * max_fee_per_gas (see the module docstring)
    worst_gas_wei: int     # gas_limit * max_fee_per_gas
    opened_at: float


@dataclass
class ExposureBook:
    trades: dict[str, OpenTrade] = field(default_factory=dict)

    def __contains__(self, trade_id: object) -> bool:
        return trade_id in self.trades

    def __iter__(self) -> Iterator[OpenTrade]:
        return iter(self.trades.values())

    def open(self, trade: OpenTrade) -> None:
        assert trade.id not in self.trades, f"trade {trade.id} is already open"
        self.trades[trade.id] = trade

    def close(self, trade_id: str) -> OpenTrade:
        return self.trades.pop(trade_id)

    def exposure(self) -> int:
        return sum(t.exposure_usd for t in self)

    def worst_loss(self, strategy_type: str | None = None) -> int:
        return sum(t.worst_loss_usd for t in self if strategy_type is None or t.type == strategy_type)

    def worst_gas(self, chain: str) -> int:
        return sum(t.worst_gas_wei for t in self if t.chain == chain)

    def pending(self, chain: str) -> int:
        return sum(1 for t in self if t.chain == chain)


@dataclass
class LossLedger:
    """Realised losses (USD, all strategies and per type) and gas spent (wei, per chain)."""

    all: RollingSum = field(default_factory=RollingSum)
    by_type: dict[str, RollingSum] = field(default_factory=dict)
    gas_by_chain: dict[str, RollingSum] = field(default_factory=dict)

    def record(self, strategy_type: str, chain: str, loss_usd: int, gas_wei: int, at: float) -> None:
        self.all.add(at, loss_usd)
        self.by_type.setdefault(strategy_type, RollingSum()).add(at, loss_usd)
        self.gas_by_chain.setdefault(chain, RollingSum()).add(at, gas_wei)

    def loss(self, now: float, window: int, strategy_type: str | None = None) -> int:
        if strategy_type is None:
            return self.all.total(now, window)
        sums = self.by_type.get(strategy_type)
        return sums.total(now, window) if sums else 0

    def gas(self, now: float, chain: str, window: int = DAY) -> int:
        sums = self.gas_by_chain.get(chain)
        return sums.total(now, window) if sums else 0
