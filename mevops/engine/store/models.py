"""The engine's tables (SQLAlchemy 2 declarative). Migrations in ``migrations/versions`` create them.

Never stored: private keys, API keys or API tokens in clear. A trade keeps its signed raw
transaction (signature, no key) so that a restart can re-broadcast the very same transaction;
an API token keeps only the SHA-256 of a 256-bit random secret.
"""

from __future__ import annotations

from datetime import date, datetime
from typing import Any, ClassVar

from sqlalchemy import (
    JSON,
    BigInteger,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column

from mevops.engine.store.columns import BigInt, UtcDateTime, utcnow

OPPORTUNITY_STATUSES = ("found", "simulated", "sent", "landed", "failed", "refused")
TRADE_STATUSES = ("signed", "sent", "mined", "reverted", "dropped")
FINAL_TRADE_STATUSES = ("mined", "reverted", "dropped")
ROLES = ("viewer", "operator", "admin")


def _one_of(column: str, values: tuple[str, ...]) -> str:
    return f"{column} IN ({', '.join(repr(v) for v in values)})"


# Named constraints, so that later migrations can alter them (SQLite batch mode needs names).
NAMING = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {int: BigInteger, datetime: UtcDateTime, dict[str, Any]: JSON}


class Opportunity(Base):
    __tablename__ = "opportunities"
    __table_args__ = (
        CheckConstraint(_one_of("status", OPPORTUNITY_STATUSES), name="status"),
        Index("ix_opportunities_chain_created", "chain", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    chain: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64), index=True)
    block: Mapped[int]
    cycle: Mapped[dict[str, Any]] = mapped_column(JSON)       # hops, pools, tokens: what was seen
    token: Mapped[str] = mapped_column(String(64))
    amount_in: Mapped[int] = mapped_column(BigInt)
    expected_profit: Mapped[int] = mapped_column(BigInt)
    net_profit: Mapped[int] = mapped_column(BigInt)
    status: Mapped[str] = mapped_column(String(16))
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Trade(Base):
    __tablename__ = "trades"
    __table_args__ = (
        CheckConstraint(_one_of("status", TRADE_STATUSES), name="status"),
        Index("ix_trades_chain_status", "chain", "status"),
        Index("ix_trades_chain_sender_nonce", "chain", "sender", "nonce"),
        Index("ix_trades_created", "created_at"),
        Index("ix_trades_strategy_created", "strategy", "created_at"),   # the API's history filter
    )

    id: Mapped[str] = mapped_column(String(64), primary_key=True)             # the action id
    opportunity_id: Mapped[str | None] = mapped_column(ForeignKey("opportunities.id"), index=True)
    chain: Mapped[str] = mapped_column(String(64))
    strategy: Mapped[str] = mapped_column(String(64), index=True)
    sender: Mapped[str] = mapped_column(String(42))
    nonce: Mapped[int]
    tx_hash: Mapped[str] = mapped_column(String(66), unique=True)             # known before the send
    raw_tx: Mapped[bytes] = mapped_column(LargeBinary)                        # signed bytes: re-broadcast, never re-sign
    status: Mapped[str] = mapped_column(String(16))
    token: Mapped[str] = mapped_column(String(64))
    amount_in: Mapped[int | None] = mapped_column(BigInt)
    block: Mapped[int | None]
    gas_used: Mapped[int | None]
    effective_gas_price: Mapped[int | None] = mapped_column(BigInt)
    realized_profit: Mapped[int | None] = mapped_column(BigInt)             # token units, before gas
    reason: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class PnlDaily(Base):
    """Per UTC day, chain, strategy and token: updated in the same transaction that makes a trade final."""

    __tablename__ = "pnl_daily"

    day: Mapped[date] = mapped_column(Date, primary_key=True)
    chain: Mapped[str] = mapped_column(String(64), primary_key=True)
    strategy: Mapped[str] = mapped_column(String(64), primary_key=True)
    token: Mapped[str] = mapped_column(String(64), primary_key=True)
    mined: Mapped[int] = mapped_column(Integer, default=0)
    reverted: Mapped[int] = mapped_column(Integer, default=0)
    realized_profit: Mapped[int] = mapped_column(BigInt(unbounded=True), default=0)   # token units
    gas_cost_wei: Mapped[int] = mapped_column(BigInt(unbounded=True), default=0)      # native units


class AuditEntry(Base):
    __tablename__ = "audit_log"

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(default=utcnow, index=True)
    who: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16), default="", server_default="")   # since 0002
    action: Mapped[str] = mapped_column(String(64))
    target: Mapped[str] = mapped_column(String(256), default="")
    payload: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict)


class ApiToken(Base):
    __tablename__ = "api_tokens"
    __table_args__ = (CheckConstraint(_one_of("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(BigInteger().with_variant(Integer, "sqlite"), primary_key=True, autoincrement=True)
    name: Mapped[str] = mapped_column(String(128))
    role: Mapped[str] = mapped_column(String(16))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)          # hex sha256 of the token
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    revoked_at: Mapped[datetime | None]


class KeyValue(Base):
    """Small engine state, e.g. ``last_block:ethereum``."""

    __tablename__ = "kv"

    key: Mapped[str] = mapped_column(String(128), primary_key=True)
    value: Mapped[Any] = mapped_column(JSON, nullable=True)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
