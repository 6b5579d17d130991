"""Token movements of one transaction, from its call traces or from its Transfer logs.

From traces: ERC20 ``transfer``/``transferFrom`` calls (plain ``call``s only: a proxy token's
``delegatecall`` to its implementation is the same transfer seen twice) and ether sent with a
call, as token :data:`~mevops.inspect.abi.ETH`. Calls in a reverted subtree moved nothing.
A ``transfer`` that answered ``false`` moved nothing either.
"""

from __future__ import annotations

from dataclasses import dataclass

from mevops.inspect.abi import ETH, address, args, hex_body, topic_address, uint
from mevops.inspect.block import Tx

TRANSFER = "a9059cbb"  # transfer(address,uint256)
TRANSFER_FROM = "23b872dd"  # transferFrom(address,address,uint256)
TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"  # Transfer(address,address,uint256)


@dataclass(slots=True, frozen=True)
class Transfer:
    token: str
    sender: str
    recipient: str
    amount: int
    at: int  # the call index (traces) or log index (logs) that moved it


def _answered_false(output: str) -> bool:
    body = hex_body(output)
    return len(body) == 64 and int(body, 16) == 0


def call_transfers(tx: Tx) -> list[Transfer]:
    """Every token and ether movement made by the transaction's calls that did not revert, in order."""
    out: list[Transfer] = []
    for call in tx.calls:
        if call.reverted or call.call_type != "call":
            continue
        if call.value:
            out.append(Transfer(ETH, call.sender, call.to, call.value, call.index))
        sel = call.sel
        if sel == TRANSFER:
            words = args(call.input)
            to, amount = address(words, 0), uint(words, 1)
            if to is not None and amount is not None and not _answered_false(call.output):
                out.append(Transfer(call.to, call.sender, to, amount, call.index))
        elif sel == TRANSFER_FROM:
            words = args(call.input)
            frm, to, amount = address(words, 0), address(words, 1), uint(words, 2)
            if frm is not None and to is not None and amount is not None and not _answered_false(call.output):
                out.append(Transfer(call.to, frm, to, amount, call.index))
    return out


def log_transfers(tx: Tx) -> list[Transfer]:
    """ERC20 ``Transfer`` events of the transaction (ERC721 ones, with the id indexed, are skipped)."""
    out: list[Transfer] = []
    for log in tx.logs or ():
        if len(log.topics) != 3 or log.topics[0] != TRANSFER_TOPIC:
            continue
        frm, to, amount = topic_address(log.topics[1]), topic_address(log.topics[2]), uint(hex_body(log.data), 0)
        if frm is not None and to is not None and amount is not None:
            out.append(Transfer(log.address, frm, to, amount, log.index))
    return out
