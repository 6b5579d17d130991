"""Bundles: send trades privately to relays/builders (Flashbots ``eth_sendBundle``), all or nothing.

- ``requests``   the JSON-RPC shapes (send, cancel, call) and their parsing on the relay side
- ``auth``       ``X-Flashbots-Signature`` (EIP-191 over keccak256 of the body, by a reputation key)
- ``client``     ``Relays``: one signed body to several relays concurrently; replies, never exceptions
- ``bribe``      the builder's share of the profit: priority fee or a coinbase payment
- ``inclusion``  ``BlockWatcher``: which block (if any) holds a bundle's transactions
- ``executor``   ``BundleExecutor``: the engine's Executor, instead of the public mempool
- ``relay``      ``DevnetRelay``: a real bundle relay for anvil (``mevops relay``)

Nothing here is imported by ``mevops.cli``; heavy imports (web3, eth-account) stay inside functions.
"""
