"""audit_log.role (the role a call was made with) and an index for the API's trade history

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22

Upgrades a 0001 database in place: existing audit rows get role '' (made before roles were
recorded). SQLite alters the table in batch mode (copy and rename, constraints kept by name).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("audit_log") as batch:
        batch.add_column(sa.Column("role", sa.String(16), nullable=False, server_default=""))
    op.create_index(op.f("ix_trades_strategy_created"), "trades", ["strategy", "created_at"])


def downgrade() -> None:
    op.drop_index(op.f("ix_trades_strategy_created"), table_name="trades")
    with op.batch_alter_table("audit_log") as batch:
        batch.drop_column("role")
