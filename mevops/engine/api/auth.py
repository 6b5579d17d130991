"""Bearer tokens with roles, and rate limits per token and scope.

Roles are ordered: viewer (reads, streams) < operator (start/stop, strategies, emergency stop)
< admin (config, tokens). A presented token is hashed (SHA-256) and looked up in the store; the
answer is cached for a few seconds so a busy dashboard does not hit the database per request,
and a revocation takes effect within that time (the API's own revocations at once).

Rate limits come from ``global.security.api_rate_limits`` (``default``, ``trading``, ``streams``,
any other scope name): a token bucket per (token, scope) refilling at count/period, bursting to count.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from mevops.engine.store.admin import hash_token

ROLES = ("viewer", "operator", "admin")
RANK = {role: i for i, role in enumerate(ROLES)}
CACHE_SECONDS = 5.0


@dataclass(frozen=True)
class Principal:
    token_id: int
    name: str
    role: str

    def may(self, role: str) -> bool:
        return RANK[self.role] >= RANK[role]

    @property
    def who(self) -> str:
        return f"token:{self.token_id}:{self.name}"


class Authenticator:
    def __init__(self, lookup: Callable[[str], Any], *, ttl: float = CACHE_SECONDS, clock: Callable[[], float] = time.monotonic) -> None:
        """``lookup(token_hash)`` → a TokenRecord or None (the store's ``token_by_hash``)."""
        self.lookup, self.ttl, self.clock = lookup, ttl, clock
        self._cache: dict[str, tuple[float, Principal | None]] = {}

    def cached(self, token: str) -> tuple[bool, Principal | None]:
        """(known, principal) from the cache alone: no database call (the event loop's fast path)."""
        hit = self._cache.get(hash_token(token))
        if hit is not None and hit[0] > self.clock():
            return True, hit[1]
        return False, None

    def authenticate(self, token: str) -> Principal | None:
        digest = hash_token(token)
        now = self.clock()
        hit = self._cache.get(digest)
        if hit is not None and hit[0] > now:
            return hit[1]
        record = self.lookup(digest)
        principal = Principal(record.id, record.name, record.role) if record is not None and record.active else None
        if len(self._cache) > 10_000:
            self._cache.clear()
        self._cache[digest] = (now + self.ttl, principal)
        return principal

    def forget(self) -> None:
        self._cache.clear()


class RateLimiter:
    """Token buckets; ``limits`` maps scope → (count, period_seconds). Unknown scopes use ``default``."""

    def __init__(self, limits: dict[str, tuple[int, float]], *, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._buckets: dict[tuple[str, str], list[float]] = {}
        self.limits: dict[str, tuple[int, float]] = {}
        self.configure(limits)

    def configure(self, limits: dict[str, tuple[int, float]]) -> None:
        self.limits = dict(limits)
        self._buckets.clear()

    def hit(self, key: str, scope: str) -> float:
        """0 when allowed, else the seconds to wait before a request would be."""
        limit = self.limits.get(scope) or self.limits.get("default")
        if limit is None:
            return 0.0
        count, period = limit
        rate = count / period
        now = self.clock()
        bucket = self._buckets.get((key, scope))
        if bucket is None:
            bucket = self._buckets[(key, scope)] = [float(count), now]
        tokens = min(float(count), bucket[0] + (now - bucket[1]) * rate)
        bucket[1] = now
        if tokens >= 1.0:
            bucket[0] = tokens - 1.0
            return 0.0
        bucket[0] = tokens
        return (1.0 - tokens) / rate


def limits_from_config(cfg: Any) -> dict[str, tuple[int, float]]:
    rates = cfg.global_.security.api_rate_limits
    return {scope: (rate.count, float(rate.period)) for scope, rate in rates.items()}
