"""Deploy the flash-loan contracts on a local chain (anvil): an Aave-V3-style pool, a Balancer-style
vault and the executor.

    pool = await deploy_flash_pool(w3, deployer, premium_bps=5, liquidity={usdc: 10**12})
    executor = await deploy_flash_executor(w3, searcher, pool)

Web3 8 async, through ``TxSender`` like ``devnet``; nothing is imported from web3 at import time.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from mevops.contracts.devnet import fund
from mevops.contracts.protocol_artifacts import abi, encode_deploy
from mevops.contracts.transactions import TxSender, checksum, create_address

GAS = {"FlashLoanPool": 700_000, "FlashVault": 900_000, "FlashArbExecutor": 3_000_000, "LendingMarket": 3_000_000,
       "FlashLiquidator": 1_800_000}


def protocol_contract(w3: Any, name: str, address: str) -> Any:
    """A web3 contract object for a protocol contract (reads: ``.functions.f().call()``)."""
    return w3.eth.contract(address=checksum(address), abi=abi(name))


async def deploy_protocol(w3: Any, name: str, *args: Any, sender: Any, gas: int | None = None) -> str:
    """Deploy protocol contract ``name`` from ``sender``; wait; return its address."""
    tx = await TxSender.open(w3, sender)
    address = create_address(tx.address, tx.nonce)
    tx.send(None, encode_deploy(name, *args), gas=gas or GAS[name], label=f"deploy {name}")
    await tx.settle()
    return address


async def deploy_flash_pool(w3: Any, owner: Any, premium_bps: int = 5,
                            liquidity: Mapping[str, int] | None = None) -> str:
    """Deploy a FlashLoanPool charging ``premium_bps`` and give it ``liquidity`` (token → amount,
    minted by the node's first account, which minted the devnet tokens)."""
    pool = await deploy_protocol(w3, "FlashLoanPool", premium_bps, sender=owner)
    for token, amount in (liquidity or {}).items():
        await fund(w3, token, pool, amount)
    return pool


async def deploy_flash_vault(w3: Any, owner: Any, fee_percentage: int = 0,
                             liquidity: Mapping[str, int] | None = None) -> str:
    """Deploy a Balancer-style FlashVault charging ``fee_percentage`` (1e18 = 100%) with ``liquidity``."""
    vault = await deploy_protocol(w3, "FlashVault", fee_percentage, sender=owner)
    for token, amount in (liquidity or {}).items():
        await fund(w3, token, vault, amount)
    return vault


async def deploy_flash_executor(w3: Any, owner: Any, pool: str, vault: str | None = None) -> str:
    """Deploy a FlashArbExecutor owned by ``owner`` that borrows from ``pool`` (Aave-style) and
    ``vault`` (Balancer-style; none: that path is unusable)."""
    return await deploy_protocol(w3, "FlashArbExecutor", checksum(pool), checksum(vault or "0x" + "00" * 20),
                                 sender=owner)
