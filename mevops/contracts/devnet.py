"""Deploy a small DEX market on a local chain (anvil): tokens, WETH, several V2 dexes, an executor.

Everything is web3 8 async. ``deploy_market`` predicts every address and sends all its
transactions back to back from one account, then waits once, so a 3-token two-dex market is
about 30 transactions and well under a second on anvil with automine. Pools of the same pair
on different dexes get slightly different prices (``spread_bps``, seeded), so there is
something to arbitrage from the first block.
"""

from __future__ import annotations

import itertools
import random
from collections.abc import Sequence
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, NamedTuple

from mevops.contracts import abi
from mevops.contracts.transactions import (
    TxSender,
    checksum,
    create2_address,
    encode_call,
    encode_deploy,
)

# Gas limits for deploy_market's transactions: measured usage (vyper 0.4.3, cancun) with headroom.
GAS = {"ERC20": 600_000, "WETH9": 500_000, "blueprint": 1_600_000, "UniswapV2Factory": 450_000,
       "UniswapV2Router": 900_000, "createPair": 1_550_000, "transfer": 80_000, "mint": 90_000,
       "deposit": 70_000, "pair.mint": 200_000, "ArbExecutor": 800_000}


class TokenSpec(NamedTuple):
    """A token to deploy: its symbol, decimals and reference price in USD (sets pool ratios)."""

    symbol: str
    decimals: int = 18
    price_usd: Fraction | int | str = 1


KNOWN_TOKENS = {s.symbol: s for s in (
    TokenSpec("WETH", 18, 3000), TokenSpec("USDC", 6, 1), TokenSpec("USDT", 6, 1), TokenSpec("DAI", 18, 1),
    TokenSpec("WBTC", 8, 60000), TokenSpec("LINK", 18, 15), TokenSpec("UNI", 18, 8))}


class Token(NamedTuple):
    address: str
    decimals: int


class Pair(NamedTuple):
    """One pool: ``dex`` is the index into ``Market.factories``; token0 < token1 as in V2."""

    dex: int
    address: str
    token0: str
    token1: str
    fee_bps: int


@dataclass
class Market:
    tokens: dict[str, Token]
    pairs: list[Pair]
    factories: list[str]
    routers: list[str] = field(default_factory=list)
    weth: str | None = None
    pair_blueprint: str = ""
    deployer: str = ""

    def address(self, symbol: str) -> str:
        return self.tokens[symbol].address

    def symbol(self, address: str) -> str:
        return next(s for s, t in self.tokens.items() if t.address.lower() == address.lower())

    def pair(self, a: str, b: str, dex: int) -> Pair:
        """The pool of ``a`` and ``b`` (symbols or addresses) on dex ``dex``."""
        (found,) = [p for p in self.pairs_of(a, b) if p.dex == dex]
        return found

    def pairs_of(self, a: str, b: str) -> list[Pair]:
        """The pools (one per dex) of tokens ``a`` and ``b``, given as symbols or addresses."""
        want = {self.tokens[x].address if x in self.tokens else checksum(x) for x in (a, b)}
        return [p for p in self.pairs if {p.token0, p.token1} == want]

    def to_dict(self) -> dict[str, Any]:
        return {"tokens": {s: t._asdict() for s, t in self.tokens.items()}, "pairs": [p._asdict() for p in self.pairs],
                "factories": self.factories, "routers": self.routers, "weth": self.weth,
                "pair_blueprint": self.pair_blueprint, "deployer": self.deployer}


def contract(w3: Any, name: str, address: str) -> Any:
    """A web3 contract object for one of our contracts (reads: ``.functions.f().call()``)."""
    return w3.eth.contract(address=checksum(address), abi=abi(name))


def pair_address(factory: str, token_a: str, token_b: str, fee_bps: int) -> str:
    """The CREATE2 address of a UniswapV2Factory's pair (V2's pairFor, plus the fee in the init code)."""
    from eth_utils import keccak, to_bytes

    token0, token1 = sorted((checksum(token_a), checksum(token_b)), key=lambda a: int(a, 16))
    salt = keccak(to_bytes(hexstr=token0) + to_bytes(hexstr=token1))
    return create2_address(factory, salt, encode_deploy("UniswapV2Pair", token0, token1, fee_bps))


async def deploy(w3: Any, name: str, *args: Any, sender: Any, gas: int | None = None) -> str:
    """Deploy contract ``name`` with constructor ``args`` from ``sender``; wait; return its address."""
    tx = await TxSender.open(w3, sender)
    if gas is None:
        estimate = await w3.eth.estimate_gas({"from": tx.address, "data": encode_deploy(name, *args)})
        gas = estimate * 6 // 5
    address = tx.deploy(name, *args, gas=gas)
    await tx.settle()
    return address


async def deploy_executor(w3: Any, owner: Any) -> str:
    """Deploy an ArbExecutor owned by ``owner`` (the deploying account)."""
    return await deploy(w3, "ArbExecutor", sender=owner, gas=GAS["ArbExecutor"])


async def fund(w3: Any, token: str, to: str, amount: int, *, sender: Any = None) -> None:
    """Give ``to`` ``amount`` of ``token``: mint (our ERC20, ``sender`` must be its minter) or, for
    WETH9, wrap ``sender``'s ether and transfer it. ``sender`` defaults to the node's first account."""
    if sender is None:
        sender = (await w3.eth.accounts)[0]
    tx = await TxSender.open(w3, sender)
    token = checksum(token)
    minter = await w3.eth.call({"to": token, "data": encode_call("ERC20", "minter")})
    if len(minter) == 32:
        tx.call(token, "ERC20", "mint", checksum(to), amount, gas=GAS["mint"])
    else:  # WETH9: its payable default function answers minter() with no data
        tx.call(token, "WETH9", "deposit", gas=GAS["deposit"], value=amount)
        tx.call(token, "WETH9", "transfer", checksum(to), amount, gas=GAS["transfer"])
    await tx.settle()


