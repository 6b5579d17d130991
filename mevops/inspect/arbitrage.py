"""Atomic arbitrage: a chain of swaps in one transaction that comes back to the token it started
with, each swap's output feeding the next (paid straight to the next pool, or to the account
that pays it), and more of that token at the end than went in.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevops.inspect.block import Tx
from mevops.inspect.swaps import Swap


@dataclass(slots=True, frozen=True)
class Arbitrage:
    tx_hash: str
    tx_position: int
    searcher: str  # the account that signed the transaction
    contract: str  # the contract it called
    swaps: tuple[Swap, ...]
    profit_token: str
    start_amount: int
    end_amount: int

    @property
    def profit(self) -> int:
        return self.end_amount - self.start_amount

    def to_json(self) -> dict[str, object]:
        return {"transaction_hash": self.tx_hash, "transaction_position": self.tx_position, "searcher": self.searcher,
                "contract": self.contract, "profit_token": self.profit_token, "profit_amount": str(self.profit),
                "start_amount": str(self.start_amount), "end_amount": str(self.end_amount),
                "pools": [s.pool for s in self.swaps], "swaps": [s.to_json() for s in self.swaps]}


def feeds(a: Swap, b: Swap) -> bool:
    """``a``'s output is ``b``'s input: same token, and it went to ``b``'s pool or to ``b``'s payer."""
    return a.token_out == b.token_in and a.recipient in (b.pool, b.payer, b.caller)


def find_arbitrages(tx: Tx, swaps: list[Swap], max_hops: int = 8) -> list[Arbitrage]:
    """Profitable swap cycles of one (not reverted) transaction, each swap in at most one cycle.

    A cycle is found by following "feeds" links from each unused swap in execution order (any
    later or earlier swap: a V3 swap paid from inside its callback runs after the swap it pays).
    Its start is the swap after the link where more came out than went on (the searcher kept the
    difference): every other link of an arbitrage passes the amount on whole.
    """
    used: set[int] = set()
    found: list[Arbitrage] = []
    for i in range(len(swaps)):
        if i in used:
            continue
        cycle = _cycle_from(i, swaps, used, max_hops)
        if cycle is None:
            continue
        used.update(cycle)
        arbitrage = _rotated(tx, [swaps[k] for k in cycle])
        if arbitrage is not None:
            found.append(arbitrage)
    found.sort(key=lambda a: a.swaps[0].at)
    return found


def _cycle_from(start: int, swaps: list[Swap], used: set[int], max_hops: int) -> list[int] | None:
    """Indexes of a cycle of distinct unused swaps through ``start`` (depth-first, execution order)."""
    path = [start]

    def extend() -> bool:
        last = swaps[path[-1]]
        if len(path) >= 2 and feeds(last, swaps[start]):
            return True
        if len(path) >= max_hops:
            return False
        for j, candidate in enumerate(swaps):
            if j not in used and j not in path and feeds(last, candidate):
                path.append(j)
                if extend():
                    return True
                path.pop()
        return False

    return path if extend() else None


def _rotated(tx: Tx, cycle: list[Swap]) -> Arbitrage | None:
    """The cycle started after its first link with a surplus; None when no link has one, or when
    the cycle only goes in and out of a single pool (a round trip, not an arbitrage)."""
    if len({s.pool for s in cycle}) < 2:
        return None
    n = len(cycle)
    for k in range(n):
        before, first = cycle[k - 1], cycle[k]
        if before.amount_out > first.amount_in:
            ordered = tuple(cycle[k:] + cycle[:k])
            return Arbitrage(tx.hash, tx.position, tx.sender, tx.to, ordered, first.token_in, first.amount_in,
                             before.amount_out)
    return None
