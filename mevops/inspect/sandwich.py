"""Sandwiches: a searcher swaps into a pool (frontrun), other accounts then swap the same way in
the same pool at a worse price (victims), and the searcher swaps back out (backrun), in later
transactions of the same block.

The searcher is the account that received the frontrun's output: the backrun must be paid by
it (or called by it), or be sent by the same signer.

Profit follows the token flows of the two transactions: the net of every swap in the frontrun
and the backrun (what each paid in counts against, what it got out counts for; the hops in the
middle of a route cancel). Usually exactly one token is left non-zero (the searcher sells back
exactly what it bought, or buys back exactly what it sold): that is the profit. Otherwise the
profit is counted in the token the frontrun spent in the sandwiched pool, and every net amount
is reported.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mevops.inspect.swaps import Swap


@dataclass(slots=True, frozen=True)
class SandwichLeg:
    """The sandwich in one pool: the frontrun's swap there, the victims' swaps, the backrun's."""

    pool: str
    frontrun: Swap
    victims: tuple[Swap, ...]
    backrun: Swap

    def to_json(self) -> dict[str, object]:
        return {"pool": self.pool, "frontrun": self.frontrun.to_json(), "victims": [v.to_json() for v in self.victims],
                "backrun": self.backrun.to_json()}


@dataclass(slots=True, frozen=True)
class Sandwich:
    """One attack: a frontrun and a backrun transaction, and the pools (legs) it moved between them."""

    searcher: str
    legs: tuple[SandwichLeg, ...]
    frontrun_swaps: tuple[Swap, ...]  # every swap of the frontrun transaction
    backrun_swaps: tuple[Swap, ...]  # and of the backrun transaction

    @property
    def frontrun_tx(self) -> str:
        return self.legs[0].frontrun.tx_hash

    @property
    def backrun_tx(self) -> str:
        return self.legs[0].backrun.tx_hash

    @property
    def victim_txs(self) -> list[str]:
        seen = {v.tx_hash: v.tx_position for leg in self.legs for v in leg.victims}
        return sorted(seen, key=seen.__getitem__)

    @property
    def net(self) -> dict[str, int]:
        """The searcher's net change per token over the swaps of the frontrun and the backrun."""
        net: dict[str, int] = {}
        for swap in self.frontrun_swaps + self.backrun_swaps:
            net[swap.token_in] = net.get(swap.token_in, 0) - swap.amount_in
            net[swap.token_out] = net.get(swap.token_out, 0) + swap.amount_out
        return net

    @property
    def profit_token(self) -> str:
        moved = [t for t, amount in self.net.items() if amount]
        if len(moved) == 1:
            return moved[0]
        return self.legs[0].frontrun.token_in  # none or several: the token the frontrun spent

    @property
    def profit(self) -> int:
        return self.net[self.profit_token]

    def to_json(self) -> dict[str, object]:
        return {"searcher": self.searcher, "frontrun_transaction": self.frontrun_tx,
                "backrun_transaction": self.backrun_tx, "victim_transactions": self.victim_txs,
                "pools": [leg.pool for leg in self.legs],
                "profit_token": self.profit_token, "profit_amount": str(self.profit),
                "net_amounts": {token: str(amount) for token, amount in self.net.items()},
                "legs": [leg.to_json() for leg in self.legs]}


def same_direction(a: Swap, b: Swap) -> bool:
    return a.token_in == b.token_in and a.token_out == b.token_out


def reverses(a: Swap, b: Swap) -> bool:
    return a.token_in == b.token_out and a.token_out == b.token_in


def find_sandwiches(swaps: list[Swap], signers: Mapping[str, str]) -> list[Sandwich]:
    """Sandwiches among a block's swaps (from transactions that did not revert), in block order.

    ``signers`` maps each transaction hash to the account that signed it. Legs found in several
    pools between the same frontrun and backrun transactions are one sandwich.
    """
    ordered = sorted(swaps, key=lambda s: (s.tx_position, s.at))
    pools = {s.pool for s in ordered}
    by_pool: dict[str, list[Swap]] = {}
    for swap in ordered:
        by_pool.setdefault(swap.pool, []).append(swap)
    attacks: dict[tuple[str, str], list[SandwichLeg]] = {}
    searchers: dict[tuple[str, str], str] = {}
    for pool, pool_swaps in by_pool.items():
        taken: set[int] = set()
        for i, front in enumerate(pool_swaps):
            if i in taken:
                continue
            hit = _close(front, pools, pool_swaps, i, signers, taken)
            if hit is not None:
                back, victims, searcher = hit
                taken.update((i, back))
                key = (front.tx_hash, pool_swaps[back].tx_hash)
                attacks.setdefault(key, []).append(SandwichLeg(pool, front, victims, pool_swaps[back]))
                searchers.setdefault(key, searcher)
    of_tx: dict[str, list[Swap]] = {}
    for swap in ordered:
        of_tx.setdefault(swap.tx_hash, []).append(swap)
    found = [Sandwich(searchers[key], tuple(sorted(legs, key=lambda leg: leg.frontrun.at)), tuple(of_tx[key[0]]),
                      tuple(of_tx[key[1]])) for key, legs in attacks.items()]
    found.sort(key=lambda s: (s.legs[0].frontrun.tx_position, s.legs[0].frontrun.at))
    return found


def _close(front: Swap, pools: set[str], pool_swaps: list[Swap], i: int, signers: Mapping[str, str],
           taken: set[int]) -> tuple[int, tuple[Swap, ...], str] | None:
    """(index of the backrun, victims, searcher) for ``front``, or None when no backrun follows victims.

    A swap is the searcher's own when the same account signed it, or when the account holding
    what the frontrun bought trades it: the frontrun's recipient, or, when the frontrun paid
    straight into the next pool of a route, its caller, which must then pay for the swap itself
    (a public router calls every user's swaps but pays only for ether-in ones).
    """
    signer = signers.get(front.tx_hash) or None
    routed = front.recipient in pools
    searcher = front.caller if routed else front.recipient

    def own(swap: Swap) -> bool:
        if signer is not None and signers.get(swap.tx_hash) == signer:
            return True
        return swap.payer == searcher if routed else searcher in (swap.payer, swap.caller, swap.recipient)

    victims: list[Swap] = []
    for j in range(i + 1, len(pool_swaps)):
        swap = pool_swaps[j]
        if j in taken or swap.tx_position == front.tx_position:
            continue
        mine = own(swap)
        if mine and reverses(front, swap):
            victims = [v for v in victims if v.tx_position < swap.tx_position]
            return (j, tuple(victims), searcher) if victims else None
        if not mine and same_direction(front, swap):
            victims.append(swap)
    return None
