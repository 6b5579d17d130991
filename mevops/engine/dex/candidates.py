"""Sized candidates: cycles whose float estimate may clear gas, sized exactly in integers.

A member of an active family whose own rate product passes the screen has a float estimate (an
upper bound on its integer profit, see ``screen``). If the estimate may clear gas + minimum
profit it is sized in integers (:func:`size_hops`) and the sizing is kept until one of its pools
syncs: while its reserves stand it stays valid, whatever gas does (the ranking filters on the
gas of the scan). Members that cannot clear yet are not kept one by one: their family keeps the
largest of their estimates, and is screened again when gas falls below it (see ``families``).
"""

from __future__ import annotations

from collections.abc import Callable

from mevops.engine.dex.curve import Sizing

SizeFn = Callable[[int, int, int, int], "Sizing | None"]  # (first hop, mid hop, last hop, group)


class CandidateBook:
    def __init__(self, size: SizeFn) -> None:
        self.size = size
        self.sized_tick: dict[int, int] = {}  # cycle -> tick of the scan that sized it
        self.gains: dict[int, tuple[Sizing, int]] = {}  # sized with gross profit > 0 -> (sizing, group)

    def store(self, cid: int, hops: tuple[int, int, int], group: int, tick: int) -> None:
        """Size the cycle on the current reserves."""
        sizing = self.size(*hops, group)
        self.sized_tick[cid] = tick
        if sizing is not None and sizing.profit > 0:
            self.gains[cid] = (sizing, group)
        else:
            self.gains.pop(cid, None)

    def drop(self, cid: int) -> None:
        self.sized_tick.pop(cid, None)
        self.gains.pop(cid, None)
