"""Backrunning pending swaps: decode a UniswapV2Router ``swapExact*`` call, compute the pools'
state *after* it, and size the best two-pool arbitrage on that state.

Backrun only. Everything here starts from the state the user's own swap leaves behind, and a
:class:`Backrun` is meant to be bundled *after* the user's transaction (``after``). Nothing
computes a trade that runs before a user's swap or that worsens its price; a swap that would
revert (its ``amountOutMin`` not met) or that we cannot model exactly (fee-on-transfer tokens,
a pool we do not know) gives no plan at all.

Math: :mod:`mevops.engine.dex.v2` (Uniswap's rounding) and :func:`mevops.engine.dex.curve.optimal_input`.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from mevops.engine.dex.curve import optimal_input
from mevops.engine.dex.v2 import Pool
from mevops.inspect.abi import address, args, selector, uint

# selector -> (name, ether in, fee-on-transfer variant); every one is "exact input"
ROUTER_SWAPS = {
    "38ed1739": ("swapExactTokensForTokens", False, False),
    "18cbafe5": ("swapExactTokensForETH", False, False),
    "7ff36ab5": ("swapExactETHForTokens", True, False),
    "5c11d795": ("swapExactTokensForTokensSupportingFeeOnTransferTokens", False, True),
    "791ac947": ("swapExactTokensForETHSupportingFeeOnTransferTokens", False, True),
    "b6f9de95": ("swapExactETHForTokensSupportingFeeOnTransferTokens", True, True),
}
MAX_PATH = 8


@dataclass(frozen=True, slots=True)
class RouterSwap:
    """A pending exact-input router swap. For the ETH variants the path starts or ends at WETH."""

    function: str
    amount_in: int
    amount_out_min: int
    path: tuple[str, ...]
    recipient: str
    deadline: int
    fee_on_transfer: bool


def decode_router_swap(calldata: str | bytes, value: int = 0) -> RouterSwap | None:
    """The swap a ``swapExact*`` router call asks for; ``value`` is the transaction's ether (the
    input of the ``swapExactETHFor*`` calls). None for any other call or malformed calldata."""
    data = "0x" + calldata.hex() if isinstance(calldata, bytes | bytearray) else calldata
    known = ROUTER_SWAPS.get(selector(data))
    if known is None:
        return None
    name, ether_in, fee_on_transfer = known
    words = args(data)
    first = [uint(words, i) for i in range(4 if ether_in else 5)]
    if None in first:
        return None
    if ether_in:
        amount_in, (out_min, offset, _, deadline) = value, first
    else:
        amount_in, out_min, offset, _, deadline = first
    path = _address_array(words, offset)
    recipient = address(words, 2 if ether_in else 3)
    if path is None or recipient is None or amount_in <= 0:
        return None
    return RouterSwap(name, amount_in, out_min, path, recipient, deadline, fee_on_transfer)


def _address_array(words: str, offset: int) -> tuple[str, ...] | None:
    if offset % 32:
        return None
    start = offset // 32
    length = uint(words, start)
    if length is None or not 2 <= length <= MAX_PATH:
        return None
    items = tuple(address(words, start + 1 + i) for i in range(length))
    if None in items or len(set(items)) != length:
        return None
    return items  # type: ignore[return-value]


@dataclass(frozen=True, slots=True)
class PostSwap:
    """The user's swap applied: amount per path token and its pools with their new reserves."""

    swap: RouterSwap
    amounts: tuple[int, ...]
    pools: tuple[Pool, ...]

    @property
    def amount_out(self) -> int:
        return self.amounts[-1]


def _pair_index(pools: Iterable[Pool], dex: str | None) -> dict[frozenset[str], Pool]:
    return {frozenset((p.token0, p.token1)): p for p in pools if dex is None or p.dex == dex}


def apply_router_swap(swap: RouterSwap, pools: Iterable[Pool], dex: str | None = None) -> PostSwap | None:
    """The state after ``swap`` runs on the router's pools (``dex``: which of ``pools`` it trades on).

    None when the swap would revert (output below ``amountOutMin``), when a hop's pool is not in
    ``pools``, or for fee-on-transfer swaps (the token's cut is not known, so no exact state).
    The given pools are not modified: the result holds updated copies.
    """
    if swap.fee_on_transfer:
        return None
    index = _pair_index(pools, dex)
    amounts, after = [swap.amount_in], []
    for token_in, token_out in zip(swap.path, swap.path[1:]):
        pool = index.get(frozenset((token_in, token_out)))
        if pool is None:
            return None
        zero_for_one = pool.token0 == token_in
        try:
            out = pool.amount_out(amounts[-1], zero_for_one)
        except ValueError:
            return None
        if zero_for_one:
            moved = replace(pool, reserve0=pool.reserve0 + amounts[-1], reserve1=pool.reserve1 - out)
        else:
            moved = replace(pool, reserve0=pool.reserve0 - out, reserve1=pool.reserve1 + amounts[-1])
        index[frozenset((token_in, token_out))] = moved
        amounts.append(out)
        after.append(moved)
    if amounts[-1] < swap.amount_out_min or amounts[-1] <= 0:
        return None
    return PostSwap(swap, tuple(amounts), tuple(after))


@dataclass(frozen=True, slots=True)
class Backrun:
    """Trade ``amount_in`` of ``token`` through ``pools`` right after the user's swap ``after``."""

    after: RouterSwap
    token: str
    pools: tuple[str, str]
    zero_for_one: tuple[bool, bool]
    amount_in: int
    amount_out: int

    @property
    def profit(self) -> int:
        return self.amount_out - self.amount_in


def find_backrun(post: PostSwap, pools: Iterable[Pool], base_tokens: Iterable[str] | None = None,
                 max_input: int | None = None) -> Backrun | None:
    """The most profitable two-pool cycle through a pool the user's swap moved, on the state
    after it: buy back in the moved pool what the user sold there and sell it in another pool of
    the same pair (or the reverse). ``base_tokens`` limits the tokens profit may be counted in."""
    bases = None if base_tokens is None else {t.lower() for t in base_tokens}
    moved = {p.address: p for p in post.pools}
    others = [moved.get(p.address, p) for p in pools]
    best: Backrun | None = None
    for displaced in post.pools:
        pair = {displaced.token0, displaced.token1}
        for other in others:
            if other.address == displaced.address or {other.token0, other.token1} != pair:
                continue
            for first, second in ((displaced, other), (other, displaced)):
                for token in (first.token0, first.token1):
                    if bases is not None and token not in bases:
                        continue
                    plan = _size(post.swap, token, first, second, max_input)
                    if plan is not None and (best is None or plan.profit > best.profit):
                        best = plan
    return best


def _size(after: RouterSwap, token: str, first: Pool, second: Pool, max_input: int | None) -> Backrun | None:
    a_zero = first.token0 == token  # first hop sells ``token``
    b_zero = second.token0 != token  # second hop buys ``token`` back
    hops = [(first.reserve0, first.reserve1, first.fee_bps) if a_zero else (first.reserve1, first.reserve0, first.fee_bps),
            (second.reserve0, second.reserve1, second.fee_bps) if b_zero else (second.reserve1, second.reserve0, second.fee_bps)]
    try:
        sizing = optimal_input(hops, max_input)
    except ValueError:
        return None
    if sizing is None or sizing.profit <= 0:
        return None
    return Backrun(after, token, (first.address, second.address), (a_zero, b_zero), sizing.amount_in, sizing.amount_out)
