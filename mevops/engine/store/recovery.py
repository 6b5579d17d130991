"""Resume after a crash: settle or re-broadcast what was signed, never sign anything again.

For each pending trade of a chain (``Store.pending_trades``), in nonce order:

1. a receipt exists            → mined or reverted (with block, gas and effective gas price);
2. the node knows the tx       → it is in flight: ``sent``;
3. the sender's mined nonce
   count is past the nonce     → another transaction used the nonce: ``dropped``;
4. otherwise                   → re-broadcast the stored signed bytes (same hash): ``sent``.
   "already known" counts as sent, "nonce too low" as dropped; other errors are reported and
   the trade stays pending for the next pass.

``rpc`` is anything with ``async request(method, params)`` — an ``RpcPool``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Protocol

from mevops.engine.store.records import PendingTrade
from mevops.engine.store.store import Store


class Rpc(Protocol):
    async def request(self, method: str, params: list[Any] | None = None) -> Any: ...


ProfitOf = Callable[[PendingTrade, dict[str, Any]], "int | None"]


@dataclass
class ReconcileReport:
    mined: list[str] = field(default_factory=list)
    reverted: list[str] = field(default_factory=list)
    in_flight: list[str] = field(default_factory=list)
    rebroadcast: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    errors: dict[str, str] = field(default_factory=dict)


def _int(value: Any) -> int:
    return int(value, 16) if isinstance(value, str) else int(value)


async def reconcile_pending(store: Store, chain: str, rpc: Rpc, *, profit_of: ProfitOf | None = None,
                            sender: str | None = None) -> ReconcileReport:
    """``profit_of(trade, receipt)`` decodes the realised profit from the receipt's logs (None: unknown).
    ``sender``: only that signer's trades (any case), e.g. the key a replica holds the lease for."""
    report = ReconcileReport()
    for trade in store.pending_trades(chain):
        if sender is not None and trade.sender.lower() != sender.lower():
            continue
        try:
            await _reconcile_one(store, trade, rpc, report, profit_of)
        except Exception as exc:  # noqa: BLE001 (one bad trade must not stop the others)
            report.errors[trade.id] = f"{type(exc).__name__}: {exc}"
    return report


async def _reconcile_one(store: Store, trade: PendingTrade, rpc: Rpc, report: ReconcileReport,
                         profit_of: ProfitOf | None) -> None:
    receipt = await rpc.request("eth_getTransactionReceipt", [trade.tx_hash])
    if receipt:
        _settle(store, trade, receipt, report, profit_of)
        return
    if await rpc.request("eth_getTransactionByHash", [trade.tx_hash]):
        store.mark_sent(trade.id)
        report.in_flight.append(trade.id)
        return
    mined_nonces = _int(await rpc.request("eth_getTransactionCount", [trade.sender, "latest"]))
    if mined_nonces > trade.nonce:
        store.mark_dropped(trade.id, reason=f"nonce {trade.nonce} was used by another transaction")
        report.dropped.append(trade.id)
        return
    await _rebroadcast(store, trade, rpc, report)


def _settle(store: Store, trade: PendingTrade, receipt: dict[str, Any], report: ReconcileReport,
            profit_of: ProfitOf | None) -> None:
    block, gas_used = _int(receipt["blockNumber"]), _int(receipt["gasUsed"])
    price = _int(receipt.get("effectiveGasPrice") or 0)
    if _int(receipt.get("status", "0x1")) == 1:
        profit = profit_of(trade, receipt) if profit_of else None
        store.mark_mined(trade.id, block=block, gas_used=gas_used, effective_gas_price=price, realized_profit=profit,
                         reason="" if profit is not None else "realised profit unknown (reconciled after a restart)")
        report.mined.append(trade.id)
    else:
        store.mark_reverted(trade.id, block=block, gas_used=gas_used, effective_gas_price=price,
                            reason="reverted (reconciled after a restart)")
        report.reverted.append(trade.id)


async def _rebroadcast(store: Store, trade: PendingTrade, rpc: Rpc, report: ReconcileReport) -> None:
    try:
        sent_hash = await rpc.request("eth_sendRawTransaction", ["0x" + trade.raw_tx.hex()])
    except Exception as exc:  # noqa: BLE001
        message = str(exc).lower()
        if "already known" in message or "already imported" in message:
            store.mark_sent(trade.id)
            report.in_flight.append(trade.id)
        elif "nonce too low" in message:
            store.mark_dropped(trade.id, reason=f"re-broadcast refused: {exc}")
            report.dropped.append(trade.id)
        else:
            report.errors[trade.id] = f"re-broadcast failed: {exc}"
        return
    if isinstance(sent_hash, str) and sent_hash.lower() != trade.tx_hash.lower():
        report.errors[trade.id] = f"the node reports hash {sent_hash} for stored transaction {trade.tx_hash}"
    store.mark_sent(trade.id)
    report.rebroadcast.append(trade.id)
