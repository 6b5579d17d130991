"""``mevops demo --scenario``: one short, self-checking story per kind of MEV the engine trades.

Each scenario module has ``async run(rpc_url) -> ScenarioResult``: it deploys what it needs on the
given dev node (unlocked anvil accounts), lets the engine's own strategy and executor land one trade,
and checks it on chain (a successful receipt in the reported block, a balance grown by exactly the
reported profit). A failed check raises ``CheckFailed``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

SCENARIOS = ("arbitrage", "flash", "liquidation", "bundle")


@dataclass
class ScenarioResult:
    scenario: str
    landed: str                 # what landed, in words
    tx_hash: str
    block: int
    gas_used: int
    profit: int                 # exact, in the profit token's smallest unit
    profit_token: str           # symbol
    profit_decimals: int
    seconds: float = 0.0
    facts: dict[str, Any] = field(default_factory=dict)   # scenario-specific on-chain facts

    def to_json(self) -> dict[str, Any]:
        return asdict(self)

    def line(self) -> str:
        return (f"{self.scenario}: {self.landed}, profit {self.profit / 10**self.profit_decimals:.6f} {self.profit_token} "
                f"(checked on chain), block {self.block}, tx {self.tx_hash} ({self.seconds:.1f} s)")


def check(ok: bool, message: str) -> None:
    from mevops.errors import CheckFailed

    if not ok:
        raise CheckFailed(message)


async def checked_receipt(w3: Any, tx_hash: str, block: int) -> dict[str, Any]:
    """The receipt of a successful transaction mined in ``block``, or CheckFailed."""
    receipt = await w3.eth.get_transaction_receipt(tx_hash)
    check(receipt is not None and receipt["status"] == 1, f"{tx_hash} is not a successful mined transaction")
    check(receipt["blockNumber"] == block, f"{tx_hash} was mined in block {receipt['blockNumber']}, not {block}")
    return receipt


async def token_balance(w3: Any, token: str, owner: str) -> int:
    from mevops.contracts import devnet

    return await devnet.contract(w3, "ERC20", token).functions.balanceOf(owner).call()


async def run_scenario(name: str, rpc_url: str, **options: Any) -> ScenarioResult:
    import importlib
    import time

    if name not in SCENARIOS:
        raise ValueError(f"unknown scenario {name!r}")
    started = time.monotonic()
    module = importlib.import_module(f"mevops.engine.scenarios.{name}")
    result = await module.run(rpc_url, **options)
    result.seconds = round(time.monotonic() - started, 2)
    return result
