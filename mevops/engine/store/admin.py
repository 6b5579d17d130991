"""The audit log, API tokens and the key-value engine state: the part of the store the API writes.

API tokens: ``create_token`` draws 256 random bits, returns the token once and keeps only its
SHA-256 (a slow hash adds nothing against a 256-bit random secret). Audit payloads are redacted
by key name before they are stored (``records.redact``).
"""

from __future__ import annotations

import hashlib
import secrets
from collections.abc import Callable
from contextlib import AbstractContextManager
from datetime import datetime
from typing import Any

from sqlalchemy import select
from sqlalchemy.orm import Session

from mevops.engine.store import models
from mevops.engine.store.columns import utcnow
from mevops.engine.store.records import AuditRecord, StoreError, TokenRecord, redact

TOKEN_PREFIX = "mevops_"


def hash_token(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


class AdminBook:
    _session: Callable[[], AbstractContextManager[Session]]

    # -- audit -------------------------------------------------------------------------------
    def audit(self, who: str, action: str, target: str = "", payload: dict[str, Any] | None = None,
              at: datetime | None = None, role: str = "") -> int:
        with self._session() as s:
            entry = models.AuditEntry(who=who, role=role, action=action, target=target, payload=redact(payload or {}),
                                      at=at or utcnow())
            s.add(entry)
            s.flush()
            return entry.id

    def audit_log(self, *, limit: int = 100, since: datetime | None = None, who: str | None = None) -> list[AuditRecord]:
        """Newest first."""
        A = models.AuditEntry
        query = select(A).order_by(A.at.desc(), A.id.desc()).limit(limit)
        if since is not None:
            query = query.where(A.at >= since)
        if who is not None:
            query = query.where(A.who == who)
        with self._session() as s:
            return [AuditRecord(r.id, r.at, r.who, r.action, r.target, r.payload, r.role) for r in s.scalars(query)]

    # -- API tokens --------------------------------------------------------------------------
    def create_token(self, name: str, role: str) -> tuple[str, TokenRecord]:
        """A new token: the clear text is returned here and never again."""
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        return token, self.add_token_hash(name, role, hash_token(token))

    def add_token_hash(self, name: str, role: str, token_hash: str) -> TokenRecord:
        if role not in models.ROLES:
            raise StoreError(f"role {role!r} is not one of {', '.join(models.ROLES)}")
        if len(token_hash) != 64 or any(c not in "0123456789abcdef" for c in token_hash):
            raise StoreError("token_hash must be a lowercase hex SHA-256")
        with self._session() as s:
            row = models.ApiToken(name=name, role=role, token_hash=token_hash, created_at=utcnow())
            s.add(row)
            s.flush()
            return TokenRecord.of(row)

    def token_by_hash(self, token_hash: str) -> TokenRecord | None:
        with self._session() as s:
            row = s.scalar(select(models.ApiToken).where(models.ApiToken.token_hash == token_hash))
            return TokenRecord.of(row) if row else None

    def verify_token(self, token: str) -> TokenRecord | None:
        """The active token record for a presented token, or None (unknown or revoked)."""
        record = self.token_by_hash(hash_token(token))
        return record if record is not None and record.active else None

    def tokens(self, *, include_revoked: bool = False) -> list[TokenRecord]:
        query = select(models.ApiToken).order_by(models.ApiToken.id)
        if not include_revoked:
            query = query.where(models.ApiToken.revoked_at.is_(None))
        with self._session() as s:
            return [TokenRecord.of(r) for r in s.scalars(query)]

    def revoke_token(self, token_id: int, at: datetime | None = None) -> bool:
        """False when there is no such token or it was revoked already."""
        with self._session() as s:
            row = s.get(models.ApiToken, token_id)
            if row is None or row.revoked_at is not None:
                return False
            row.revoked_at = at or utcnow()
            return True

    # -- key-value engine state ----------------------------------------------------------------
    def get(self, key: str, default: Any = None) -> Any:
        with self._session() as s:
            row = s.get(models.KeyValue, key)
            return default if row is None else row.value

    def set(self, key: str, value: Any) -> None:
        """Any JSON value (ints beyond 2**53 are kept exactly by Python's json, not by every reader)."""
        with self._session() as s:
            row = s.get(models.KeyValue, key, with_for_update=True)
            if row is None:
                s.add(models.KeyValue(key=key, value=value, updated_at=utcnow()))
            else:
                row.value, row.updated_at = value, utcnow()
