"""Which tracked pools a block header announces: its ``logsBloom`` read for Sync logs.

Heads and logs arrive on separate streams, the head first (anvil: ~0.05–1.5 ms earlier). A
simulator patched from Sync logs is complete for block N only once the Syncs of N are in; the
header's 2048-bit bloom says which pools *may* have logged (no false negatives, rare false
positives on quiet chains), so the engine knows what to wait for.
"""

from __future__ import annotations

from collections.abc import Iterable

from eth_utils import keccak

from mevops.engine.collectors.pool_logs import SYNC_TOPIC


def bloom_bits(item: bytes) -> tuple[int, int, int]:
    """The three bloom bit indexes of ``item`` (an address or a topic): keccak's first three byte pairs mod 2048."""
    digest = keccak(item)
    return tuple(((digest[i] << 8) | digest[i + 1]) & 2047 for i in (0, 2, 4))  # type: ignore[return-value]


def _contains(bloom: int, bits: tuple[int, ...]) -> bool:
    return all(bloom >> bit & 1 for bit in bits)


class SyncAnnouncements:
    """Bloom membership of a fixed set of pools' Sync logs, with the bit positions precomputed."""

    def __init__(self, pools: Iterable[str]) -> None:
        self.pool_bits = {p.lower(): bloom_bits(bytes.fromhex(p[2:])) for p in pools}
        self.topic_bits = bloom_bits(bytes.fromhex(SYNC_TOPIC[2:]))

    def announced(self, logs_bloom: str) -> set[str] | None:
        """Pools whose Sync may be in the block; None when the header carried no bloom (unknown)."""
        if not logs_bloom or len(logs_bloom) < 3:
            return None
        bloom = int(logs_bloom, 16)
        if not _contains(bloom, self.topic_bits):
            return set()
        return {pool for pool, bits in self.pool_bits.items() if _contains(bloom, bits)}
