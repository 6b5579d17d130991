"""Opportunities, trades and PnL: the part of the store the executor writes.

A trade's life: ``record_signed_trade`` (durable before the send; the tx hash is the hash of the
signed bytes, known before broadcasting) → ``mark_sent`` → ``mark_mined`` | ``mark_reverted`` |
``mark_dropped``. A trade may go from signed straight to a final state (a restart finds the
receipt of a transaction sent just before a crash). Final states are final; repeating the same
final mark is a no-op, so that reconciling twice is harmless. The transition to mined or reverted
adds the trade to ``pnl_daily`` in the same transaction.
"""

from __future__ import annotations

import uuid
from collections import defaultdict
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import UTC, date, datetime
from typing import Any

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from mevops.engine.store import models
from mevops.engine.store.columns import utcnow
from mevops.engine.store.records import OpportunityRecord, Page, PendingTrade, PnlRow, StoreError, TradeRecord
from mevops.engine.types import ArbTrade

NEXT_STATUSES = {"signed": {"sent", "mined", "reverted", "dropped"}, "sent": {"sent", "mined", "reverted", "dropped"}}
OPPORTUNITY_AFTER = {"sent": "sent", "mined": "landed", "reverted": "failed", "dropped": "failed"}
MAX_PAGE_SIZE = 1000


