"""What a replica does once it holds the lease, and the nonces it signs with while it holds it."""

from __future__ import annotations

from dataclasses import dataclass

from mevops.engine.chain.nonce import NonceManager
from mevops.engine.lease.signer_lease import LeaseLost, SignerLease
from mevops.engine.store.recovery import ProfitOf, ReconcileReport, Rpc, reconcile_pending
from mevops.engine.store.store import Store


class FencedNonces:
    """A ``NonceManager`` that hands out a nonce only while the lease is active (checked after
    taking it, just before the signature); ``confirm=True`` asks the database each time (one round
    trip) instead of trusting the last keep-alive. Raises ``LeaseLost`` otherwise."""

    def __init__(self, nonces: NonceManager, lease: SignerLease, *, confirm: bool = False) -> None:
        self.inner, self.lease, self.confirm = nonces, lease, confirm

    async def take(self) -> int:
        nonce = await self.inner.take()
        if not (await self.lease.confirm() if self.confirm else self.lease.is_active):
            await self.inner.release(nonce)
            raise LeaseLost(f"{self.lease.holder} is not the active signer ({self.lease.lost_reason or 'lease expired'})")
        return nonce

    async def sync(self) -> int:
        return await self.inner.sync()

    async def release(self, nonce: int) -> None:
        await self.inner.release(nonce)

    async def resync(self) -> int:
        return await self.inner.resync()


@dataclass
class Takeover:
    reconciled: ReconcileReport
    last_nonce: int | None  # the highest nonce the store holds a live trade for (None: none)
    next_nonce: int         # what the next signature will use: max(node's pending count, last_nonce + 1)
    nonces: FencedNonces


async def take_over(store: Store, lease: SignerLease, rpc: Rpc, *, profit_of: ProfitOf | None = None,
                    confirm_each: bool = False) -> Takeover:
    """What a replica does once it holds the lease and before it signs anything: settle or
    re-broadcast (same bytes, never re-signed) the signer's pending trades, whoever signed them,
    then start the nonces above both the node's pending count and every nonce the store holds a
    live trade for — including signed trades the re-broadcast could not deliver (left in
    ``reconciled.errors``: their nonce stays taken). Raises ``LeaseLost`` if the lease goes meanwhile."""
    if not lease.is_active:
        raise LeaseLost(f"{lease.holder} is not the active signer")
    address = lease.signer_address
    reconciled = await reconcile_pending(store, lease.chain, rpc, profit_of=profit_of, sender=address)
    live = [t.nonce for t in store.pending_trades(lease.chain) if t.sender.lower() == address.lower()]
    last = max([n for n in (store.last_nonce(lease.chain, address), *live) if n is not None], default=None)

    async def pending_count(who: str) -> int:
        count = await rpc.request("eth_getTransactionCount", [who, "pending"])
        return int(count, 16) if isinstance(count, str) else int(count)

    nonces = NonceManager(address, pending_count, last)
    next_nonce = await nonces.sync()
    if not await lease.confirm():
        raise LeaseLost(f"{lease.holder} lost the lease while taking over: {lease.lost_reason}")
    return Takeover(reconciled, last, next_nonce, FencedNonces(nonces, lease, confirm=confirm_each))
