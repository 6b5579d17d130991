"""What the store hands out: plain frozen records, detached from any session."""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, Generic, TypeVar

from mevops.engine.store import models

T = TypeVar("T")


class StoreError(Exception):
    """A misuse of the store by the engine (a bug), e.g. re-signing a trade that already has a transaction."""


@dataclass(frozen=True)
class PendingTrade:
    """A trade whose transaction is signed (maybe sent) but not final: what a restart reconciles.

    Look up the receipt of ``tx_hash``; if the node does not know the transaction, re-broadcast
    ``raw_tx`` (the same signed bytes, hence the same hash). Never sign a new one for this trade."""

    id: str
    chain: str
    strategy: str
    sender: str
    nonce: int
    tx_hash: str
    raw_tx: bytes
    status: str
    created_at: datetime


@dataclass(frozen=True)
class TradeRecord:
    id: str
    opportunity_id: str | None
    chain: str
    strategy: str
    sender: str
    nonce: int
    tx_hash: str
    status: str
    token: str
    amount_in: int | None
    block: int | None
    gas_used: int | None
    effective_gas_price: int | None
    realized_profit: int | None
    reason: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def of(cls, row: models.Trade) -> TradeRecord:
        return cls(row.id, row.opportunity_id, row.chain, row.strategy, row.sender, row.nonce, row.tx_hash, row.status,
                   row.token, row.amount_in, row.block, row.gas_used, row.effective_gas_price, row.realized_profit,
                   row.reason, row.created_at, row.updated_at)

    @property
    def gas_cost_wei(self) -> int | None:
        if self.gas_used is None or self.effective_gas_price is None:
            return None
        return self.gas_used * self.effective_gas_price


@dataclass(frozen=True)
class OpportunityRecord:
    id: str
    chain: str
    strategy: str
    block: int
    cycle: dict[str, Any]
    token: str
    amount_in: int
    expected_profit: int
    net_profit: int
    status: str
    reason: str
    created_at: datetime

    @classmethod
    def of(cls, row: models.Opportunity) -> OpportunityRecord:
        return cls(row.id, row.chain, row.strategy, row.block, row.cycle, row.token, row.amount_in, row.expected_profit,
                   row.net_profit, row.status, row.reason, row.created_at)


@dataclass(frozen=True)
class Page(Generic[T]):
    items: list[T]
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


@dataclass(frozen=True)
class PnlRow:
    """Token amounts in the token's units; gas in the chain's native wei. ``day`` is None when summed over days."""

    chain: str
    strategy: str
    token: str
    day: date | None
    mined: int
    reverted: int
    realized_profit: int
    gas_cost_wei: int


@dataclass(frozen=True)
class AuditRecord:
    id: int
    at: datetime
    who: str
    action: str
    target: str
    payload: dict[str, Any]
    role: str = ""


@dataclass(frozen=True)
class TokenRecord:
    id: int
    name: str
    role: str
    token_hash: str
    created_at: datetime
    revoked_at: datetime | None

    @property
    def active(self) -> bool:
        return self.revoked_at is None

    @classmethod
    def of(cls, row: models.ApiToken) -> TokenRecord:
        return cls(row.id, row.name, row.role, row.token_hash, row.created_at, row.revoked_at)


_SECRET_KEY = re.compile(r"(private|secret|passw|passphrase|mnemonic|seed|api[_-]?key|apikey|auth|credential|"
                         r"^key$|_key$|^token$|bearer)", re.IGNORECASE)
REDACTED = "[redacted]"


def redact(value: Any) -> Any:
    """Audit payloads are redacted by key name: whatever sits under ``private_key``, ``password``,
    ``api_key``, ``token``... is replaced, at any depth."""
    if isinstance(value, dict):
        return {k: REDACTED if isinstance(k, str) and _SECRET_KEY.search(k) else redact(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [redact(v) for v in value]
    return value
