"""The engine's storage: SQLAlchemy 2 models and Alembic migrations; SQLite (WAL) by default,
PostgreSQL in production (``mev_engine.store.url``).

``Store(url).migrate()`` then the record/mark/query methods; ``reconcile_pending`` resumes after
a crash without ever signing a second transaction for a trade.
"""

from mevops.engine.store.records import (
    AuditRecord,
    OpportunityRecord,
    Page,
    PendingTrade,
    PnlRow,
    StoreError,
    TokenRecord,
    TradeRecord,
)
from mevops.engine.store.recovery import ReconcileReport, reconcile_pending
from mevops.engine.store.store import Store

__all__ = ["AuditRecord", "OpportunityRecord", "Page", "PendingTrade", "PnlRow", "ReconcileReport", "Store", "StoreError", "TokenRecord",
           "TradeRecord", "reconcile_pending"]
