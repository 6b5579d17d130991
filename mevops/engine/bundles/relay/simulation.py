"""Simulate a bundle as block N on the node's latest state, without mining (``eth_simulateV1``).

anvil's ``eth_simulateV1`` executes calls in order on one simulated block (our number, time and
coinbase) but does not check nonces, chain ids or the fee cap, so those are checked here first,
the way a builder would refuse the transaction. ``traceTransfers`` reports every ether transfer,
so the payment to coinbase is measured, not guessed. The same result answers ``eth_callBundle``
(Flashbots' shape) and decides which bundles go into a block.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from mevops.engine.bundles.relay.txcodec import RawTx

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"
ETHER_ADDRESS = "0xeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeeee"   # traceTransfers' pseudo-token for ether (ERC-7528)
ERROR_SELECTOR = "0x08c379a0"                                   # Error(string)


@dataclass
class TxOutcome:
    tx: RawTx
    ok: bool
    gas_used: int = 0
    error: str = ""
    return_data: str = "0x"
    gas_fees: int = 0           # priority fees to coinbase
    to_coinbase: int = 0        # ether sent to coinbase by the transaction itself

    def as_json(self) -> dict[str, Any]:
        """One entry of Flashbots' eth_callBundle ``results`` (decimal-string amounts, as Flashbots answers)."""
        price = self.gas_fees // self.gas_used if self.gas_used else 0
        out: dict[str, Any] = {"txHash": self.tx.hash, "fromAddress": self.tx.sender, "toAddress": self.tx.to,
                               "gasUsed": self.gas_used, "gasPrice": str(price),
                               "gasFees": str(self.gas_fees), "ethSentToCoinbase": str(self.to_coinbase),
                               "coinbaseDiff": str(self.gas_fees + self.to_coinbase), "value": self.return_data}
        if not self.ok:
            out["error"] = "execution reverted"
            out["revert"] = self.error
        return out


@dataclass
class BundleSimulation:
    block: int
    base_fee: int = 0
    outcomes: list[TxOutcome] = field(default_factory=list)
    error: str = ""             # the bundle cannot run at all (nonce, chain id, fee cap, node error)

    @property
    def coinbase_diff(self) -> int:
        return sum(o.gas_fees + o.to_coinbase for o in self.outcomes)

    @property
    def gas_used(self) -> int:
        return sum(o.gas_used for o in self.outcomes)

    def failure(self, may_revert: frozenset[str] | set[str] = frozenset()) -> str:
        """Why the bundle must not be included ("" if it may): a bundle error or a revert not allowed."""
        if self.error:
            return self.error
        for o in self.outcomes:
            if not o.ok and o.tx.hash not in may_revert:
                return f"tx {o.tx.hash} reverts: {o.error or 'no reason'}"
        return ""

    def as_json(self, bundle_hash: str, state_block: int) -> dict[str, Any]:
        gas = self.gas_used
        return {"bundleHash": bundle_hash, "bundleGasPrice": str(self.coinbase_diff // gas if gas else 0),
                "coinbaseDiff": str(self.coinbase_diff), "ethSentToCoinbase": str(sum(o.to_coinbase for o in self.outcomes)),
                "gasFees": str(sum(o.gas_fees for o in self.outcomes)), "results": [o.as_json() for o in self.outcomes],
                "stateBlockNumber": state_block, "totalGasUsed": gas}


def check_order(txs: list[RawTx], chain_id: int, nonces: dict[str, int]) -> str:
    """Chain id and nonce sequence, as a builder checks them before executing ("" if fine).
    ``nonces``: each sender's next nonce on the state the bundle runs on."""
    expected = dict(nonces)
    for tx in txs:
        if tx.chain_id is not None and tx.chain_id != chain_id:
            return f"tx {tx.hash} is for chain {tx.chain_id}, this is {chain_id}"
        if tx.nonce != expected[tx.sender]:
            return f"tx {tx.hash} has nonce {tx.nonce}, {tx.sender} is at {expected[tx.sender]}"
        expected[tx.sender] += 1
    return ""


def revert_reason(error: dict[str, Any] | None, return_data: str) -> str:
    data = (error or {}).get("data") if isinstance((error or {}).get("data"), str) else return_data
    if isinstance(data, str) and data.startswith(ERROR_SELECTOR) and len(data) >= 138:
        try:
            length = int(data[74:138], 16)
            return bytes.fromhex(data[138:138 + 2 * length]).decode("utf-8", "replace")
        except ValueError:
            pass
    return str((error or {}).get("message") or "reverted")


def _to_coinbase(logs: list[dict[str, Any]], coinbase: str) -> int:
    target = "0x" + "0" * 24 + coinbase[2:].lower()
    return sum(int(e["data"], 16) for e in logs if e.get("address", "").lower() == ETHER_ADDRESS
               and len(e.get("topics", [])) == 3 and e["topics"][0] == TRANSFER_TOPIC and e["topics"][2].lower() == target)


async def simulate(rpc: Any, txs: list[RawTx], block: int, timestamp: int, coinbase: str, chain_id: int,
                   state: int | str = "latest") -> BundleSimulation:
    """Run ``txs`` in order as block ``block`` (at ``timestamp``, paying ``coinbase``) on ``state``."""
    from mevops.engine.collectors.rpc import JsonRpcError

    sim = BundleSimulation(block)
    tag = state if isinstance(state, str) else hex(state)
    senders = sorted({tx.sender for tx in txs})
    try:
        counts = await rpc.batch([("eth_getTransactionCount", [s, tag]) for s in senders])
    except JsonRpcError as exc:
        sim.error = f"node: {exc}"
        return sim
    sim.error = check_order(txs, chain_id, {s: int(c, 16) for s, c in zip(senders, counts)})
    if sim.error:
        return sim
    request = {"blockStateCalls": [{"blockOverrides": {"number": hex(block), "time": hex(timestamp), "feeRecipient": coinbase},
                                    "calls": [tx.as_call() for tx in txs]}], "validation": True, "traceTransfers": True}
    try:
        (result,) = await rpc.call("eth_simulateV1", [request, tag])
    except JsonRpcError as exc:
        sim.error = f"cannot run: {exc}"
        return sim
    sim.base_fee = int(result.get("baseFeePerGas") or "0x0", 16)
    for tx, call in zip(txs, result["calls"]):
        if tx.max_fee < sim.base_fee:
            sim.error = f"tx {tx.hash} has a fee cap of {tx.max_fee} wei, below the base fee {sim.base_fee}"
            return sim
        gas = int(call["gasUsed"], 16)
        ok = call.get("status") == "0x1"
        sim.outcomes.append(TxOutcome(tx, ok, gas, "" if ok else revert_reason(call.get("error"), call.get("returnData", "0x")),
                                      call.get("returnData", "0x"), gas * tx.tip(sim.base_fee),
                                      _to_coinbase(call.get("logs") or [], coinbase) if ok else 0))
    return sim
