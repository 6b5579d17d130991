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


# -- the liquidation scenario's market (used by `mevops demo --scenario liquidation` and the tests) ----
DEV = "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266"       # anvil dev #0: deploys everything, owns the oracle
SEARCHER = "0x70997970C51812dc3A010C7d01b50e0d17dc79C8"  # anvil dev #1: owns the liquidator, holds no tokens
BORROWER = "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC"  # anvil dev #2
USD = 10**8                                              # oracle base unit
FLASH_LIQUIDITY = 1_000_000 * 10**6


async def deploy_liquidation_scenario(w3: Any) -> tuple[Any, str, str, str, list[Any]]:
    """A LINK/USDC V2 pool, a lending market (LINK $15), a flash pool and a liquidator, and a borrower
    with 1000 LINK ($15,000) supplied and 11,000 USDC borrowed (LTV 75% allows 11,250):
    (dex market, lending market, flash pool, liquidator, [the V2 pool])."""
    from mevops.contracts import devnet
    from mevops.contracts.devnet_flash import deploy_flash_pool
    from mevops.engine.dex.v2 import Pool

    dex = await devnet.deploy_market(w3, DEV, tokens=("LINK", "USDC"), dexes=1, fees_bps=(30,), spread_bps=0)
    link, usdc = dex.address("LINK"), dex.address("USDC")
    lending = await deploy_lending_market(
        w3, DEV, [ReserveSpec(link, 18, 7500, 8000, 10500), ReserveSpec(usdc, 6, 8000, 8500, 10500)],
        prices={link: 15 * USD, usdc: 1 * USD}, liquidity={usdc: 500_000 * 10**6})
    flash_pool = await deploy_flash_pool(w3, DEV, 5, {usdc: FLASH_LIQUIDITY})
    liquidator = await deploy_flash_liquidator(w3, SEARCHER, flash_pool)
    await fund(w3, link, BORROWER, 1000 * 10**18)
    tx = await TxSender.open(w3, BORROWER)
    tx.call(link, "ERC20", "approve", lending, 2**256 - 1, gas=60_000)
    tx.send(lending, encode_call("LendingMarket", "supply", link, 1000 * 10**18, BORROWER, 0), gas=150_000)
    tx.send(lending, encode_call("LendingMarket", "borrow", usdc, 11_000 * 10**6, 2, 0, BORROWER), gas=200_000)
    await tx.settle()
    pair = dex.pairs[0]
    r0, r1, _ = await devnet.contract(w3, "UniswapV2Pair", pair.address).functions.getReserves().call()
    return dex, lending, flash_pool, liquidator, [Pool(pair.address, pair.token0, pair.token1, r0, r1, pair.fee_bps)]
