"""A bundle relay for devnets: ``DevnetRelay`` (the JSON-RPC methods, block building on anvil) and
``RelayServer`` (HTTP). anvil has no bundle RPC; this is the builder that gives it one."""
