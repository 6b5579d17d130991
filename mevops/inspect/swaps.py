"""Swaps on Uniswap V2 and V3 pools (and their forks, which keep the same calls and events).

Two decoders give the same :class:`Swap` records:

* **from traces** (what ``trace_block`` gives; the mainnet fixtures have nothing else):
  a V2 pair's ``swap(amount0Out, amount1Out, to, data)`` call pays out with ``transfer`` calls of
  its own; what it was paid is what reached the pair since it last settled (a ``swap``, ``mint``,
  ``burn``, ``skim`` or ``sync`` call), or inside the swap's own subtree for a flash swap.
  A V3 pool's ``swap(recipient, zeroForOne, amountSpecified, sqrtPriceLimitX96, data)`` returns
  the signed ``(amount0, amount1)`` (positive: into the pool); the tokens are those of its payout
  ``transfer`` and of the payment made to it inside the swap callback.
* **from logs** (a node's receipts): V2 ``Swap(sender, amount0In, amount1In, amount0Out,
  amount1Out, to)`` and V3 ``Swap(sender, recipient, amount0, amount1, sqrtPriceX96, liquidity,
  tick)``; tokens from the ``Transfer`` events that paid the pool and that it paid out.

The pool's tokens come from those movements; no node is needed.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevops.inspect.abi import address, args, hex_body, int256, topic_address, uint
from mevops.inspect.block import Tx
from mevops.inspect.transfers import Transfer, call_transfers, log_transfers

V2_SWAP = "022c0d9f"  # swap(uint256,uint256,address,bytes)
V3_SWAP = "128acb08"  # swap(address,bool,int256,uint160,bytes)
V2_SETTLES = {V2_SWAP, "6a627842", "89afcb44", "bc25cf77", "fff6cae9"}  # swap, mint, burn, skim, sync
V2_SWAP_TOPIC = "0xd78ad95fa46c994b6551d0da85fc275fe613ce37657fb8d5e3d130840159d822"
V3_SWAP_TOPIC = "0xc42079f94a6350d7e6235f29174924f928cc2ac818eb64fed8004e115fbcca67"


@dataclass(slots=True, frozen=True)
class Swap:
    """One swap against one pool. ``payer`` sent ``token_in``; ``recipient`` got ``token_out``."""

    tx_hash: str
    tx_position: int
    at: int  # call index (traces) or log index (logs): execution order within the transaction
    protocol: str  # "uniswap-v2" or "uniswap-v3" (forks included)
    pool: str
    caller: str
    payer: str
    recipient: str
    token_in: str
    amount_in: int
    token_out: str
    amount_out: int

    def to_json(self) -> dict[str, object]:
        return {"transaction_hash": self.tx_hash, "transaction_position": self.tx_position, "protocol": self.protocol,
                "pool": self.pool, "caller": self.caller, "payer": self.payer, "recipient": self.recipient,
                "token_in": self.token_in, "amount_in": str(self.amount_in),
                "token_out": self.token_out, "amount_out": str(self.amount_out)}


def _paid_in(pool: str, token_out: str, candidates: list[Transfer]) -> tuple[str, int, str] | None:
    """(token, amount, payer) of the payment to ``pool``: the last token sent there other than
    ``token_out``, summed over every transfer of that token among ``candidates``."""
    paid = [t for t in candidates if t.recipient == pool and t.token != token_out and t.amount]
    if not paid:
        return None
    token = paid[-1].token
    return token, sum(t.amount for t in paid if t.token == token), paid[-1].sender


def swaps_from_traces(tx: Tx) -> list[Swap]:
    """The V2 and V3 swaps done by the transaction's calls that did not revert, in call order.

    Calls are replayed in the order they *return* (a child before its parent): a token whose
    ``transfer`` runs a swap of its own before moving the balance (fee-on-transfer tokens that
    swap their fees) has paid the pool only when that ``transfer`` returns.
    """
    transfers = call_transfers(tx)
    by_call: dict[int, list[Transfer]] = {}
    for t in transfers:
        by_call.setdefault(t.at, []).append(t)
    pending: dict[str, list[Transfer]] = {}  # what reached each pool since it last settled
    swaps: list[Swap] = []
    for call in sorted((c for c in tx.calls if not c.reverted), key=lambda c: (c.end, -c.depth)):
        for t in by_call.get(call.index, ()):
            pending.setdefault(t.recipient, []).append(t)
        if call.call_type != "call":
            continue
        sel = call.sel
        if sel not in V2_SETTLES and sel != V3_SWAP:
            continue
        paid = pending.pop(call.to, [])
        paid_out = [t for t in by_call_range(by_call, call.index + 1, call.end) if t.sender == call.to]
        if sel == V2_SWAP:
            swap = _v2_call(tx, call.index, call.to, call.sender, call.input, paid, paid_out)
        elif sel == V3_SWAP:
            swap = _v3_call(tx, call.index, call.to, call.sender, call.input, call.output, paid, paid_out)
        else:
            swap = None
        if swap is not None:
            swaps.append(swap)
    swaps.sort(key=lambda s: s.at)
    return swaps


def by_call_range(by_call: dict[int, list[Transfer]], start: int, end: int) -> list[Transfer]:
    """The transfers made by calls ``start`` up to ``end`` (excluded), in call order."""
    return [t for i in range(start, end) for t in by_call.get(i, ())]


def _v2_call(tx: Tx, at: int, pool: str, caller: str, calldata: str, paid: list[Transfer],
             paid_out: list[Transfer]) -> Swap | None:
    words = args(calldata)
    out0, out1, to = uint(words, 0), uint(words, 1), address(words, 2)
    if out0 is None or out1 is None or to is None or bool(out0) == bool(out1):
        return None  # both or neither out: not a plain swap we can price
    amount_out = out0 or out1
    sent = [t for t in paid_out if t.recipient == to and t.amount == amount_out]
    if not sent:
        return None
    token_out = sent[0].token
    got = _paid_in(pool, token_out, paid)
    if got is None:
        return None
    token_in, amount_in, payer = got
    return Swap(tx.hash, tx.position, at, "uniswap-v2", pool, caller, payer, to, token_in, amount_in, token_out, amount_out)


def _v3_call(tx: Tx, at: int, pool: str, caller: str, calldata: str, output: str, paid: list[Transfer],
             paid_out: list[Transfer]) -> Swap | None:
    recipient, result = address(args(calldata), 0), hex_body(output)
    amount0, amount1 = int256(result, 0), int256(result, 1)
    if recipient is None or amount0 is None or amount1 is None or (amount0 > 0) == (amount1 > 0):
        return None
    amount_in, amount_out = max(amount0, amount1), -min(amount0, amount1)
    sent = [t for t in paid_out if t.recipient == recipient]
    if amount_out <= 0 or not sent:
        return None
    token_out = sent[0].token
    got = _paid_in(pool, token_out, paid)
    if got is None:
        return None
    return Swap(tx.hash, tx.position, at, "uniswap-v3", pool, caller, got[2], recipient, got[0], amount_in,
                token_out, amount_out)


def swaps_from_logs(tx: Tx) -> list[Swap]:
    """The V2 and V3 swaps announced by the transaction's ``Swap`` events."""
    transfers = log_transfers(tx)
    swaps: list[Swap] = []
    last_seen: dict[str, int] = {}  # pool -> log index of its previous Swap: earlier payments are spent
    for log in tx.logs or ():
        if not log.topics or log.topics[0] not in (V2_SWAP_TOPIC, V3_SWAP_TOPIC) or len(log.topics) != 3:
            continue
        data, pool = hex_body(log.data), log.address
        caller, recipient = topic_address(log.topics[1]), topic_address(log.topics[2])
        if log.topics[0] == V2_SWAP_TOPIC:
            in0, in1, out0, out1 = (uint(data, i) for i in range(4))
            if None in (in0, in1, out0, out1) or bool(out0) == bool(out1):
                continue
            amount_out, protocol = out0 or out1, "uniswap-v2"
        else:
            amount0, amount1 = int256(data, 0), int256(data, 1)
            if amount0 is None or amount1 is None or (amount0 > 0) == (amount1 > 0):
                continue
            amount_out, protocol = -min(amount0, amount1), "uniswap-v3"
        window = [t for t in transfers if last_seen.get(pool, -1) < t.at < log.index]
        last_seen[pool] = log.index
        paid_out = [t for t in window if t.sender == pool and t.amount == amount_out]
        if not paid_out or caller is None or recipient is None:
            continue
        token_out = paid_out[-1].token
        paid = _paid_in(pool, token_out, window)
        if paid is None:
            continue
        token_in, amount_in, payer = paid
        if protocol == "uniswap-v2":  # the pair's own accounting: balance minus what it held
            amount_in = (in0 or in1) if bool(in0) != bool(in1) else amount_in
        else:
            amount_in = max(amount0, amount1)
        swaps.append(Swap(tx.hash, tx.position, log.index, protocol, pool, caller, payer, recipient, token_in, amount_in,
                          token_out, amount_out))
    return swaps


def tx_swaps(tx: Tx) -> list[Swap]:
    """The swaps of one transaction: from its logs when the receipt has them, else from its traces."""
    if tx.reverted:
        return []
    return swaps_from_logs(tx) if tx.logs is not None else swaps_from_traces(tx)
