"""Pure, I/O-free DEX math: exact V2 swaps, the cycle index and the incremental arbitrage scanner.

- ``v2``: ``get_amount_out``/``get_amount_in`` (Uniswap V2 rounding, any fee in bps), ``Pool``,
  ``PoolState`` kept current from Sync logs.
- ``curve``: a cycle as one curve a·x/(b + c·x), the closed-form optimum, confirmed in integers.
- ``cycles``: every 2- and 3-hop cycle through the base tokens, grouped in families; pool → cycles.
- ``screen`` (float rates: discard only), ``families`` and ``candidates`` (what a Sync touches),
  ``scanner``: ``ArbScanner`` with ``on_sync``/``scan``/``full_rescan`` → ranked ``Opportunity``.
"""

from mevops.engine.dex.curve import Sizing, compose, cycle_curve, hop_curve, optimal_input, simulate
from mevops.engine.dex.cycles import Cycle, CycleIndex
from mevops.engine.dex.scanner import ArbScanner, Opportunity
from mevops.engine.dex.v2 import SYNC_TOPIC, Pool, PoolState, decode_sync_data, get_amount_in, get_amount_out

__all__ = [
    "SYNC_TOPIC",
    "ArbScanner",
    "Cycle",
    "CycleIndex",
    "Opportunity",
    "Pool",
    "PoolState",
    "Sizing",
    "compose",
    "cycle_curve",
    "decode_sync_data",
    "get_amount_in",
    "get_amount_out",
    "hop_curve",
    "optimal_input",
    "simulate",
]
