"""Build a warm pyrevm fork without blocking the event loop.

pyrevm's forked database fetches what a call touches lazily, with blocking HTTP while holding
the GIL: every miss freezes the whole event loop for one round trip. So a fork is built here
already holding what the hot path needs, fetched with the engine's async client at one pinned
block: each probe call's full pre-state (``debug_traceCall`` with geth's ``prestateTracer``:
code, balance, nonce and every storage slot read, even when the call reverts), plus the
accounts and slots the Sync patches write. Whatever is still missing is fetched lazily at the
same block, so the state stays consistent; it only costs a stall once.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from mevops.engine.collectors.rpc import JsonRpcError

log = logging.getLogger("mevops.engine.sim")

ZERO_ADDRESS = "0x" + "00" * 20
DEPLOYER = "0x" + "5e" * 20   # deploys code copies inside reverted snapshots (analysed_account)


@dataclass
class PreState:
    """Accounts (address -> (balance, nonce, code)) and storage ((address, slot) -> value) at one block."""

    block: int
    accounts: dict[str, tuple[int, int, bytes]] = field(default_factory=dict)
    storage: dict[tuple[str, int], int] = field(default_factory=dict)


def _int(value: Any) -> int:
    if value is None:
        return 0
    return int(value, 16) if isinstance(value, str) else int(value)


async def traced_prestate(rpc: Any, calls: list[dict[str, Any]], state: PreState) -> None:
    """Merge the pre-state of ``calls`` at ``state.block`` (nothing if the node has no prestateTracer)."""
    if not calls:
        return
    tag = hex(state.block)
    try:
        answers = await rpc.batch([("debug_traceCall", [call, tag, {"tracer": "prestateTracer"}]) for call in calls])
    except (JsonRpcError, KeyError, TypeError) as exc:
        log.info("no prestateTracer on the node (%s); the fork loads lazily", exc)
        return
    for answer in answers:
        for address, account in (answer or {}).items():
            address = address.lower()
            code = bytes.fromhex((account.get("code") or "0x")[2:])
            state.accounts[address] = (_int(account.get("balance")), _int(account.get("nonce")), code)
            for slot, value in (account.get("storage") or {}).items():
                state.storage[(address, int(slot, 16))] = int(value, 16)


async def fill_accounts(rpc: Any, addresses: Iterable[str], state: PreState) -> None:
    """Fetch balance, nonce and code of the ``addresses`` not in ``state`` yet (one batch)."""
    todo = sorted({a.lower() for a in addresses} - set(state.accounts))
    if not todo:
        return
    tag = hex(state.block)
    calls = [(m, [a, tag]) for a in todo for m in ("eth_getBalance", "eth_getTransactionCount", "eth_getCode")]
    answers = await rpc.batch(calls)
    for i, address in enumerate(todo):
        balance, nonce, code = answers[3 * i:3 * i + 3]
        state.accounts[address] = (_int(balance), _int(nonce), bytes.fromhex((code or "0x")[2:]))


async def fill_storage(rpc: Any, slots: Iterable[tuple[str, int]], state: PreState) -> None:
    """Fetch the storage ``slots`` not in ``state`` yet (one batch)."""
    todo = sorted({(a.lower(), s) for a, s in slots} - set(state.storage))
    if not todo:
        return
    tag = hex(state.block)
    answers = await rpc.batch([("eth_getStorageAt", [a, hex(s), tag]) for a, s in todo])
    for key, value in zip(todo, answers):
        state.storage[key] = _int(value)


def write_storage(evm: Any, writes: Iterable[tuple[str, int, int]]) -> None:
    """Write storage at the database level, as if it had been there at the fork.

    pyrevm never finalizes a transaction: an account its ``insert_account_storage`` loads stays
    in the journal, where a second write lands as a warm, dirty slot (reads cost 100 gas instead
    of 2100, SSTOREs are priced as re-writes). Wrapped in a snapshot, the insert still reaches
    the database while the revert drops the account from the journal again, so simulations pay
    cold-access gas as on chain. One write per snapshot: a second write to the same account
    inside it would land in the journal and be reverted. Nothing else may load accounts into the
    journal outside a snapshot."""
    for address, slot, value in writes:
        checkpoint = evm.snapshot()
        evm.insert_account_storage(address, slot, value)
        evm.revert(checkpoint)


def analysed_account(evm: Any, balance: int, nonce: int, code: bytes) -> Any:
    """A pyrevm ``AccountInfo`` holding ``code`` already analysed (jump destinations).

    Code inserted with ``AccountInfo(code=...)`` stays raw, and revm analyses raw code again on
    every call frame (a sixth of a 2-hop simulation). Code revm deploys itself is stored analysed,
    so the code is deployed once, inside a snapshot, by a constructor that returns it verbatim,
    and the resulting account info (same code hash) is kept. Only for nonce-1 accounts (what
    CREATE gives); anything unusual keeps the raw code."""
    from pyrevm import AccountInfo

    raw = AccountInfo(balance=balance, nonce=nonce, code=code)
    if nonce != 1 or not code or len(code) > 0xFFFF or code[:1] == b"\xef":
        return raw
    init = b"\x61" + len(code).to_bytes(2, "big") + bytes.fromhex("80600c6000396000f3") + code
    checkpoint = evm.snapshot()
    try:
        if balance:
            evm.set_balance(DEPLOYER, balance)
        info = evm.basic(evm.deploy(DEPLOYER, init, value=balance or None))
    except RuntimeError:
        return raw
    finally:
        evm.revert(checkpoint)
    return info if info.code_hash == raw.code_hash and info.balance == balance and info.nonce == nonce else raw


def install(evm: Any, state: PreState) -> None:
    """Write ``state`` into a fresh pyrevm EVM (database level: nothing stays in the journal)."""
    from pyrevm import AccountInfo

    from mevops.contracts.transactions import create_address

    for scratch in (DEPLOYER, create_address(DEPLOYER, 0)):  # known empty: no lazy fetch for them
        evm.insert_account_info(scratch, AccountInfo())
    for address, (balance, nonce, code) in state.accounts.items():
        info = analysed_account(evm, balance, nonce, code) if code else AccountInfo(balance=balance, nonce=nonce)
        evm.insert_account_info(address, info)
    write_storage(evm, ((address, slot, value) for (address, slot), value in state.storage.items()))


def new_evm(fork_url: str, block: int, spec_id: str) -> Any:
    """An EVM forked from ``fork_url`` at ``block``: misses load lazily from that block."""
    from pyrevm import EVM

    return EVM(fork_url=fork_url, fork_block=str(block), spec_id=spec_id)


async def build_fork(rpc: Any, fork_url: str, block: int, *, calls: list[dict[str, Any]], accounts: Iterable[str],
                     slots: Iterable[tuple[str, int]], spec_id: str) -> tuple[Any, PreState]:
    """A warm fork at ``block``: probe calls' pre-state, then the named accounts and slots."""
    state = PreState(block)
    await traced_prestate(rpc, calls, state)
    await fill_accounts(rpc, [*accounts, ZERO_ADDRESS], state)
    await fill_storage(rpc, slots, state)
    evm = new_evm(fork_url, block, spec_id)
    install(evm, state)
    return evm, state
