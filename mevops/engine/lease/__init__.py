"""One active signer per key across engine replicas: a lease held in the store's database.

Several replicas may share one store. For each (chain, signer address) exactly one of them holds
the lease and signs; the others stand by (and serve the API), trying again every ``poll_s``.
The backend follows the store URL:

PostgreSQL — a session-level ``pg_try_advisory_lock(key)`` on a dedicated connection (``key``: a
stable, namespaced 64-bit hash of chain and address, ``lease_key``). The session is the lease:

- the holder dies (kill -9, OOM, crash): the kernel closes its socket, the server ends the session
  and the lock is free at once; a standby takes it at its next try (within ``poll_s``);
- the holder freezes or its host is cut off: the connection sets ``idle_session_timeout = ttl_s``
  (PostgreSQL 14+), so the server ends a session that has been silent for ``ttl_s``; a standby takes
  over within ``ttl_s + poll_s``;
- every ``poll_s`` the holder checks that its session still holds the lock (``pg_locks``); a check
  that fails, says no, or does not answer in time sets ``lost`` and closes the connection;
- the holder counts itself active (``is_active``) only until ``ttl_s - poll_s`` after the start of
  its last good check: a holder that wakes up from a freeze never believes it holds a lease the
  server has given away, and the ``poll_s`` margin covers one record-and-send in flight.

Connect directly or through a session-mode pooler: a transaction-mode pooler (PgBouncer
``pool_mode=transaction``) breaks session advisory locks.

SQLite (one host) — an exclusive ``flock`` on ``<database>.signer-<key>.lock`` next to the database;
the kernel drops it when the holder dies. There is no TTL: a frozen holder keeps it.

The active holder records itself (replica id, pid, host, since) in the store's ``kv`` under
``holder_kv_key`` (``active_holder`` reads it) and clears it when it releases. The runtime::

    lease = SignerLease(store_url, chain, signer.address, holder=replica_id)
    await lease.acquire()                                   # standby until this replica is the signer
    took = await take_over(store, lease, rpc_pool, profit_of=...)   # reconcile, nonces from the store
    executor = MempoolExecutor(rpc, signer, took.nonces, ...)       # took.nonces refuses once the lease is gone
    ...                                                     # lease.lost set: stop sending at once, back to acquire()
    await lease.release()
"""

from mevops.engine.lease.signer_lease import LeaseLost, SignerLease, active_holder, holder_kv_key, lease_key
from mevops.engine.lease.takeover import FencedNonces, Takeover, take_over

__all__ = ["FencedNonces", "LeaseLost", "SignerLease", "Takeover", "active_holder", "holder_kv_key", "lease_key",
           "take_over"]
