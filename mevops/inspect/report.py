"""Inspect one block: every swap, then the arbitrages, sandwiches and liquidations among them.

Transactions that reverted are skipped whole (they did nothing), and so are calls inside a
reverted subtree of a transaction that succeeded: neither is ever reported as MEV.
``--json`` output: hashes and addresses lowercase 0x-hex, amounts decimal integer strings,
everything in block order.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from mevops.inspect.arbitrage import Arbitrage, find_arbitrages
from mevops.inspect.block import Block
from mevops.inspect.liquidations import Liquidation, tx_liquidations
from mevops.inspect.sandwich import Sandwich, find_sandwiches
from mevops.inspect.swaps import Swap, tx_swaps


@dataclass(slots=True)
class BlockReport:
    block: int
    transactions: int
    reverted: list[str]
    swaps: list[Swap]
    arbitrages: list[Arbitrage]
    sandwiches: list[Sandwich]
    liquidations: list[Liquidation]
    costs: dict[str, tuple[int, int]] = field(default_factory=dict)  # tx hash -> (gas fee, paid to the miner), wei

    def cost(self, *tx_hashes: str) -> dict[str, str]:
        """What the transactions paid in ether: gas (receipt gas used × effective price) and direct
        transfers to the block's miner (a bribe), as decimal wei strings."""
        gas = sum(self.costs.get(h, (0, 0))[0] for h in tx_hashes)
        tips = sum(self.costs.get(h, (0, 0))[1] for h in tx_hashes)
        return {"gas_fee": str(gas), "coinbase_transfer": str(tips)}

    def to_json(self, with_swaps: bool = True) -> dict[str, object]:
        out: dict[str, object] = {
            "block_number": self.block,
            "transactions": self.transactions,
            "reverted_transactions": self.reverted,
            "arbitrages": [{**a.to_json(), "costs": self.cost(a.tx_hash)} for a in self.arbitrages],
            "sandwiches": [{**s.to_json(), "costs": self.cost(s.frontrun_tx, s.backrun_tx)} for s in self.sandwiches],
            "liquidations": [{**q.to_json(), "costs": self.cost(q.tx_hash)} for q in self.liquidations],
        }
        if with_swaps:
            out["swaps"] = [s.to_json() for s in self.swaps]
        return out


def inspect_block(block: Block) -> BlockReport:
    """Classify one block."""
    swaps: list[Swap] = []
    arbitrages: list[Arbitrage] = []
    liquidations: list[Liquidation] = []
    reverted: list[str] = []
    for tx in block.txs:
        if tx.reverted:
            reverted.append(tx.hash)
            continue
        if len(tx.calls) < 2 and tx.logs is None:
            continue  # one call and no subcalls: it cannot have paid a pool or a lending market
        tx_swaps_ = tx_swaps(tx)
        swaps.extend(tx_swaps_)
        if len(tx_swaps_) >= 2:
            arbitrages.extend(find_arbitrages(tx, tx_swaps_))
        liquidations.extend(tx_liquidations(tx))
    sandwiches = find_sandwiches(swaps, {tx.hash: tx.sender for tx in block.txs})
    report = BlockReport(block.number, len(block.txs), reverted, swaps, arbitrages, sandwiches, liquidations)
    involved = {a.tx_hash for a in arbitrages} | {q.tx_hash for q in liquidations}
    involved |= {h for s in sandwiches for h in (s.frontrun_tx, s.backrun_tx)}
    for tx in block.txs:
        if tx.hash in involved:
            bribe = sum(c.value for c in tx.calls if c.to == block.miner and not c.reverted and c.call_type == "call")
            report.costs[tx.hash] = (tx.gas_used * tx.gas_price, bribe if block.miner else 0)
    return report