class TradeBook:
    _session: Callable[[], AbstractContextManager[Session]]
    _durable_session: Callable[[], AbstractContextManager[Session]]

    # -- opportunities -----------------------------------------------------------------------
    def record_opportunity(self, *, chain: str, strategy: str, block: int, cycle: dict[str, Any], token: str,
                           amount_in: int, expected_profit: int, net_profit: int, status: str = "found",
                           reason: str = "", id: str | None = None, at: datetime | None = None) -> str:
        _check_status(status, models.OPPORTUNITY_STATUSES)
        opportunity_id = id or uuid.uuid4().hex
        with self._session() as s:
            s.add(models.Opportunity(id=opportunity_id, chain=chain, strategy=strategy, block=block, cycle=cycle,
                                     token=token, amount_in=amount_in, expected_profit=expected_profit,
                                     net_profit=net_profit, status=status, reason=reason,
                                     created_at=at or utcnow(), updated_at=at or utcnow()))
        return opportunity_id

    def record_trade_opportunity(self, trade: ArbTrade, status: str = "found", reason: str = "") -> str:
        """The opportunity behind an ``ArbTrade`` action, under the action's id."""
        cycle = {"hops": [{"pool": h.pool, "token_in": h.token_in, "token_out": h.token_out,
                           "zero_for_one": h.zero_for_one, "fee_bps": h.fee_bps} for h in trade.hops],
                 "min_profit": str(trade.min_profit), "gas_limit": trade.gas_limit}
        return self.record_opportunity(chain=trade.chain, strategy=trade.strategy, block=trade.block, cycle=cycle,
                                       token=trade.token, amount_in=trade.amount_in,
                                       expected_profit=trade.expected_profit, net_profit=trade.net_profit,
                                       status=status, reason=reason, id=trade.id)

    def set_opportunity_status(self, opportunity_id: str, status: str, reason: str = "") -> None:
        _check_status(status, models.OPPORTUNITY_STATUSES)
        with self._session() as s:
            row = s.get(models.Opportunity, opportunity_id)
            if row is None:
                raise StoreError(f"no opportunity {opportunity_id}")
            row.status, row.reason, row.updated_at = status, reason or row.reason, utcnow()

    def opportunity(self, opportunity_id: str) -> OpportunityRecord | None:
        with self._session() as s:
            row = s.get(models.Opportunity, opportunity_id)
            return OpportunityRecord.of(row) if row else None

    # -- trades ------------------------------------------------------------------------------
    def record_signed_trade(self, trade_id: str, nonce: int, tx_hash: str, raw_tx: bytes, *, chain: str,
                            strategy: str, sender: str, token: str, amount_in: int | None = None,
                            opportunity_id: str | None = None, at: datetime | None = None) -> None:
        """Durable when it returns: call it after signing and before sending. Recording the same
        transaction again is a no-op; a different transaction for the same trade is refused."""
        if not isinstance(raw_tx, (bytes, bytearray)) or not raw_tx:
            raise StoreError("raw_tx must be the signed transaction's bytes")
        with self._durable_session() as s:
            existing = s.get(models.Trade, trade_id)
            if existing is not None:
                if existing.tx_hash != tx_hash:
                    raise StoreError(f"trade {trade_id} already has transaction {existing.tx_hash}: "
                                     "re-broadcast it, never sign a new one for the same trade")
                return
            now = at or utcnow()
            s.add(models.Trade(id=trade_id, opportunity_id=opportunity_id, chain=chain, strategy=strategy,
                               sender=sender, nonce=nonce, tx_hash=tx_hash, raw_tx=bytes(raw_tx), status="signed",
                               token=token, amount_in=amount_in, reason="", created_at=now, updated_at=now))

    def mark_sent(self, trade_id: str, at: datetime | None = None) -> bool:
        return self._transition(trade_id, "sent", at)

    def mark_mined(self, trade_id: str, *, block: int, gas_used: int, effective_gas_price: int,
                   realized_profit: int | None, reason: str = "", at: datetime | None = None) -> bool:
        """``realized_profit`` (token units, before gas) may be None when unknown; PnL then counts 0."""
        return self._transition(trade_id, "mined", at, block=block, gas_used=gas_used,
                                effective_gas_price=effective_gas_price, realized_profit=realized_profit, reason=reason)

    def mark_reverted(self, trade_id: str, *, block: int, gas_used: int, effective_gas_price: int, reason: str = "",
                      at: datetime | None = None) -> bool:
        return self._transition(trade_id, "reverted", at, block=block, gas_used=gas_used,
                                effective_gas_price=effective_gas_price, realized_profit=0, reason=reason)

    def mark_dropped(self, trade_id: str, reason: str = "", at: datetime | None = None) -> bool:
        return self._transition(trade_id, "dropped", at, reason=reason)

    def _transition(self, trade_id: str, status: str, at: datetime | None, **fields: Any) -> bool:
        """Returns False when the trade already was in this final state (nothing changed)."""
        now = at or utcnow()
        with self._session() as s:
            row = s.get(models.Trade, trade_id, with_for_update=True)
            if row is None:
                raise StoreError(f"no trade {trade_id}")
            if row.status == status and status in models.FINAL_TRADE_STATUSES:
                return False
            if status not in NEXT_STATUSES.get(row.status, set()):
                raise StoreError(f"trade {trade_id} is {row.status}: it cannot become {status}")
            row.status, row.updated_at = status, now
            for name, value in fields.items():
                if value is not None and value != "":
                    setattr(row, name, value)
            if status in ("mined", "reverted"):
                _add_to_pnl(s, row, now)
            if row.opportunity_id is not None:
                opportunity = s.get(models.Opportunity, row.opportunity_id)
                if opportunity is not None:
                    opportunity.status, opportunity.updated_at = OPPORTUNITY_AFTER[status], now
            return True

    def trade(self, trade_id: str) -> TradeRecord | None:
        with self._session() as s:
            row = s.get(models.Trade, trade_id)
            return TradeRecord.of(row) if row else None

    def pending_trades(self, chain: str | None = None) -> list[PendingTrade]:
        """Signed or sent, not final, by chain, sender and nonce: what a restart must reconcile."""
        query = select(models.Trade).where(models.Trade.status.in_(("signed", "sent")))
        if chain is not None:
            query = query.where(models.Trade.chain == chain)
        query = query.order_by(models.Trade.chain, models.Trade.sender, models.Trade.nonce)
        with self._session() as s:
            return [PendingTrade(r.id, r.chain, r.strategy, r.sender, r.nonce, r.tx_hash, r.raw_tx, r.status, r.created_at)
                    for r in s.scalars(query)]

    def last_nonce(self, chain: str, sender: str) -> int | None:
        """The highest nonce signed for ``sender`` on ``chain`` (dropped transactions excluded: their
        nonce was not used) — the ``last_used`` of a restarted ``NonceManager``."""
        query = (select(func.max(models.Trade.nonce))
                 .where(models.Trade.chain == chain, models.Trade.sender == sender, models.Trade.status != "dropped"))
        with self._session() as s:
            return s.scalar(query)

    def trades(self, *, chain: str | None = None, strategy: str | None = None, status: str | None = None,
               since: datetime | None = None, until: datetime | None = None, page: int = 1,
               page_size: int = 50) -> Page[TradeRecord]:
        """Newest first. ``since`` inclusive, ``until`` exclusive."""
        if page < 1 or not 1 <= page_size <= MAX_PAGE_SIZE:
            raise ValueError(f"page must be >= 1 and page_size within 1..{MAX_PAGE_SIZE}")
        T = models.Trade
        conditions = [c for c in (
            T.chain == chain if chain is not None else None,
            T.strategy == strategy if strategy is not None else None,
            T.status == status if status is not None else None,
            T.created_at >= since if since is not None else None,
            T.created_at < until if until is not None else None,
        ) if c is not None]
        with self._session() as s:
            total = s.scalar(select(func.count()).select_from(T).where(*conditions)) or 0
            rows = s.scalars(select(T).where(*conditions).order_by(T.created_at.desc(), T.id)
                             .offset((page - 1) * page_size).limit(page_size))
            return Page([TradeRecord.of(r) for r in rows], total, page, page_size)

    # -- pnl ---------------------------------------------------------------------------------
    def pnl(self, chain: str | None = None, since: date | datetime | None = None, *, strategy: str | None = None,
            by_day: bool = False) -> list[PnlRow]:
        """Realised profit per chain, strategy and token (and day), from the UTC day of ``since`` on.
        Sums are exact (Python ints), whatever the backend."""
        P = models.PnlDaily
        query = select(P)
        if chain is not None:
            query = query.where(P.chain == chain)
        if strategy is not None:
            query = query.where(P.strategy == strategy)
        if since is not None:
            query = query.where(P.day >= (since.astimezone(UTC).date() if isinstance(since, datetime) else since))
        totals: dict[tuple, list[int]] = defaultdict(lambda: [0, 0, 0, 0])
        with self._session() as s:
            for row in s.scalars(query):
                key = (row.chain, row.strategy, row.token, row.day if by_day else None)
                acc = totals[key]
                acc[0] += row.mined
                acc[1] += row.reverted
                acc[2] += row.realized_profit
                acc[3] += row.gas_cost_wei
        return [PnlRow(c, st, tok, day, *acc) for (c, st, tok, day), acc in
                sorted(totals.items(), key=lambda item: (item[0][:3], item[0][3] or date.min))]


def _check_status(status: str, allowed: tuple[str, ...]) -> None:
    if status not in allowed:
        raise StoreError(f"status {status!r} is not one of {', '.join(allowed)}")


def _add_to_pnl(s: Session, trade: models.Trade, at: datetime) -> None:
    day = at.astimezone(UTC).date()
    key = (day, trade.chain, trade.strategy, trade.token)
    row = s.get(models.PnlDaily, key, with_for_update=True)
    if row is None:
        row = models.PnlDaily(day=day, chain=trade.chain, strategy=trade.strategy, token=trade.token,
                              mined=0, reverted=0, realized_profit=0, gas_cost_wei=0)
        s.add(row)
    if trade.status == "mined":
        row.mined += 1
        row.realized_profit += trade.realized_profit or 0
    else:
        row.reverted += 1
    row.gas_cost_wei += (trade.gas_used or 0) * (trade.effective_gas_price or 0)

