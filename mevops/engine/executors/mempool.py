"""Send arbitrage transactions to the public mempool, simulation first.

Order of work for one trade: simulate (``eth_call`` against the latest state; a revert means no
transaction) → take a nonce → sign → record the signed transaction durably (when a store is
given) → send the raw bytes → watch for the receipt in the background. A restart finds signed
but unconfirmed trades in the store and re-broadcasts the same bytes: never a second signature.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any

from mevops.engine.collectors.rpc import HttpRpc, JsonRpcError
from mevops.engine.executors.arb_call import execute_calldata, realized_profit
from mevops.engine.types import ArbTrade, ExecutionResult

log = logging.getLogger("mevops.engine.mempool")


class Simulator:
    """``eth_call`` simulation of the executor call as the owner would send it."""

    def __init__(self, rpc: HttpRpc, sender: str, executor: str) -> None:
        self.rpc, self.sender, self.executor = rpc, sender, executor

    async def __call__(self, trade: ArbTrade, data: bytes) -> tuple[bool, str, int | None]:
        call = {"from": self.sender, "to": self.executor, "data": "0x" + data.hex(), "gas": hex(trade.gas_limit)}
        try:
            out = await self.rpc.call("eth_call", [call, "latest"])
        except JsonRpcError as exc:
            return False, f"simulation reverted: {exc}", None
        return True, "", int(out, 16) if out and out != "0x" else None


class MempoolExecutor:
    name = "mempool"

    def __init__(self, rpc: HttpRpc, signer: Any, nonces: Any, executor: str, chain_id: int, *, store: Any = None,
                 simulate: Callable | None = None, on_final: Callable[[ArbTrade, ExecutionResult], None] | None = None,
                 receipt_timeout: float = 60.0, poll: float = 0.05) -> None:
        self.rpc, self.signer, self.nonces = rpc, signer, nonces
        self.executor, self.chain_id, self.store = executor, chain_id, store
        self.simulate = simulate or Simulator(rpc, signer.address, executor)
        self.on_final = on_final
        self.receipt_timeout, self.poll = receipt_timeout, poll
        self.watchers: set[asyncio.Task] = set()
        self.sent_at: dict[str, float] = {}

    async def execute(self, action: ArbTrade) -> ExecutionResult:
        data = execute_calldata(action)
        opportunity = self.store.record_trade_opportunity(action) if self.store is not None else None
        ok, reason, _ = await self.simulate(action, data)
        if not ok:
            if self.store is not None:
                self.store.set_opportunity_status(opportunity, "failed", reason)
            return ExecutionResult(action.id, "simulated_fail", reason=reason)
        nonce = await self.nonces.take()
        tx = {"type": 2, "chainId": self.chain_id, "nonce": nonce, "to": self.executor, "value": 0, "data": data,
              "gas": action.gas_limit, "maxFeePerGas": action.max_fee_per_gas,
              "maxPriorityFeePerGas": action.max_priority_fee_per_gas}
        raw, tx_hash = self.signer.sign(tx)
        if self.store is not None:  # durable before the send: a restart re-broadcasts these bytes, never re-signs
            self.store.record_signed_trade(action.id, nonce, tx_hash, raw, chain=action.chain, strategy=action.strategy,
                                           sender=self.signer.address, token=action.token, amount_in=action.amount_in,
                                           opportunity_id=opportunity)
        try:
            await self.rpc.call("eth_sendRawTransaction", ["0x" + raw.hex()])
        except JsonRpcError as exc:
            if "nonce" in str(exc).lower():
                await self.nonces.resync()
            else:
                await self.nonces.release(nonce)
            if self.store is not None:
                self.store.mark_dropped(action.id, str(exc))
            return ExecutionResult(action.id, "failed", tx_hash, reason=f"send refused: {exc}")
        self.sent_at[tx_hash] = time.monotonic()
        if self.store is not None:
            self.store.mark_sent(action.id)
        task = asyncio.create_task(self._watch(action, tx_hash), name=f"receipt:{tx_hash[:10]}")
        self.watchers.add(task)
        task.add_done_callback(self.watchers.discard)
        return ExecutionResult(action.id, "sent", tx_hash)

    async def _watch(self, action: ArbTrade, tx_hash: str) -> ExecutionResult:
        deadline = time.monotonic() + self.receipt_timeout
        receipt = None
        while time.monotonic() < deadline:
            try:
                receipt = await self.rpc.call("eth_getTransactionReceipt", [tx_hash])
            except (JsonRpcError, OSError) as exc:
                log.debug("receipt poll failed: %s", exc)
            if receipt:
                break
            await asyncio.sleep(self.poll)
        result = self._final(action, tx_hash, receipt)
        if self.store is not None:
            self._record(action.id, result)
        if self.on_final is not None:
            self.on_final(action, result)
        return result

    def _record(self, trade_id: str, r: ExecutionResult) -> None:
        if r.status == "mined":
            self.store.mark_mined(trade_id, block=r.block, gas_used=r.gas_used, effective_gas_price=r.effective_gas_price or 0,
                                  realized_profit=r.realized_profit)
        elif r.status == "reverted":
            self.store.mark_reverted(trade_id, block=r.block, gas_used=r.gas_used,
                                     effective_gas_price=r.effective_gas_price or 0, reason=r.reason)
        else:
            self.store.mark_dropped(trade_id, r.reason)

    def _final(self, action: ArbTrade, tx_hash: str, receipt: dict | None) -> ExecutionResult:
        if not receipt:
            return ExecutionResult(action.id, "dropped", tx_hash, reason="no receipt before the timeout")
        gas_used = int(receipt["gasUsed"], 16)
        block = int(receipt["blockNumber"], 16)
        price = int(receipt.get("effectiveGasPrice") or "0x0", 16)
        if receipt.get("status") != "0x1":
            return ExecutionResult(action.id, "reverted", tx_hash, block, gas_used, 0, "reverted on chain", price)
        return ExecutionResult(action.id, "mined", tx_hash, block, gas_used, realized_profit(receipt, self.executor),
                               effective_gas_price=price)

    async def drain(self, timeout: float = 30.0) -> None:
        if self.watchers:
            await asyncio.wait(list(self.watchers), timeout=timeout)


class PaperExecutor:
    """Paper trading: simulate, record what would have been sent, send nothing."""

    name = "paper"

    def __init__(self, simulate: Callable, store: Any = None) -> None:
        self.simulate, self.store = simulate, store

    async def execute(self, action: ArbTrade) -> ExecutionResult:
        ok, reason, profit = await self.simulate(action, execute_calldata(action))
        result = ExecutionResult(action.id, "paper" if ok else "simulated_fail", realized_profit=profit if ok else None,
                                 reason=reason)
        if self.store is not None:  # a paper trade is an opportunity that was simulated, never a trade
            opportunity = self.store.record_trade_opportunity(action)
            self.store.set_opportunity_status(opportunity, "simulated" if ok else "failed", reason or "paper trade")
        return result
