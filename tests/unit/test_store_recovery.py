"""reconcile_pending against a fake node: settle, keep, drop or re-broadcast — never re-sign."""

from __future__ import annotations

import asyncio

import pytest

from mevops.engine.chain.rpc_pool import RpcError
from mevops.engine.store import Store, reconcile_pending

SENDER = "0x" + "ab" * 20


class FakeNode:
    def __init__(self) -> None:
        self.receipts: dict[str, dict] = {}
        self.known: set[str] = set()
        self.mined_nonce = 0
        self.broadcast: list[str] = []
        self.send_error: str | None = None

    async def request(self, method: str, params: list | None = None):
        params = params or []
        if method == "eth_getTransactionReceipt":
            return self.receipts.get(params[0])
        if method == "eth_getTransactionByHash":
            return {"hash": params[0]} if params[0] in self.known else None
        if method == "eth_getTransactionCount":
            assert params == [SENDER, "latest"]
            return hex(self.mined_nonce)
        if method == "eth_sendRawTransaction":
            if self.send_error:
                raise RpcError({"code": -32000, "message": self.send_error})
            self.broadcast.append(params[0])
            return HASHES[params[0]]
        raise AssertionError(f"unexpected {method}")


HASHES: dict[str, str] = {}


@pytest.fixture
def store(tmp_path):
    with Store(f"sqlite:///{tmp_path}/engine.db") as s:
        s.migrate()
        yield s


def sign(store: Store, trade_id: str, nonce: int) -> tuple[str, bytes]:
    raw = b"\x02" + trade_id.encode() * 4
    tx_hash = "0x" + trade_id.encode().hex().rjust(64, "0")
    HASHES["0x" + raw.hex()] = tx_hash
    store.record_signed_trade(trade_id, nonce, tx_hash, raw, chain="ethereum", strategy="arb", sender=SENDER, token="0xweth")
    return tx_hash, raw


def reconcile(store: Store, node: FakeNode, **kw):
    return asyncio.run(reconcile_pending(store, "ethereum", node, **kw))


def test_signed_but_unknown_to_the_node_is_rebroadcast_with_the_same_bytes(store):
    tx_hash, raw = sign(store, "a", 0)
    node = FakeNode()
    report = reconcile(store, node)
    assert report.rebroadcast == ["a"] and not report.errors
    assert node.broadcast == ["0x" + raw.hex()]
    assert store.trade("a").status == "sent" and store.trade("a").tx_hash == tx_hash
    report = reconcile(store, node)  # the node still does not know it: the same bytes again, never new ones
    assert node.broadcast == ["0x" + raw.hex()] * 2


def test_receipts_settle_trades(store):
    mined_hash, _ = sign(store, "m", 0)
    reverted_hash, _ = sign(store, "r", 1)
    node = FakeNode()
    node.receipts[mined_hash] = {"status": "0x1", "blockNumber": "0x10", "gasUsed": "0x5208", "effectiveGasPrice": "0x3b9aca00"}
    node.receipts[reverted_hash] = {"status": "0x0", "blockNumber": "0x11", "gasUsed": "0x7530", "effectiveGasPrice": "0x1"}
    report = reconcile(store, node, profit_of=lambda trade, receipt: 123 if trade.id == "m" else None)
    assert (report.mined, report.reverted, node.broadcast) == (["m"], ["r"], [])
    mined = store.trade("m")
    assert (mined.status, mined.block, mined.gas_used, mined.effective_gas_price, mined.realized_profit) == \
        ("mined", 16, 21_000, 10**9, 123)
    assert store.trade("r").status == "reverted" and store.pending_trades() == []
    assert reconcile(store, node).mined == []  # nothing left


def test_profit_unknown_is_said_so(store):
    tx_hash, _ = sign(store, "m", 0)
    node = FakeNode()
    node.receipts[tx_hash] = {"status": "0x1", "blockNumber": "0x1", "gasUsed": "0x1", "effectiveGasPrice": "0x1"}
    reconcile(store, node)
    trade = store.trade("m")
    assert trade.realized_profit is None and "unknown" in trade.reason


def test_known_to_the_node_is_in_flight(store):
    tx_hash, _ = sign(store, "a", 0)
    node = FakeNode()
    node.known.add(tx_hash)
    report = reconcile(store, node)
    assert report.in_flight == ["a"] and node.broadcast == [] and store.trade("a").status == "sent"


def test_nonce_used_by_another_transaction_means_dropped(store):
    sign(store, "a", 0)
    node = FakeNode()
    node.mined_nonce = 1
    report = reconcile(store, node)
    assert report.dropped == ["a"] and node.broadcast == [] and store.trade("a").status == "dropped"


@pytest.mark.parametrize("error, status, bucket", [
    ("already known", "sent", "in_flight"),
    ("nonce too low: next nonce 3, tx nonce 0", "dropped", "dropped"),
    ("insufficient funds for gas * price + value", "signed", "errors"),
])
def test_rebroadcast_errors(store, error, status, bucket):
    sign(store, "a", 0)
    node = FakeNode()
    node.send_error = error
    report = reconcile(store, node)
    assert store.trade("a").status == status
    assert "a" in getattr(report, bucket)
