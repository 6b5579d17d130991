"""Positions of a ``LendingMarket`` rebuilt from its events: reserves, oracle prices, per-user balances.

``apply(event)`` returns the users whose health factor may have changed (a price update touches
every user holding or owing that asset), so a strategy re-checks only those.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from mevops.engine.lending.events import (
    Borrowed,
    LendingEvent,
    Liquidated,
    PriceUpdated,
    Repaid,
    ReserveListed,
    Supplied,
    Withdrawn,
)
from mevops.engine.lending.health import AccountData, ReserveConfig, account_data


def _key(address: str) -> str:
    return address.lower()


@dataclass
class Position:
    collateral: dict[str, int] = field(default_factory=dict)
    debt: dict[str, int] = field(default_factory=dict)


class PositionTracker:
    def __init__(self, configs: Iterable[ReserveConfig] = ()) -> None:
        self.configs: dict[str, ReserveConfig] = {}
        self.prices: dict[str, int] = {}
        self.positions: dict[str, Position] = {}
        for cfg in configs:
            self.configs[_key(cfg.asset)] = cfg

    def position(self, user: str) -> Position:
        return self.positions.setdefault(_key(user), Position())

    def _add(self, book: dict[str, int], asset: str, amount: int) -> None:
        book[_key(asset)] = book.get(_key(asset), 0) + amount

    def apply(self, event: LendingEvent) -> set[str]:
        """Apply one event; returns the (lowercase) users to re-check."""
        if isinstance(event, ReserveListed):
            self.configs[_key(event.asset)] = ReserveConfig(_key(event.asset), event.decimals, event.ltv,
                                                            event.liquidation_threshold, event.liquidation_bonus)
            return set()
        if isinstance(event, PriceUpdated):
            asset = _key(event.asset)
            self.prices[asset] = event.price
            return {u for u, p in self.positions.items() if p.collateral.get(asset) or p.debt.get(asset)}
        if isinstance(event, Supplied):
            self._add(self.position(event.user).collateral, event.asset, event.amount)
        elif isinstance(event, Withdrawn):
            self._add(self.position(event.user).collateral, event.asset, -event.amount)
        elif isinstance(event, Borrowed):
            self._add(self.position(event.user).debt, event.asset, event.amount)
        elif isinstance(event, Repaid):
            self._add(self.position(event.user).debt, event.asset, -event.amount)
        elif isinstance(event, Liquidated):
            position = self.position(event.user)
            self._add(position.debt, event.debt_asset, -event.debt_covered)
            self._add(position.collateral, event.collateral_asset, -event.collateral_seized)
        else:
            return set()
        return {_key(event.user)}

    def account(self, user: str) -> AccountData:
        position = self.position(user)
        return account_data(position.collateral, position.debt, self.prices, self.configs)

    def liquidatable(self, users: Iterable[str] | None = None) -> list[str]:
        """Users (lowercase) with health factor below 1, lowest first."""
        candidates = self.positions if users is None else users
        found = [(self.account(u).health_factor, _key(u)) for u in candidates]
        return [u for hf, u in sorted(found) if hf < 10**18]
