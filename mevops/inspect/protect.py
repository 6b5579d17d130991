"""Protecting the user's own swaps: was one sandwiched, and how tight to set ``amountOutMin``.

The engine sends its own trades through bundles or a private RPC; these helpers check the result
afterwards (:func:`sandwiches_of` on the block it landed in) and bound the damage beforehand
(:func:`tight_amount_out_min`: a sandwich can take at most the slippage it is allowed).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from mevops.engine.dex.v2 import Pool
from mevops.inspect.backrun import RouterSwap, apply_router_swap
from mevops.inspect.block import Block
from mevops.inspect.sandwich import Sandwich, find_sandwiches
from mevops.inspect.swaps import Swap, tx_swaps

BPS = 10_000


@dataclass(frozen=True, slots=True)
class SandwichCheck:
    tx_hash: str
    reverted: bool
    swaps: tuple[Swap, ...]  # the transaction's own swaps
    sandwiches: tuple[Sandwich, ...]  # those with this transaction among the victims

    @property
    def sandwiched(self) -> bool:
        return bool(self.sandwiches)


def sandwiches_of(block: Block, tx_hash: str) -> SandwichCheck:
    """Whether transaction ``tx_hash`` of ``block`` was a sandwich victim, and by whom.

    Raises ``KeyError`` when the transaction is not in the block.
    """
    tx = block.tx(tx_hash)
    if tx is None:
        raise KeyError(f"transaction {tx_hash} is not in block {block.number}")
    swaps = [s for t in block.txs for s in tx_swaps(t)]
    hits = tuple(s for s in find_sandwiches(swaps, {t.hash: t.sender for t in block.txs})
                 if tx.hash in s.victim_txs)
    return SandwichCheck(tx.hash, tx.reverted, tuple(s for s in swaps if s.tx_hash == tx.hash), hits)


def was_sandwiched(block: Block, tx_hash: str) -> bool:
    return sandwiches_of(block, tx_hash).sandwiched


def tight_amount_out_min(swap: RouterSwap, pools: Iterable[Pool], slippage_bps: int, dex: str | None = None) -> int:
    """``amountOutMin`` for the user's own ``swap``: its exact output on the current ``pools``
    less ``slippage_bps``, rounded up. Raises ``ValueError`` when the swap cannot be modelled."""
    if not 0 <= slippage_bps < BPS:
        raise ValueError(f"slippage_bps must be in [0, {BPS}), got {slippage_bps}")
    probe = RouterSwap(swap.function, swap.amount_in, 0, swap.path, swap.recipient, swap.deadline, swap.fee_on_transfer)
    post = apply_router_swap(probe, pools, dex)
    if post is None:
        raise ValueError("cannot model this swap on the given pools (unknown pool or fee-on-transfer token)")
    return -(-post.amount_out * (BPS - slippage_bps) // BPS)
