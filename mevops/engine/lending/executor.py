"""Execute ``LiquidationTrade`` actions through a deployed ``FlashLiquidator``: simulate, send, report."""

from __future__ import annotations

from typing import Any

from mevops.contracts.protocol_artifacts import encode_call
from mevops.contracts.transactions import TxFailed, TxSender, checksum
from mevops.engine.lending.strategy import LiquidationTrade
from mevops.engine.types import ExecutionResult


def encode_liquidation(trade: LiquidationTrade) -> bytes:
    return encode_call("FlashLiquidator", "liquidate", checksum(trade.market), checksum(trade.collateral_asset),
                       checksum(trade.debt_asset), checksum(trade.user), trade.debt_to_cover,
                       checksum(trade.swap_pool), trade.zero_for_one, trade.fee_bps, trade.min_profit)


def _liquidated_topic() -> str:
    from eth_utils import keccak

    return "0x" + keccak(text="Liquidated(address,address,uint256,uint256,uint256,uint256)").hex()


def realized_profit(receipt: Any, liquidator: str) -> int | None:
    topic = _liquidated_topic()
    for log in receipt.get("logs", []):
        t0 = log["topics"][0] if log["topics"] else b""
        t0 = t0.hex() if isinstance(t0, bytes | bytearray) else t0
        if checksum(log["address"]) == checksum(liquidator) and ("0x" + t0.removeprefix("0x")) == topic:
            data = log["data"]
            raw = bytes(data) if isinstance(data, bytes | bytearray) else bytes.fromhex(data.removeprefix("0x"))
            return int.from_bytes(raw[96:128], "big")
    return None


class LiquidationTxExecutor:
    def __init__(self, w3: Any, account: Any, liquidator: str, name: str = "liquidation-executor") -> None:
        self.w3, self.account, self.liquidator, self.name = w3, account, checksum(liquidator), name

    @property
    def sender(self) -> str:
        return checksum(self.account if isinstance(self.account, str) else self.account.address)

    async def execute(self, action: LiquidationTrade) -> ExecutionResult:
        if not isinstance(action, LiquidationTrade):
            return ExecutionResult(getattr(action, "id", ""), "refused", reason="not a LiquidationTrade")
        data = encode_liquidation(action)
        try:
            await self.w3.eth.call({"from": self.sender, "to": self.liquidator, "data": data, "gas": action.gas_limit})
        except Exception as exc:  # noqa: BLE001 - a failed simulation means: do not send
            return ExecutionResult(action.id, "simulated_fail", reason=str(exc)[:300])
        tx = await TxSender.open(self.w3, self.account, tip=action.max_priority_fee_per_gas)
        tx.max_fee = max(tx.max_fee, action.max_fee_per_gas)
        tx.send(self.liquidator, data, gas=action.gas_limit, label="FlashLiquidator")
        try:
            (tx_hash,) = await tx.settle()
        except TxFailed as exc:
            return ExecutionResult(action.id, "reverted", tx_hash=exc.tx_hash or None, reason=str(exc))
        receipt = await self.w3.eth.get_transaction_receipt(tx_hash)
        return ExecutionResult(action.id, "mined", tx_hash=tx_hash, block=receipt["blockNumber"],
                               gas_used=receipt["gasUsed"], realized_profit=realized_profit(receipt, self.liquidator),
                               effective_gas_price=receipt.get("effectiveGasPrice"))
