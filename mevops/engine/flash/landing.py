"""Land one contract call for an action: eth_call first (a failed simulation is never sent), then one
type-2 transaction; the result carries gas used and a profit word read from the contract's event.

Shared by the flash-arbitrage and the liquidation executors.
"""

from __future__ import annotations

from typing import Any

from mevops.contracts.transactions import TxFailed, TxSender, checksum
from mevops.engine.types import ExecutionResult


def event_word(receipt: Any, emitter: str, signature: str, word: int) -> int | None:
    """The ``word``-th 32-byte data word of the first ``signature`` log ``emitter`` wrote in ``receipt``."""
    from eth_utils import keccak

    topic = keccak(text=signature).hex()
    for log in receipt.get("logs", []):
        topics = log["topics"]
        t0 = topics[0].hex() if topics and isinstance(topics[0], bytes | bytearray) else (topics[0] if topics else "")
        if checksum(log["address"]) == checksum(emitter) and t0.removeprefix("0x") == topic:
            data = log["data"]
            raw = bytes(data) if isinstance(data, bytes | bytearray) else bytes.fromhex(data.removeprefix("0x"))
            return int.from_bytes(raw[32 * word:32 * word + 32], "big")
    return None


def sender_address(account: Any) -> str:
    return checksum(account if isinstance(account, str) else account.address)


async def land(w3: Any, account: Any, to: str, data: bytes, action: Any, profit_event: tuple[str, int],
               simulate: bool = True) -> ExecutionResult:
    """Send ``data`` to ``to`` for ``action`` (its ``id``, ``gas_limit`` and fee fields); the realized
    profit is word ``profit_event[1]`` of the ``profit_event[0]`` log emitted by ``to``."""
    if simulate:
        try:
            await w3.eth.call({"from": sender_address(account), "to": to, "data": data, "gas": action.gas_limit})
        except Exception as exc:  # noqa: BLE001 - any simulation failure means: do not send
            return ExecutionResult(action.id, "simulated_fail", reason=str(exc)[:300])
    tx = await TxSender.open(w3, account, tip=action.max_priority_fee_per_gas)
    tx.max_fee = max(tx.max_fee, action.max_fee_per_gas)
    tx.send(to, data, gas=action.gas_limit, label=f"{action.strategy} {action.id[:8]}")
    try:
        (tx_hash,) = await tx.settle()
    except TxFailed as exc:
        return ExecutionResult(action.id, "reverted", tx_hash=exc.tx_hash or None, reason=str(exc))
    receipt = await w3.eth.get_transaction_receipt(tx_hash)
    return ExecutionResult(action.id, "mined", tx_hash=tx_hash, block=receipt["blockNumber"],
                           gas_used=receipt["gasUsed"], realized_profit=event_word(receipt, to, *profit_event),
                           effective_gas_price=receipt.get("effectiveGasPrice"))
