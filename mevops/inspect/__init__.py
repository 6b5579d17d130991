"""Block inspection: decode swaps from traces or logs, classify MEV, protect and backrun.

- ``block``: the input (``trace_block`` traces + receipts), reverted subtrees, file errors with lines.
- ``transfers``, ``swaps``: token movements and Uniswap V2/V3 (and fork) swaps, from calls or events.
- ``arbitrage``, ``sandwich``, ``liquidations``: the classifiers; ``report.inspect_block`` runs them.
- ``rpc``: fetch a block from a node; ``protect`` and ``backrun``: library helpers for the engine.

Nothing here imports web3 or talks to the network except ``rpc``.
"""
