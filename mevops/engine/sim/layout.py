"""Where the state an arbitrage touches lives in storage, found by asking the node.

Two facts per pool let the simulator replay a ``Sync(reserve0, reserve1)`` into its EVM: the
slot packing ``reserve0 | reserve1 << 112 | blockTimestampLast << 224`` (3 for our Vyper pair,
8 for Uniswap V2's Solidity pair) and, for each token, the slot of its ``balanceOf`` mapping
and whether keys hash Solidity's way ``keccak(key . slot)`` or Vyper's ``keccak(slot . key)``.
Neither is assumed: both are matched against ``getReserves``/``balanceOf`` answers read at one
pinned block with ``eth_getStorageAt`` (one JSON-RPC batch each). A pool whose slots are not
found is left *unpatchable*, and trades through it are simulated with ``eth_call``.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from typing import Any

from eth_utils import keccak

MASK112 = 2**112 - 1
SCAN_SLOTS = 16                              # storage slots 0..15 are tried
STYLES = ("vyper", "solidity")
GET_RESERVES = "0x0902f1ac"                  # getReserves()
BALANCE_OF = "0x70a08231"                    # balanceOf(address)


def mapping_slot(slot: int, key: str, style: str) -> int:
    """The storage slot of ``mapping[key]`` for a mapping at ``slot`` (address key)."""
    k = bytes(12) + bytes.fromhex(key[2:].lower())
    s = slot.to_bytes(32, "big")
    return int.from_bytes(keccak(s + k if style == "vyper" else k + s), "big")


def pack_reserves(reserve0: int, reserve1: int, timestamp: int) -> int:
    return reserve0 | reserve1 << 112 | (timestamp & 0xFFFFFFFF) << 224


@dataclass(frozen=True)
class PoolSlots:
    pool: str
    token0: str
    token1: str
    reserves: int          # packed reserves slot in the pool
    balance0: int          # slot of balanceOf[pool] in token0
    balance1: int          # slot of balanceOf[pool] in token1


@dataclass
class StateLayout:
    pools: dict[str, PoolSlots] = field(default_factory=dict)
    tokens: dict[str, tuple[int, str]] = field(default_factory=dict)   # token -> (mapping slot, style)
    holder_slots: dict[str, int] = field(default_factory=dict)         # token -> slot of balanceOf[holder]
    unpatchable: set[str] = field(default_factory=set)

    def slot_of(self, token: str, holder: str) -> int | None:
        found = self.tokens.get(token.lower())
        return None if found is None else mapping_slot(found[0], holder, found[1])


def _word(value: str) -> int:
    return int(value, 16) if value and value != "0x" else 0


async def find_reserves_slots(rpc: Any, pools: Sequence[str], block: str) -> dict[str, tuple[int, tuple[int, int]]]:
    """pool -> (slot, (reserve0, reserve1)) for every pool whose packed reserves slot was found."""
    answers = await rpc.batch([("eth_call", [{"to": p, "data": GET_RESERVES}, block]) for p in pools])
    reads = [(p, s) for p in pools for s in range(SCAN_SLOTS)]
    words = await rpc.batch([("eth_getStorageAt", [p, hex(s), block]) for p, s in reads])
    found: dict[str, tuple[int, tuple[int, int]]] = {}
    reserves = {p: (int(a[2:66] or "0", 16), int(a[66:130] or "0", 16)) for p, a in zip(pools, answers)}
    for (pool, slot), word in zip(reads, words):
        r0, r1 = reserves[pool]
        value = _word(word)
        if pool not in found and r0 and r1 and value & MASK112 == r0 and (value >> 112) & MASK112 == r1:
            found[pool] = (slot, (r0, r1))
    return found


async def find_balance_slots(rpc: Any, holders: dict[str, str], block: str) -> dict[str, tuple[int, str]]:
    """token -> (mapping slot, style), matched on ``balanceOf(holder)`` (the holder must hold some)."""
    tokens = list(holders)
    data = [BALANCE_OF + "0" * 24 + holders[t][2:].lower() for t in tokens]
    balances = await rpc.batch([("eth_call", [{"to": t, "data": d}, block]) for t, d in zip(tokens, data)])
    reads = [(t, s, style) for t in tokens for s in range(SCAN_SLOTS) for style in STYLES]
    words = await rpc.batch([("eth_getStorageAt", [t, hex(mapping_slot(s, holders[t], style)), block]) for t, s, style in reads])
    want = {t: _word(b) for t, b in zip(tokens, balances)}
    found: dict[str, tuple[int, str]] = {}
    for (token, slot, style), word in zip(reads, words):
        if token not in found and want[token] and _word(word) == want[token]:
            found[token] = (slot, style)
    return found


async def probe_layout(rpc: Any, pools: Iterable[Any], holder: str, block: int) -> StateLayout:
    """The storage layout of ``pools`` (objects with address/token0/token1) and of their tokens'
    balances of ``holder`` (the executor), all read at ``block``."""
    tag = hex(block)
    pools = [(p.address.lower(), p.token0.lower(), p.token1.lower()) for p in pools]
    reserves = await find_reserves_slots(rpc, [p for p, _, _ in pools], tag)
    holders: dict[str, str] = {}
    for pool, t0, t1 in pools:      # a pool holds its tokens: it is the probe's holder
        for token in (t0, t1):
            if pool in reserves:
                holders.setdefault(token, pool)
    tokens = await find_balance_slots(rpc, holders, tag)
    layout = StateLayout(tokens=tokens)
    for pool, t0, t1 in pools:
        if pool not in reserves or t0 not in tokens or t1 not in tokens:
            layout.unpatchable.add(pool)
            continue
        layout.pools[pool] = PoolSlots(pool, t0, t1, reserves[pool][0], layout.slot_of(t0, pool), layout.slot_of(t1, pool))
    layout.holder_slots = {t: mapping_slot(slot, holder, style) for t, (slot, style) in tokens.items()}
    return layout
