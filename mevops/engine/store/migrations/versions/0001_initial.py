"""initial: opportunities, trades, pnl_daily, audit_log, api_tokens, kv

Revision ID: 0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from mevops.engine.store.columns import BigInt, UtcDateTime

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

_AUTO_ID = sa.BigInteger().with_variant(sa.Integer(), "sqlite")  # INTEGER PRIMARY KEY autoincrements on SQLite


def _times(*names: str) -> list[sa.Column]:
    return [sa.Column(name, UtcDateTime(), nullable=False) for name in names]


def upgrade() -> None:
    _opportunities()
    _trades()
    _pnl_daily()
    _admin()


def _opportunities() -> None:
    op.create_table(
        "opportunities",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("block", sa.BigInteger(), nullable=False),
        sa.Column("cycle", sa.JSON(), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("amount_in", BigInt(), nullable=False),
        sa.Column("expected_profit", BigInt(), nullable=False),
        sa.Column("net_profit", BigInt(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        *_times("created_at", "updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_opportunities")),
        sa.CheckConstraint("status IN ('found', 'simulated', 'sent', 'landed', 'failed', 'refused')",
                           name=op.f("ck_opportunities_status")),
    )
    op.create_index(op.f("ix_opportunities_strategy"), "opportunities", ["strategy"])
    op.create_index(op.f("ix_opportunities_chain_created"), "opportunities", ["chain", "created_at"])


def _trades() -> None:
    op.create_table(
        "trades",
        sa.Column("id", sa.String(64), nullable=False),
        sa.Column("opportunity_id", sa.String(64), nullable=True),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("sender", sa.String(42), nullable=False),
        sa.Column("nonce", sa.BigInteger(), nullable=False),
        sa.Column("tx_hash", sa.String(66), nullable=False),
        sa.Column("raw_tx", sa.LargeBinary(), nullable=False),
        sa.Column("status", sa.String(16), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("amount_in", BigInt(), nullable=True),
        sa.Column("block", sa.BigInteger(), nullable=True),
        sa.Column("gas_used", sa.BigInteger(), nullable=True),
        sa.Column("effective_gas_price", BigInt(), nullable=True),
        sa.Column("realized_profit", BigInt(), nullable=True),
        sa.Column("reason", sa.Text(), nullable=False),
        *_times("created_at", "updated_at"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_trades")),
        sa.ForeignKeyConstraint(["opportunity_id"], ["opportunities.id"], name=op.f("fk_trades_opportunity_id_opportunities")),
        sa.UniqueConstraint("tx_hash", name=op.f("uq_trades_tx_hash")),
        sa.CheckConstraint("status IN ('signed', 'sent', 'mined', 'reverted', 'dropped')", name=op.f("ck_trades_status")),
    )
    op.create_index(op.f("ix_trades_opportunity_id"), "trades", ["opportunity_id"])
    op.create_index(op.f("ix_trades_strategy"), "trades", ["strategy"])
    op.create_index(op.f("ix_trades_chain_status"), "trades", ["chain", "status"])
    op.create_index(op.f("ix_trades_chain_sender_nonce"), "trades", ["chain", "sender", "nonce"])
    op.create_index(op.f("ix_trades_created"), "trades", ["created_at"])


def _pnl_daily() -> None:
    op.create_table(
        "pnl_daily",
        sa.Column("day", sa.Date(), nullable=False),
        sa.Column("chain", sa.String(64), nullable=False),
        sa.Column("strategy", sa.String(64), nullable=False),
        sa.Column("token", sa.String(64), nullable=False),
        sa.Column("mined", sa.Integer(), nullable=False),
        sa.Column("reverted", sa.Integer(), nullable=False),
        sa.Column("realized_profit", BigInt(unbounded=True), nullable=False),
        sa.Column("gas_cost_wei", BigInt(unbounded=True), nullable=False),
        sa.PrimaryKeyConstraint("day", "chain", "strategy", "token", name=op.f("pk_pnl_daily")),
    )


def _admin() -> None:
    op.create_table(
        "audit_log",
        sa.Column("id", _AUTO_ID, nullable=False, autoincrement=True),
        sa.Column("at", UtcDateTime(), nullable=False),
        sa.Column("who", sa.String(128), nullable=False),
        sa.Column("action", sa.String(64), nullable=False),
        sa.Column("target", sa.String(256), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(op.f("ix_audit_log_at"), "audit_log", ["at"])

    op.create_table(
        "api_tokens",
        sa.Column("id", _AUTO_ID, nullable=False, autoincrement=True),
        sa.Column("name", sa.String(128), nullable=False),
        sa.Column("role", sa.String(16), nullable=False),
        sa.Column("token_hash", sa.String(64), nullable=False),
        sa.Column("created_at", UtcDateTime(), nullable=False),
        sa.Column("revoked_at", UtcDateTime(), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_api_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_api_tokens_token_hash")),
        sa.CheckConstraint("role IN ('viewer', 'operator', 'admin')", name=op.f("ck_api_tokens_role")),
    )

    op.create_table(
        "kv",
        sa.Column("key", sa.String(128), nullable=False),
        sa.Column("value", sa.JSON(), nullable=True),
        sa.Column("updated_at", UtcDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("key", name=op.f("pk_kv")),
    )


def downgrade() -> None:
    for table in ("kv", "api_tokens", "audit_log", "pnl_daily", "trades", "opportunities"):
        op.drop_table(table)
