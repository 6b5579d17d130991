"""Deploy the lending contracts on a local chain (anvil): an Aave-style ``LendingMarket`` with its
reserves, prices and liquidity, and a ``FlashLiquidator``.

    market = await deploy_lending_market(w3, owner, [ReserveSpec(usdc, 6, 8000, 8500, 10500), ...],
                                         prices={usdc: 10**8}, liquidity={usdc: 10**12})
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, NamedTuple

from mevops.contracts.devnet import fund
from mevops.contracts.devnet_flash import deploy_protocol
from mevops.contracts.protocol_artifacts import encode_call
from mevops.contracts.transactions import TxSender, checksum

GAS = {"listReserve": 200_000, "setAssetPrice": 80_000}


class ReserveSpec(NamedTuple):
    asset: str
    decimals: int
    ltv: int  # bps
    liquidation_threshold: int  # bps
    liquidation_bonus: int  # bps, 10500 = 5%


async def deploy_lending_market(w3: Any, owner: Any, reserves: Sequence[ReserveSpec], prices: Mapping[str, int],
                                liquidity: Mapping[str, int] | None = None) -> str:
    """Deploy a LendingMarket owned by ``owner``, list ``reserves``, set ``prices`` (8 decimals) and
    mint ``liquidity`` into it (by the node's first account, the devnet tokens' minter)."""
    market = await deploy_protocol(w3, "LendingMarket", sender=owner)
    tx = await TxSender.open(w3, owner)
    for spec in reserves:
        tx.send(market, encode_call("LendingMarket", "listReserve", checksum(spec.asset), spec.decimals, spec.ltv,
                                    spec.liquidation_threshold, spec.liquidation_bonus), gas=GAS["listReserve"])
    for asset, price in prices.items():
        tx.send(market, encode_call("LendingMarket", "setAssetPrice", checksum(asset), price), gas=GAS["setAssetPrice"])
    await tx.settle()
    for asset, amount in (liquidity or {}).items():
        await fund(w3, asset, market, amount)
    return market


async def set_price(w3: Any, owner: Any, market: str, asset: str, price: int) -> str:
    """The oracle update: ``setAssetPrice``; returns the transaction hash."""
    tx = await TxSender.open(w3, owner)
    tx.send(market, encode_call("LendingMarket", "setAssetPrice", checksum(asset), price), gas=GAS["setAssetPrice"])
    (tx_hash,) = await tx.settle()
    return tx_hash


async def deploy_flash_liquidator(w3: Any, owner: Any, pool: str | None) -> str:
    """A FlashLiquidator owned by ``owner``, flash-borrowing from ``pool`` (None: from its own balance)."""
    return await deploy_protocol(w3, "FlashLiquidator", checksum(pool or "0x" + "00" * 20), sender=owner)
