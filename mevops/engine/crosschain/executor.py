"""Send each leg of a cross-chain trade as an ordinary router swap on its own chain.

Both legs are simulated first (``eth_call`` of ``swapExactTokensForTokens`` from the searcher);
if either simulation fails nothing is sent. Then both are sent concurrently and their receipts
awaited. A leg's fill is read from its receipt (the ERC-20 ``Transfer`` of the output token to
the searcher). If only one leg lands the result is ``partial`` with that leg's exposure — it is
never reported as filled. Report actions (inventory, rebalance) are recorded, not executed.
"""

from __future__ import annotations

import asyncio
from dataclasses import dataclass, field
from typing import Any

from mevops.engine.crosschain.types import CrossChainArb, InventoryReport, LegFilled, RebalanceNeeded, SwapLeg
from mevops.engine.types import ExecutionResult

TRANSFER_TOPIC = "0xddf252ad1be2c89b69c2b068fc378daa952ba7f163c4a11628f55a4df523b3ef"


@dataclass
class LegResult:
    chain: str
    status: str                     # mined | reverted | simulated_fail | failed | not_sent
    tx_hash: str | None = None
    block: int | None = None
    amount_in: int = 0
    amount_out: int = 0
    gas_used: int | None = None
    gas_cost_wei: int | None = None
    reason: str = ""


@dataclass
class CrossChainResult(ExecutionResult):
    legs: list[LegResult] = field(default_factory=list)
    exposure: list[dict[str, Any]] = field(default_factory=list)   # legs that filled without their partner
    fills: list[LegFilled] = field(default_factory=list)           # feed these back to the strategy


@dataclass
class ChainAccess:
    """How to reach one chain: an RPC client (``await rpc.call(method, params)``, e.g. HttpRpc),
    the searcher's address, and optionally an eth_account LocalAccount to sign with (else the
    node's unlocked account sends)."""

    rpc: Any
    searcher: str
    account: Any = None
    chain_id: int | None = None


def _word(n: int) -> str:
    return f"{n:064x}"


def encode_swap(leg: SwapLeg, to: str, deadline: int) -> str:
    """swapExactTokensForTokens(uint256,uint256,address[],address,uint256) calldata."""
    from eth_utils import keccak

    selector = keccak(text="swapExactTokensForTokens(uint256,uint256,address[],address,uint256)")[:4].hex()
    head = _word(leg.amount_in) + _word(leg.min_out) + _word(5 * 32) + _word(int(to, 16)) + _word(deadline)
    path = _word(2) + _word(int(leg.token_in, 16)) + _word(int(leg.token_out, 16))
    return "0x" + selector + head + path


def decode_amounts(data: str) -> list[int]:
    raw = data[2:]
    n = int(raw[64:128], 16)
    return [int(raw[128 + 64 * i:192 + 64 * i], 16) for i in range(n)]


