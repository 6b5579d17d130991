"""The relay's bundles: kept by target block, replaced and cancelled by (signer, replacementUuid).

A uuid belongs to the searcher who signed the request that used it: another signer's cancel or
replacement with the same uuid touches nothing of theirs.
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

from mevops.engine.bundles.relay.txcodec import RawTx
from mevops.engine.bundles.requests import Bundle

STATUSES = ("pending", "included", "failed", "cancelled", "replaced", "expired")


@dataclass
class StoredBundle:
    bundle: Bundle
    txs: list[RawTx]
    signer: str
    received: float = field(default_factory=time.time)
    status: str = "pending"
    reason: str = ""
    included_block: int | None = None

    @property
    def key(self) -> tuple[str, str] | None:
        return (self.signer.lower(), self.bundle.replacement_uuid) if self.bundle.replacement_uuid else None

    def close(self, status: str, reason: str = "") -> None:
        self.status, self.reason = status, reason

    def as_json(self) -> dict[str, Any]:
        return {"blockNumber": hex(self.bundle.block), "status": self.status,
                "reason": self.reason, "signer": self.signer, "replacementUuid": self.bundle.replacement_uuid,
                "includedBlock": hex(self.included_block) if self.included_block is not None else None}


class BundlePool:
    """Bundles by target block. The same transactions sent for several blocks share one bundle hash
    (keccak of the transaction hashes) and are several ``StoredBundle``s, one per block."""

    def __init__(self, history: int = 10_000) -> None:
        self.pending: dict[int, list[StoredBundle]] = {}       # target block → bundles
        self.by_key: dict[tuple[str, str], StoredBundle] = {}
        self.by_hash: dict[str, list[StoredBundle]] = {}        # bundle hash → its copies (one per target block), bounded
        self.history = history

    def add(self, stored: StoredBundle) -> StoredBundle | None:
        """Keep ``stored`` for its block; returns the bundle it replaced (same signer and uuid), if any."""
        replaced = None
        if stored.key is not None and (old := self.by_key.get(stored.key)) is not None and old.status == "pending":
            old.close("replaced", f"by {stored.bundle.hash}")
            self._unlist(old)
            replaced = old
        if stored.key is not None:
            self.by_key[stored.key] = stored
        self.pending.setdefault(stored.bundle.block, []).append(stored)
        self.by_hash.setdefault(stored.bundle.hash, []).append(stored)
        while len(self.by_hash) > self.history:
            self.by_hash.pop(next(iter(self.by_hash)))
        return replaced

    def cancel(self, signer: str, replacement_uuid: str) -> StoredBundle | None:
        stored = self.by_key.pop((signer.lower(), replacement_uuid), None)
        if stored is None or stored.status != "pending":
            return None
        stored.close("cancelled", "eth_cancelBundle")
        self._unlist(stored)
        return stored

    def due(self, block: int, timestamp: int) -> list[StoredBundle]:
        """Pending bundles for ``block`` whose time window holds ``timestamp``; others for it expire."""
        ready = []
        for stored in self.pending.pop(block, []):
            b = stored.bundle
            if b.min_timestamp is not None and timestamp < b.min_timestamp:
                stored.close("expired", f"block {block} at {timestamp} is before minTimestamp {b.min_timestamp}")
            elif b.max_timestamp is not None and timestamp > b.max_timestamp:
                stored.close("expired", f"block {block} at {timestamp} is after maxTimestamp {b.max_timestamp}")
            else:
                ready.append(stored)
                continue
            self._forget_key(stored)
        return ready

    def expire(self, built: int) -> None:
        """Blocks up to ``built`` exist: bundles still waiting for them will never land."""
        for block in [b for b in self.pending if b <= built]:
            for stored in self.pending.pop(block):
                stored.close("expired", f"block {block} was built without the relay")
                self._forget_key(stored)

    def settle(self, stored: StoredBundle, status: str, reason: str = "", block: int | None = None) -> None:
        stored.close(status, reason)
        stored.included_block = block
        self._forget_key(stored)

    def _unlist(self, stored: StoredBundle) -> None:
        bucket = self.pending.get(stored.bundle.block, [])
        if stored in bucket:
            bucket.remove(stored)

    def _forget_key(self, stored: StoredBundle) -> None:
        if stored.key is not None and self.by_key.get(stored.key) is stored:
            del self.by_key[stored.key]