def _spec(token: str | TokenSpec) -> TokenSpec:
    if isinstance(token, TokenSpec):
        return token
    return KNOWN_TOKENS.get(token, TokenSpec(token))


def seed_amounts(specs: Sequence[TokenSpec], dexes: int, liquidity_usd: int, spread_bps: int,
                 seed: int) -> dict[tuple[int, str, str], tuple[int, int]]:
    """(dex, symbol_a, symbol_b) → (amount_a, amount_b): ``liquidity_usd`` per side at the
    reference prices, side b moved by a seeded deviation within ±``spread_bps``. Integers only."""
    rng = random.Random(seed)
    amounts = {}
    for dex in range(dexes):
        for a, b in itertools.combinations(specs, 2):
            base_a = int(Fraction(liquidity_usd) * 10**a.decimals / Fraction(a.price_usd))
            base_b = int(Fraction(liquidity_usd) * 10**b.decimals / Fraction(b.price_usd))
            deviation = rng.randint(-spread_bps, spread_bps)
            amounts[(dex, a.symbol, b.symbol)] = (base_a, base_b * (10_000 + deviation) // 10_000)
    return amounts


async def deploy_market(w3: Any, deployer: Any, tokens: Sequence[str | TokenSpec] = ("WETH", "USDC", "DAI"),
                        dexes: int = 2, fees_bps: Sequence[int] = (30, 25), liquidity_usd: int = 1_000_000,
                        spread_bps: int = 50, seed: int = 0, routers: bool = True) -> Market:
    """Deploy tokens (WETH as WETH9), ``dexes`` V2 factories (dex i's pairs charge ``fees_bps[i]``,
    the last fee repeats), a pool for every token pair on every dex seeded with liquidity, and a
    router per dex; the LP tokens go to ``deployer``. Returns the market's addresses."""
    specs = [_spec(t) for t in tokens]
    if len({s.symbol for s in specs}) != len(specs) or len(specs) < 2 or dexes < 1 or not fees_bps:
        raise ValueError("deploy_market needs >= 2 distinct tokens, >= 1 dex and >= 1 fee")
    fees = [fees_bps[min(i, len(fees_bps) - 1)] for i in range(dexes)]
    tx = await TxSender.open(w3, deployer)
    market = Market(tokens={}, pairs=[], factories=[], deployer=tx.address)
    for spec in specs:
        if spec.symbol == "WETH":
            market.weth = tx.deploy("WETH9", gas=GAS["WETH9"])
            market.tokens["WETH"] = Token(market.weth, 18)
        else:
            address = tx.deploy("ERC20", spec.symbol, spec.symbol, spec.decimals, gas=GAS["ERC20"])
            market.tokens[spec.symbol] = Token(address, spec.decimals)
    market.pair_blueprint = tx.deploy("UniswapV2Pair", gas=GAS["blueprint"], blueprint=True)
    for fee in fees:
        factory = tx.deploy("UniswapV2Factory", market.pair_blueprint, fee, gas=GAS["UniswapV2Factory"])
        market.factories.append(factory)
        if routers:
            market.routers.append(tx.deploy("UniswapV2Router", factory, gas=GAS["UniswapV2Router"]))
    amounts = seed_amounts(specs, dexes, liquidity_usd, spread_bps, seed)
    if (wrap := _weth_needed(amounts)) > (have := await w3.eth.get_balance(tx.address)):
        raise ValueError(f"{tx.address} has {have / 10**18:g} ETH, the WETH pools need {wrap / 10**18:g}: "
                         "lower liquidity_usd or fund the deployer")
    _create_and_seed(tx, market, fees, amounts)
    await tx.settle()
    return market


def _weth_needed(amounts: dict[tuple[int, str, str], tuple[int, int]]) -> int:
    return sum(amount for (_, a, b), pair in amounts.items() for symbol, amount in zip((a, b), pair) if symbol == "WETH")


def _create_and_seed(tx: TxSender, market: Market, fees: list[int],
                     amounts: dict[tuple[int, str, str], tuple[int, int]]) -> None:
    """Queue createPair, the two token deposits (minted, or WETH wrapped once and transferred)
    and the LP mint of every pool; CREATE2 gives the pair addresses before they exist."""
    if weth_total := _weth_needed(amounts):
        tx.call(market.weth, "WETH9", "deposit", gas=GAS["deposit"], value=weth_total)
    for (dex, a, b), (amount_a, amount_b) in amounts.items():
        factory, token_a, token_b = market.factories[dex], market.address(a), market.address(b)
        tx.call(factory, "UniswapV2Factory", "createPair", token_a, token_b, gas=GAS["createPair"])
        pair = pair_address(factory, token_a, token_b, fees[dex])
        for symbol, token, amount in ((a, token_a, amount_a), (b, token_b, amount_b)):
            if symbol == "WETH":
                tx.call(token, "WETH9", "transfer", pair, amount, gas=GAS["transfer"])
            else:
                tx.call(token, "ERC20", "mint", pair, amount, gas=GAS["mint"])
        tx.call(pair, "UniswapV2Pair", "mint", tx.address, gas=GAS["pair.mint"])
        token0, token1 = sorted((token_a, token_b), key=lambda t: int(t, 16))
        market.pairs.append(Pair(dex, pair, token0, token1, fees[dex]))
