"""The cross-chain inventory arbitrage strategy: I/O-free, the engine's Strategy protocol.

One ``Venue`` per chain: a V2 pool of the base asset (e.g. WETH) against the quote asset (e.g.
USDC) and its router. The strategy follows each pool's reserves and each chain's base fee from
chain-tagged events and the searcher's inventory from snapshots and fills. For each ordered pair
of chains (cheap, dear) it sizes ``u`` (quote in on the cheap chain) to maximise
``sell_dear(buy_cheap(u)) − u`` with the exact V2 integer math, capped by the quote inventory on
the cheap chain, the base inventory on the dear chain and each chain's position limit, and emits
the pair of legs when that gain minus both legs' gas (valued at the reference price) reaches
``min_profit``. Only one trade is in flight at a time; fills update inventory and produce an
``InventoryReport`` and, past the drift threshold, a ``RebalanceNeeded``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mevops.engine.crosschain.risk import ChainRisk
from mevops.engine.crosschain.types import (
    ChainEvent,
    CrossChainArb,
    InventoryReport,
    InventorySnapshot,
    LegFilled,
    RebalanceNeeded,
    SwapLeg,
)
from mevops.engine.dex.v2 import BPS, get_amount_out
from mevops.engine.types import NewBlock, PoolSync


@dataclass(frozen=True)
class Venue:
    chain: str
    pool: str
    router: str
    base_token: str           # this chain's address of the base asset
    quote_token: str          # this chain's address of the quote asset
    base_is_token0: bool
    fee_bps: int = 30


@dataclass
class CrossChainSettings:
    base: str = "WETH"
    quote: str = "USDC"
    reference_price: int = 3000 * 10**6      # quote units per 10**18 base units (also prices gas: ETH)
    min_profit: int = 0                      # quote units, after both legs' gas
    gas_per_leg: int = 150_000
    tip: int = 10**9
    fee_headroom: int = 2                    # max fee = headroom × base fee + tip
    slippage_bps: int = 0                    # min_out = expected_out × (1 − slippage)
    target_bps: dict[str, dict[str, int]] = field(default_factory=dict)   # asset → chain → share (sum 10000)
    drift_threshold_bps: int = 1_000
    risk: dict[str, ChainRisk] = field(default_factory=dict)


def _maximise(f: Any, lo: int, hi: int) -> int:
    """Argmax of a (nearly) concave integer function on [lo, hi] (ternary search + a final scan)."""
    while hi - lo > 8:
        m1 = lo + (hi - lo) // 3
        m2 = hi - (hi - lo) // 3
        if f(m1) < f(m2):
            lo = m1 + 1
        else:
            hi = m2
    return max(range(lo, hi + 1), key=f)


def _ratio_bps(balance: int, total: int, target: int) -> int:
    """balance/total − target in bps, rounded toward zero (so two chains' drifts are exact opposites)."""
    if total <= 0:
        return -target
    diff = balance * BPS - total * target
    return diff // total if diff >= 0 else -(-diff // total)


class CrossChainStrategy:
    def __init__(self, name: str, venues: Sequence[Venue], settings: CrossChainSettings | None = None) -> None:
        if len({v.chain for v in venues}) != len(venues) or len(venues) < 2:
            raise ValueError("one venue per chain, at least two chains")
        self.name = name
        self.settings = settings or CrossChainSettings()
        self.venues = {v.chain: v for v in venues}
        self.reserves: dict[str, tuple[int, int]] = {}        # chain → (base, quote) reserves
        self.base_fee: dict[str, int] = {}
        self.block: dict[str, int] = {}
        self.inventory: dict[str, dict[str, int]] = {c: {self.settings.base: 0, self.settings.quote: 0} for c in self.venues}
        self.in_flight: dict[str, set[str]] = {}               # trade id → chains of legs not yet reported
        self.exposure: list[LegFilled] = []                    # legs that filled while their partner did not
        self._fills: dict[str, list[LegFilled]] = {}

    # -- state -------------------------------------------------------------------------------------
    def sync_state(self, snapshot: object) -> None:
        """``{"reserves": {chain: (base, quote)}, "inventory": {chain: {asset: balance}}, "base_fee": {chain: wei}}``."""
        snap: Mapping[str, Any] = snapshot if isinstance(snapshot, Mapping) else {}
        for chain, (base, quote) in (snap.get("reserves") or {}).items():
            self.reserves[chain] = (int(base), int(quote))
        for chain, balances in (snap.get("inventory") or {}).items():
            self.inventory.setdefault(chain, {}).update({a: int(b) for a, b in balances.items()})
        for chain, fee in (snap.get("base_fee") or {}).items():
            self.base_fee[chain] = int(fee)

    def process_event(self, event: object) -> list[Any]:
        if isinstance(event, ChainEvent) and event.chain in self.venues:
            inner = event.event
            if isinstance(inner, PoolSync):
                venue = self.venues[event.chain]
                if inner.pool.lower() != venue.pool.lower():
                    return []
                r0, r1 = inner.reserve0, inner.reserve1
                self.reserves[event.chain] = (r0, r1) if venue.base_is_token0 else (r1, r0)
                self.block[event.chain] = max(self.block.get(event.chain, 0), inner.block)
            elif isinstance(inner, NewBlock):
                self.base_fee[event.chain] = inner.base_fee
                self.block[event.chain] = max(self.block.get(event.chain, 0), inner.number)
                return []  # a block alone changes no price
            return self.opportunities()
        if isinstance(event, InventorySnapshot):
            self.inventory.setdefault(event.chain, {})[event.asset] = event.balance
            return []
        if isinstance(event, LegFilled):
            return self._on_fill(event)
        return []

    # -- sizing --------------------------------------------------------------------------------------
    def gas_cost(self, chain: str) -> int:
        """One leg's gas on ``chain`` in quote units (base fee + tip, ETH at the reference price)."""
        price = self.base_fee.get(chain, 0) + self.settings.tip
        return self.settings.gas_per_leg * price * self.settings.reference_price // 10**18

    def quote_value(self, base_amount: int) -> int:
        return base_amount * self.settings.reference_price // 10**18

    def _max_quote_in(self, cheap: str, dear: str) -> int:
        """The largest ``u`` the inventories and position limits allow (0: none)."""
        s = self.settings
        qb, bb = self._buy_reserves(cheap)
        cap_u = self.inventory[cheap].get(s.quote, 0)
        if (limit := s.risk.get(cheap, ChainRisk()).max_position) is not None:
            cap_u = min(cap_u, limit)
        cap_w = self.inventory[dear].get(s.base, 0)   # the dear chain sells base it already holds
        if (limit := s.risk.get(dear, ChainRisk()).max_position) is not None:
            cap_w = min(cap_w, limit * 10**18 // s.reference_price)
        cap_w = min(cap_w, bb - 1)
        if cap_u <= 0 or cap_w <= 0:
            return 0
        fee = self.venues[cheap].fee_bps
        if get_amount_out(cap_u, qb, bb, fee) <= cap_w:
            return cap_u
        lo, hi = 0, cap_u  # largest u whose base output fits cap_w (the output is monotone in u)
        while lo < hi:
            mid = (lo + hi + 1) // 2
            if get_amount_out(mid, qb, bb, fee) <= cap_w:
                lo = mid
            else:
                hi = mid - 1
        return lo

    def _buy_reserves(self, chain: str) -> tuple[int, int]:
        base, quote = self.reserves[chain]
        return quote, base

    def quote_gain(self, cheap: str, dear: str, u: int) -> tuple[int, int]:
        """(base bought on ``cheap`` for ``u`` quote, quote gain after selling it on ``dear``)."""
        qb, bb = self._buy_reserves(cheap)
        w = get_amount_out(u, qb, bb, self.venues[cheap].fee_bps) if u > 0 else 0
        if w <= 0:
            return 0, -u
        bs, qs = self.reserves[dear]
        return w, get_amount_out(w, bs, qs, self.venues[dear].fee_bps) - u

    def best_trade(self, cheap: str, dear: str) -> tuple[int, int, int] | None:
        """(u, w, gross quote gain) of the best size, or None when nothing is profitable."""
        if cheap not in self.reserves or dear not in self.reserves:
            return None
        qb, bb = self._buy_reserves(cheap)
        bs, qs = self.reserves[dear]
        fc, fd = self.venues[cheap].fee_bps, self.venues[dear].fee_bps
        # marginal price test: the first unit gains only if (1-fc)(1-fd)·(bb/qb)·(qs/bs) > 1
        if (BPS - fc) * (BPS - fd) * bb * qs <= BPS * BPS * qb * bs:
            return None
        cap = self._max_quote_in(cheap, dear)
        if cap <= 0:
            return None
        u = _maximise(lambda x: self.quote_gain(cheap, dear, x)[1], 1, cap)
        w, gain = self.quote_gain(cheap, dear, u)
        return (u, w, gain) if gain > 0 and w > 0 else None

    def opportunities(self) -> list[Any]:
        if self.in_flight:
            return []
        s = self.settings
        best: tuple[int, str, str, int, int, int] | None = None
        for cheap in self.venues:
            for dear in self.venues:
                if cheap == dear or not all(self._gas_ok(c) for c in (cheap, dear)):
                    continue
                found = self.best_trade(cheap, dear)
                if found is None:
                    continue
                u, w, gain = found
                net = gain - self.gas_cost(cheap) - self.gas_cost(dear)
                if net >= s.min_profit and net > 0 and (best is None or net > best[0]):
                    best = (net, cheap, dear, u, w, gain)
        if best is None:
            return []
        _, cheap, dear, u, w, gain = best
        buy = self._leg(cheap, s.quote, s.base, u, w)
        bs, qs = self.reserves[dear]
        sell = self._leg(dear, s.base, s.quote, w, get_amount_out(w, bs, qs, self.venues[dear].fee_bps))
        trade = CrossChainArb(self.name, buy, sell, gain, self.gas_cost(cheap) + self.gas_cost(dear),
                              tuple(sorted((c, self.block.get(c, 0)) for c in (cheap, dear))))
        self.in_flight[trade.id] = {cheap, dear}
        return [trade]

    def _gas_ok(self, chain: str) -> bool:
        price = self.base_fee.get(chain, 0) + self.settings.tip
        return self.settings.risk.get(chain, ChainRisk()).gas_ok(price, self.settings.tip)

    def _leg(self, chain: str, asset_in: str, asset_out: str, amount_in: int, expected_out: int) -> SwapLeg:
        v, s = self.venues[chain], self.settings
        token = {s.base: v.base_token, s.quote: v.quote_token}
        return SwapLeg(chain=chain, router=v.router, pool=v.pool, asset_in=asset_in, asset_out=asset_out,
                       token_in=token[asset_in], token_out=token[asset_out], amount_in=amount_in,
                       expected_out=expected_out, min_out=expected_out * (BPS - s.slippage_bps) // BPS,
                       gas_limit=s.gas_per_leg * 2,
                       max_fee_per_gas=s.fee_headroom * self.base_fee.get(chain, 0) + s.tip,
                       max_priority_fee_per_gas=s.tip)

    # -- fills and inventory ---------------------------------------------------------------------------
    def _on_fill(self, fill: LegFilled) -> list[Any]:
        if fill.ok:
            inv = self.inventory.setdefault(fill.chain, {})
            inv[fill.asset_in] = inv.get(fill.asset_in, 0) - fill.amount_in
            inv[fill.asset_out] = inv.get(fill.asset_out, 0) + fill.amount_out
        pending = self.in_flight.get(fill.trade_id)
        if pending is None:
            return []
        pending.discard(fill.chain)
        self._fills.setdefault(fill.trade_id, []).append(fill)
        if pending:
            return []
        del self.in_flight[fill.trade_id]
        legs = self._fills.pop(fill.trade_id)
        if len({f.ok for f in legs}) > 1:   # one leg landed, the other did not: that is exposure
            self.exposure += [f for f in legs if f.ok]
        return self.reports()

    def inventory_value(self) -> int:
        """All chains' inventory in quote units: total quote + total base at the reference price."""
        s = self.settings
        base = sum(b.get(s.base, 0) for b in self.inventory.values())
        quote = sum(b.get(s.quote, 0) for b in self.inventory.values())
        return quote + self.quote_value(base)

    def drift(self) -> dict[str, dict[str, int]]:
        """asset → chain → (actual share − target share) in bps of that asset's total across chains."""
        out: dict[str, dict[str, int]] = {}
        for asset, targets in self.settings.target_bps.items():
            total = sum(self.inventory.get(c, {}).get(asset, 0) for c in targets)
            out[asset] = {c: _ratio_bps(self.inventory.get(c, {}).get(asset, 0), total, t) for c, t in targets.items()}
        return out

    def reports(self) -> list[Any]:
        s = self.settings
        drift = self.drift()
        max_drift = max((abs(d) for per in drift.values() for d in per.values()), default=0)
        inventory = tuple(sorted((c, a, b) for c, bal in self.inventory.items() for a, b in bal.items()))
        out: list[Any] = [InventoryReport(self.name, inventory, self.inventory_value(),
                                          tuple(sorted((a, c, d) for a, per in drift.items() for c, d in per.items())),
                                          max_drift)]
        for asset, per in sorted(drift.items()):
            if not per or max(abs(d) for d in per.values()) <= s.drift_threshold_bps:
                continue
            targets = s.target_bps[asset]
            total = sum(self.inventory.get(c, {}).get(asset, 0) for c in targets)
            excess = {c: self.inventory.get(c, {}).get(asset, 0) - total * t // BPS for c, t in targets.items()}
            src = max(excess, key=lambda c: excess[c])
            dst = min(excess, key=lambda c: excess[c])
            amount = min(excess[src], -excess[dst])
            if amount > 0:
                out.append(RebalanceNeeded(self.name, asset, src, dst, amount, max(abs(d) for d in per.values()),
                                           s.drift_threshold_bps))
        return out
