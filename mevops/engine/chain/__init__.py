"""Chain access for the engine: RPC pool with failover, nonces, gas, signing."""
