"""Execute ``FlashArbTrade`` actions through a deployed ``FlashArbExecutor``.

eth_call first: a trade that does not simulate is never sent (status ``simulated_fail``). Then one
type-2 transaction from the owner; the result carries gas used and the realized profit decoded
from the contract's ``FlashArbitrage`` event.
"""

from __future__ import annotations

from typing import Any

from mevops.contracts.transactions import TxFailed, TxSender, checksum
from mevops.engine.flash.calldata import encode_flash_trade
from mevops.engine.flash.strategy import FlashArbTrade
from mevops.engine.types import ExecutionResult



def _topic() -> str:
    from eth_utils import keccak

    return "0x" + keccak(text="FlashArbitrage(address,uint256,uint256,uint256)").hex()


def realized_profit(receipt: Any, executor: str) -> int | None:
    """Profit from the executor's ``FlashArbitrage`` log in ``receipt`` (None if absent)."""
    topic = _topic()
    for log in receipt.get("logs", []):
        topics = [t.hex() if isinstance(t, bytes | bytearray) else t for t in log["topics"]]
        topics = [t if t.startswith("0x") else "0x" + t for t in topics]
        if checksum(log["address"]) == checksum(executor) and topics and topics[0] == topic:
            data = log["data"]
            raw = bytes(data) if isinstance(data, bytes | bytearray) else bytes.fromhex(data.removeprefix("0x"))
            return int.from_bytes(raw[64:96], "big")
    return None


class FlashArbTxExecutor:
    def __init__(self, w3: Any, account: Any, executor: str, name: str = "flash-arb-executor") -> None:
        self.w3, self.account, self.executor, self.name = w3, account, checksum(executor), name

    @property
    def sender(self) -> str:
        return checksum(self.account if isinstance(self.account, str) else self.account.address)

    async def execute(self, action: FlashArbTrade) -> ExecutionResult:
        if not isinstance(action, FlashArbTrade):
            return ExecutionResult(getattr(action, "id", ""), "refused", reason="not a FlashArbTrade")
        data = encode_flash_trade(action)
        try:
            await self.w3.eth.call({"from": self.sender, "to": self.executor, "data": data, "gas": action.gas_limit})
        except Exception as exc:  # noqa: BLE001 - any simulation failure means: do not send
            return ExecutionResult(action.id, "simulated_fail", reason=str(exc)[:300])
        tx = await TxSender.open(self.w3, self.account, tip=action.max_priority_fee_per_gas)
        tx.max_fee = max(tx.max_fee, action.max_fee_per_gas)
        tx.send(self.executor, data, gas=action.gas_limit, label="FlashArbExecutor")
        try:
            (tx_hash,) = await tx.settle()
        except TxFailed as exc:
            return ExecutionResult(action.id, "reverted", tx_hash=exc.tx_hash or None, reason=str(exc))
        receipt = await self.w3.eth.get_transaction_receipt(tx_hash)
        return ExecutionResult(action.id, "mined", tx_hash=tx_hash, block=receipt["blockNumber"],
                               gas_used=receipt["gasUsed"], realized_profit=realized_profit(receipt, self.executor),
                               effective_gas_price=receipt.get("effectiveGasPrice"))

    async def send_unchecked(self, action: FlashArbTrade) -> ExecutionResult:
        """Send without simulating (tests: prove the contract itself refuses a bad trade)."""
        tx = await TxSender.open(self.w3, self.account, tip=action.max_priority_fee_per_gas)
        tx.send(self.executor, encode_flash_trade(action), gas=action.gas_limit, label="FlashArbExecutor")
        try:
            (tx_hash,) = await tx.settle()
        except TxFailed as exc:
            return ExecutionResult(action.id, "reverted", tx_hash=exc.tx_hash or None, reason=str(exc))
        return ExecutionResult(action.id, "mined", tx_hash=tx_hash)
