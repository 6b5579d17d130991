"""Send arbitrage trades as bundles to relays/builders instead of the public mempool.

Order of work for one trade: read the head and the signer's confirmed nonce → size the bribe (a
share of the expected net profit) → simulate on the node (``eth_estimateGas``: a revert means
no bundle, and its gas sizes a priority-fee bribe) → sign once → optionally simulate the signed
bundle at a relay (``eth_callBundle``) → send one bundle per target block (head+1 .. head+N, each
with its own replacement uuid derived from the trade's) to every relay concurrently → watch the
blocks for the transaction. Nothing reaches the public mempool, so a trade that does not land
costs nothing and leaves the nonce unused; ``cancel`` withdraws it by uuid, ``replace`` resends
under the same uuids.

``execute`` answers ``sent`` (at least one relay took it), ``simulated_fail`` (the node, or the
relay's ``eth_callBundle``, says it reverts: nothing sent), ``refused`` (the profit token has no
price for the bribe) or ``failed`` without a tx hash (no relay took it: nothing can land). The
final result (``on_final``) is ``mined`` (``realized_profit``: the token profit the contract kept,
after a coinbase payment), ``reverted`` (only a builder breaking atomicity could) or
``not_included`` (no target block holds it: it cost nothing, the nonce is unused). A replaced
bundle that did not land reports nothing; its replacement reports.

Nonces are the signer's *confirmed* count: a bundle is valid on top of a mined block, never
behind another unmined transaction. Two trades sent before either lands share a nonce and
compete: at most one lands, which is right for two views of the same market.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from mevops.contracts.coinbase_executor import PAYMENT_GAS
from mevops.engine.bundles import requests
from mevops.engine.bundles.bribe import BribePolicy, coinbase_calldata, same_token
from mevops.engine.bundles.client import RelayReply, Relays
from mevops.engine.bundles.hashing import keccak
from mevops.engine.bundles.inclusion import BlockWatcher, Inclusion
from mevops.engine.collectors.rpc import JsonRpcError
from mevops.engine.executors.arb_call import execute_calldata, realized_profit
from mevops.engine.types import ArbTrade, ExecutionResult
from mevops.errors import MevopsError, Problem

log = logging.getLogger("mevops.engine.bundles")


COINBASE_PAYMENT_TOPIC = "0x" + keccak(b"CoinbasePayment(address,uint256)").hex()
# Final status of a bundle none of whose target blocks holds it: it can never land, it cost nothing
# and its nonce is unused. Not the mempool's "dropped" (no receipt yet: fate unknown, worst case).
NOT_INCLUDED = "not_included"


@dataclass(frozen=True)
class BundleSettings:
    blocks_ahead: int = 3                 # target head+1 .. head+blocks_ahead
    bribe: BribePolicy = field(default_factory=BribePolicy)
    max_age_s: int | None = None          # maxTimestamp = head timestamp + max_age_s (None: no bound)
    call_bundle: bool = False             # also simulate the signed bundle at a relay (eth_callBundle)
    fee_headroom: int = 2                 # max fee per gas = headroom x head base fee + tip
    builders: tuple[str, ...] = ()        # builder names a relay may share the bundle with (Flashbots "builders")

    def __post_init__(self) -> None:
        if self.blocks_ahead < 1:
            raise ValueError("blocks_ahead is at least 1")


@dataclass
class Submission:
    trade_id: str
    uuid: str
    nonce: int
    tx_hash: str
    raw: bytes              # the signed transaction (public once sent; no key material)
    blocks: range
    bribe_wei: int
    priority_fee: int       # per gas, as signed
    replies: list[list[RelayReply]]
    sent_at: float = field(default_factory=time.monotonic)
    cancelled: bool = False
    superseded: bool = False
    inclusion: Inclusion | None = None
    coinbase_paid: int | None = None

    @property
    def accepted(self) -> int:
        """Relays that took the bundle for at least one target block."""
        return sum(any(per_block[i].ok for per_block in self.replies) for i in range(len(self.replies[0])))


@dataclass
class Draft:
    """One trade's transaction before signing: everything but the priority fee is fixed."""

    action: ArbTrade
    chain_id: int
    executor: str
    nonce: int
    number: int             # the head it was built on
    timestamp: int
    bribe: int              # wei, paid to coinbase by the contract or as priority fee
    priority: bool          # the bribe is a priority fee
    data: bytes
    gas: int                # simulated gas use
    base_fee_room: int      # headroom x the head's base fee
    signed_tip: int = 0

    def tx(self) -> dict[str, Any]:
        """The transaction to sign, its priority fee paying the bribe over ``gas`` (priority mode)."""
        floor = self.action.max_priority_fee_per_gas
        tip = self.signed_tip = BribePolicy.priority_fee(self.bribe, self.gas, floor) if self.priority else floor
        return {"type": 2, "chainId": self.chain_id, "nonce": self.nonce, "to": self.executor, "value": 0, "data": self.data,
                "gas": max(self.action.gas_limit, self.gas * 6 // 5), "maxPriorityFeePerGas": tip,
                "maxFeePerGas": max(self.action.max_fee_per_gas, self.base_fee_room + tip)}


class BundleExecutor:
    name = "bundle"

    def __init__(self, rpc: Any, signer: Any, executor: str, chain_id: int, relays: Relays, *,
                 settings: BundleSettings = BundleSettings(), to_wei: Callable[[str, int], int] | None = None,
                 weth: str | None = None, on_final: Callable[[ArbTrade, ExecutionResult], None] | None = None,
                 poll: float = 0.05) -> None:
        if relays.auth.address.lower() == signer.address.lower():
            raise MevopsError(Problem("relays", None, "auth", "the relay (reputation) key must not be the trading key"))
        self.rpc, self.signer, self.executor, self.chain_id = rpc, signer, executor, chain_id
        self.relays, self.settings, self.on_final = relays, settings, on_final
        self.to_wei = to_wei or (same_token(weth) if weth else None)
        if self.to_wei is None and settings.bribe.share_bps:
            raise ValueError("a bribe needs to_wei (or weth) to price the profit in wei")
        self.watcher = BlockWatcher(rpc, poll)
        self.submissions: dict[str, Submission] = {}
        self.finished: deque[Submission] = deque(maxlen=256)
        self.watchers: set[asyncio.Task] = set()

    async def execute(self, action: ArbTrade) -> ExecutionResult:
        return await self._submit(action, str(uuid.uuid4()))

    async def replace(self, trade_id: str, action: ArbTrade) -> ExecutionResult:
        """Resend under ``trade_id``'s uuids: relays drop the old bundle for the new one (e.g. a re-priced bribe)."""
        old = self.submissions[trade_id]
        old.superseded = True
        result = await self._submit(action, old.uuid)
        old.superseded = result.status == "sent"   # not resent: the old bundle still stands
        return result

    async def cancel(self, trade_id: str) -> list[RelayReply]:
        """``eth_cancelBundle`` for every target block's uuid at every relay; the watcher still reports the truth."""
        sub = self.submissions[trade_id]
        sub.cancelled = True
        per_block = await asyncio.gather(*(self.relays.cancel_bundle(requests.block_uuid(sub.uuid, b)) for b in sub.blocks))
        return [reply for replies in per_block for reply in replies]

    # -- one trade -------------------------------------------------------------------------------------
    async def _submit(self, action: ArbTrade, base_uuid: str) -> ExecutionResult:
        draft = await self._draft(action)
        if isinstance(draft, ExecutionResult):
            return draft
        raw, tx_hash = self.signer.sign(draft.tx())
        if self.settings.call_bundle:
            raw, tx_hash, failure = await self._relay_check(draft, raw, tx_hash)
            if failure:
                return ExecutionResult(action.id, "simulated_fail", tx_hash, reason=failure)
        return await self._send(draft, base_uuid, raw, tx_hash)

    async def _draft(self, action: ArbTrade) -> Draft | ExecutionResult:
        """Head, nonce, bribe and calldata; simulated on the node (a revert: no bundle)."""
        head, nonce = await self.rpc.batch([("eth_getBlockByNumber", ["latest", False]),
                                            ("eth_getTransactionCount", [self.signer.address, "latest"])])
        policy = self.settings.bribe
        try:
            bribe = policy.amount(action, self.to_wei) if self.to_wei else 0
        except ValueError as exc:
            return ExecutionResult(action.id, "refused", reason=str(exc))
        coinbase = policy.mode == "coinbase"
        data = coinbase_calldata(action, bribe) if coinbase else execute_calldata(action)
        call = {"from": self.signer.address, "to": self.executor, "data": "0x" + data.hex(),
                "gas": hex(action.gas_limit + (PAYMENT_GAS if coinbase else 0))}
        try:
            gas = int(await self.rpc.call("eth_estimateGas", [call, "latest"]), 16)
        except JsonRpcError as exc:
            return ExecutionResult(action.id, "simulated_fail", reason=f"simulation reverted: {exc}")
        base_fee = int(head.get("baseFeePerGas") or "0x0", 16)
        return Draft(action, self.chain_id, self.executor, int(nonce, 16), int(head["number"], 16), int(head["timestamp"], 16),
                     bribe, not coinbase, data, gas, self.settings.fee_headroom * base_fee)

    async def _relay_check(self, draft: Draft, raw: bytes, tx_hash: str) -> tuple[bytes, str, str]:
        """eth_callBundle at a relay, as the target block: a revert there means no bundle. A priority-fee
        bribe is re-sized on the gas the relay measured (the node's estimate runs on the parent block's
        timestamp, and V2 pairs write their price accumulators only in a new second: ±10% of gas)."""
        reply = await self.relays.call_bundle([raw], draft.number + 1)
        failure = _call_bundle_failure(reply)
        if failure or not reply.ok or not (draft.priority and draft.bribe):
            return raw, tx_hash, failure
        measured = int(reply.result["results"][0]["gasUsed"])
        if measured != draft.gas:
            draft.gas = measured
            raw, tx_hash = self.signer.sign(draft.tx())
        return raw, tx_hash, ""

    async def _send(self, draft: Draft, base_uuid: str, raw: bytes, tx_hash: str) -> ExecutionResult:
        action, blocks = draft.action, range(draft.number + 1, draft.number + 1 + self.settings.blocks_ahead)
        max_age = self.settings.max_age_s
        bundles = target_bundles((raw,), blocks, base_uuid, draft.timestamp + max_age if max_age is not None else None,
                                 self.settings.builders)
        replies = await self.relays.send_bundles(bundles)
        sub = Submission(action.id, base_uuid, draft.nonce, tx_hash, raw, blocks, draft.bribe, draft.signed_tip, replies)
        if not sub.accepted:  # nothing can land: "failed" without a tx hash (nothing was broadcast)
            errors = "; ".join(f"{r.relay}: {r.error}" for r in replies[-1])
            return ExecutionResult(action.id, "failed", reason=f"no relay took the bundle of {tx_hash} ({errors})")
        self.submissions[action.id] = sub
        future = self.watcher.watch((tx_hash,), blocks[-1], after_block=draft.number)
        task = asyncio.create_task(self._final(action, sub, future), name=f"bundle:{tx_hash[:10]}")
        self.watchers.add(task)
        task.add_done_callback(self.watchers.discard)
        where = f"blocks {blocks[0]}-{blocks[-1]} at {sub.accepted}/{len(self.relays.clients)} relays"
        log.info("bundle %s for %s, bribe %d wei (%s)", tx_hash, where, sub.bribe_wei, self.settings.bribe.mode)
        return ExecutionResult(action.id, "sent", tx_hash, reason=f"bundle for {where}")

    async def _final(self, action: ArbTrade, sub: Submission, future: asyncio.Future) -> ExecutionResult:
        while True:
            inclusion = await future
            receipt = await self._receipt(sub.tx_hash) if inclusion else None
            if inclusion is None or (receipt and receipt.get("blockHash") == inclusion.block_hash):
                break
            # the block that had it is gone (a reorg; a devnet relay undoing a block), or the node did not
            # answer: watch again from there
            future = self.watcher.watch((sub.tx_hash,), max(sub.blocks[-1], inclusion.block), after_block=inclusion.block - 1)
        sub.inclusion = inclusion
        if inclusion is None:
            why = "cancelled" if sub.cancelled else "replaced" if sub.superseded else "not included"
            span = f"{sub.blocks[0]}-{sub.blocks[-1]}"
            result = ExecutionResult(action.id, NOT_INCLUDED, sub.tx_hash,
                                     reason=f"{why}: no block {span} has the bundle, and it is valid for no other")
        else:
            result = self._mined(action, sub, receipt)
        if self.submissions.get(action.id) is sub:
            del self.submissions[action.id]
        self.finished.append(sub)
        if self.on_final is not None and not (sub.superseded and inclusion is None):
            self.on_final(action, result)
        return result

    async def _receipt(self, tx_hash: str) -> dict | None:
        try:
            return await self.rpc.call("eth_getTransactionReceipt", [tx_hash])
        except Exception as exc:  # noqa: BLE001 - JSON-RPC, HTTP or connection errors: asked again later
            log.debug("receipt of %s: %s", tx_hash, exc)
            return None

    def _mined(self, action: ArbTrade, sub: Submission, receipt: dict) -> ExecutionResult:
        gas_used, block = int(receipt["gasUsed"], 16), int(receipt["blockNumber"], 16)
        price = int(receipt.get("effectiveGasPrice") or "0x0", 16)
        if receipt.get("status") != "0x1":
            return ExecutionResult(action.id, "reverted", sub.tx_hash, block, gas_used, 0, "reverted on chain", price)
        sub.coinbase_paid = coinbase_payment(receipt, self.executor)
        return ExecutionResult(action.id, "mined", sub.tx_hash, block, gas_used, realized_profit(receipt, self.executor),
                               effective_gas_price=price)

    async def drain(self, timeout: float = 30.0) -> None:
        if self.watchers:
            await asyncio.wait(list(self.watchers), timeout=timeout)

    async def close(self) -> None:
        await self.watcher.close()
        for task in list(self.watchers):
            task.cancel()


def target_bundles(txs: tuple[bytes, ...], blocks: range, base_uuid: str, max_timestamp: int | None = None,
                   builders: tuple[str, ...] = ()) -> list[requests.Bundle]:
    """One bundle per target block, each replaceable (and cancellable) by its own uuid derived from ``base_uuid``."""
    return [requests.Bundle(txs, b, max_timestamp=max_timestamp, replacement_uuid=requests.block_uuid(base_uuid, b),
                            builders=builders) for b in blocks]


def coinbase_payment(receipt: dict, executor: str) -> int | None:
    """The ether the executor sent to coinbase in this receipt (its CoinbasePayment log), or None."""
    for entry in receipt.get("logs", []):
        if entry["address"].lower() == executor.lower() and entry["topics"] and entry["topics"][0] == COINBASE_PAYMENT_TOPIC:
            return int(entry["data"][2:66], 16)
    return None


def _call_bundle_failure(reply: RelayReply) -> str:
    """Why a relay's eth_callBundle answer means "do not send" ("" if it does not)."""
    if not reply.ok:
        return "" if reply.code is None or reply.code == -32601 else f"relay simulation refused: {reply.error}"
    for item in (reply.result or {}).get("results", []):
        if item.get("error") or item.get("revert"):
            return f"relay simulation reverted: {item.get('revert') or item.get('error')}"
    return ""
