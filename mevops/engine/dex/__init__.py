"""Pure, I/O-free DEX math: exact V2 swaps, the cycle index and the incremental arbitrage scanner."""

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