class CrossChainExecutor:
    name = "crosschain"

    def __init__(self, chains: dict[str, ChainAccess], *, deadline: int = 2**63, receipt_timeout: float = 30.0) -> None:
        self.chains = chains
        self.deadline = deadline
        self.receipt_timeout = receipt_timeout
        self.reports: list[InventoryReport | RebalanceNeeded] = []

    async def execute(self, action: Any) -> ExecutionResult:
        if isinstance(action, (InventoryReport, RebalanceNeeded)):
            self.reports.append(action)
            return ExecutionResult(action.id, "reported", reason=type(action).__name__)
        if not isinstance(action, CrossChainArb):
            return ExecutionResult(getattr(action, "id", ""), "refused", reason=f"not a cross-chain action: {type(action).__name__}")
        return await self.execute_arb(action)

    async def _simulate(self, leg: SwapLeg) -> LegResult:
        access = self.chains[leg.chain]
        call = {"from": access.searcher, "to": leg.router, "data": encode_swap(leg, access.searcher, self.deadline)}
        try:
            amounts = decode_amounts(await access.rpc.call("eth_call", [call, "latest"]))
        except Exception as exc:  # noqa: BLE001 - a revert or a node error: do not send
            return LegResult(leg.chain, "simulated_fail", reason=f"{type(exc).__name__}: {exc}")
        if not amounts or amounts[-1] < leg.min_out:
            return LegResult(leg.chain, "simulated_fail", reason=f"simulated output {amounts[-1] if amounts else 0} < {leg.min_out}")
        return LegResult(leg.chain, "simulated", amount_in=leg.amount_in, amount_out=amounts[-1])

    async def _send(self, leg: SwapLeg) -> LegResult:
        access = self.chains[leg.chain]
        data = encode_swap(leg, access.searcher, self.deadline)
        try:
            if access.account is not None:
                nonce = int(await access.rpc.call("eth_getTransactionCount", [access.searcher, "pending"]), 16)
                chain_id = access.chain_id or int(await access.rpc.call("eth_chainId"), 16)
                tx = {"to": leg.router, "data": data, "gas": leg.gas_limit, "value": 0, "nonce": nonce, "chainId": chain_id,
                      "maxFeePerGas": leg.max_fee_per_gas, "maxPriorityFeePerGas": leg.max_priority_fee_per_gas, "type": 2}
                raw = access.account.sign_transaction(tx).raw_transaction
                tx_hash = await access.rpc.call("eth_sendRawTransaction", ["0x" + bytes(raw).hex()])
            else:
                tx_hash = await access.rpc.call("eth_sendTransaction", [{
                    "from": access.searcher, "to": leg.router, "data": data, "gas": hex(leg.gas_limit),
                    "maxFeePerGas": hex(leg.max_fee_per_gas), "maxPriorityFeePerGas": hex(leg.max_priority_fee_per_gas)}])
        except Exception as exc:  # noqa: BLE001 - rejected by the node: not sent
            return LegResult(leg.chain, "failed", reason=f"send: {type(exc).__name__}: {exc}")
        receipt = await self._receipt(access, tx_hash)
        if receipt is None:
            return LegResult(leg.chain, "failed", tx_hash=tx_hash, reason=f"no receipt within {self.receipt_timeout:g}s")
        gas_used = int(receipt["gasUsed"], 16)
        gas_cost = gas_used * int(receipt.get("effectiveGasPrice", "0x0"), 16)
        block = int(receipt["blockNumber"], 16)
        if int(receipt["status"], 16) != 1:
            return LegResult(leg.chain, "reverted", tx_hash, block, gas_used=gas_used, gas_cost_wei=gas_cost)
        out = sum(int(log["data"], 16) for log in receipt.get("logs", [])
                  if log["address"].lower() == leg.token_out.lower() and len(log.get("topics", [])) == 3
                  and log["topics"][0] == TRANSFER_TOPIC and int(log["topics"][2], 16) == int(access.searcher, 16))
        return LegResult(leg.chain, "mined", tx_hash, block, leg.amount_in, out, gas_used, gas_cost)

    async def _receipt(self, access: ChainAccess, tx_hash: str) -> dict[str, Any] | None:
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.receipt_timeout
        while loop.time() < deadline:
            receipt = await access.rpc.call("eth_getTransactionReceipt", [tx_hash])
            if receipt is not None:
                return receipt
            await asyncio.sleep(0.02)
        return None

    async def execute_arb(self, trade: CrossChainArb) -> CrossChainResult:
        sims = await asyncio.gather(*(self._simulate(leg) for leg in trade.legs))
        if any(s.status != "simulated" for s in sims):
            failed = "; ".join(f"{s.chain}: {s.reason}" for s in sims if s.status != "simulated")
            legs = [s if s.status != "simulated" else LegResult(s.chain, "not_sent") for s in sims]
            return CrossChainResult(trade.id, "simulated_fail", reason=failed, legs=legs,
                                    fills=[self._fill(trade, leg, None) for leg in trade.legs])
        results = list(await asyncio.gather(*(self._send(leg) for leg in trade.legs)))
        fills = [self._fill(trade, leg, r) for leg, r in zip(trade.legs, results)]
        mined = [r for r in results if r.status == "mined"]
        gas = sum(r.gas_cost_wei or 0 for r in results)
        hashes = ",".join(r.tx_hash or "-" for r in results)
        if len(mined) == len(results):
            realized = results[1].amount_out - results[0].amount_in   # quote gain (base nets to zero)
            return CrossChainResult(trade.id, "mined", hashes, max(r.block or 0 for r in results),
                                    sum(r.gas_used or 0 for r in results), realized, legs=results, fills=fills,
                                    effective_gas_price=None, reason=f"gas_wei={gas}")
        if not mined:
            return CrossChainResult(trade.id, "reverted", hashes, reason="; ".join(f"{r.chain}: {r.status} {r.reason}".strip()
                                                                            for r in results), legs=results, fills=fills)
        exposure = [{"chain": r.chain, "asset_in": leg.asset_in, "amount_in": r.amount_in, "asset_out": leg.asset_out,
                     "amount_out": r.amount_out, "tx_hash": r.tx_hash}
                    for leg, r in zip(trade.legs, results) if r.status == "mined"]
        missing = ", ".join(f"{r.chain} {r.status}" for r in results if r.status != "mined")
        return CrossChainResult(trade.id, "partial", hashes, reason=f"one leg filled, the other did not ({missing}): exposed",
                                legs=results, exposure=exposure, fills=fills)

    @staticmethod
    def _fill(trade: CrossChainArb, leg: SwapLeg, result: LegResult | None) -> LegFilled:
        ok = result is not None and result.status == "mined"
        return LegFilled(trade.id, leg.chain, leg.asset_in, result.amount_in if ok else 0, leg.asset_out,
                         result.amount_out if ok else 0, ok)
