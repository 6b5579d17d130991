"""The limits the risk manager enforces, flattened once from the config and the strategy files.

Every limit keeps the config key that set it (``Limit.source``) so that a refusal can say which
rule and which file refused. Where several keys bound the same quantity the tightest one wins:

- position size: the strategy's ``parameters.max_position_size``,
  ``risk_limits.strategy_limits.<type>.max_position_size``, ``risk_limits.global_limits
  .max_position_size``, ``mev.risk_limits.max_position_size`` and (per trade)
  ``risk_limits.chain_limits.<chain>.max_position_size``;
- gas price: ``mev.max_gas_price``, ``chain_limits.<chain>.max_gas_price``, the strategy's
  ``parameters.gas_price_limit`` and ``strategy_limits.<type>.max_gas_price``;
- daily loss: ``global_limits.max_daily_loss`` and ``mev.risk_limits.max_daily_loss``;
- minimum profit: the larger of the strategy's and the type's ratio, and of ``mev.min_profit_threshold``
  and the strategy's ``parameters.min_profit`` (in wei, for ETH-denominated trades).

USD amounts are integer micro-dollars, gas prices and ETH amounts integer wei, ratios exact
``fractions.Fraction`` (parsed from the config's decimal text, so ``0.001`` is exactly 1/1000).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from decimal import Decimal
from fractions import Fraction
from typing import TYPE_CHECKING

from mevops.config.units import USD_SCALE

if TYPE_CHECKING:
    from mevops.config.models import EffectiveConfig
    from mevops.strategies.schema import StrategyFile

HOUR = 3600
DAY = 86400


@dataclass(frozen=True)
class Limit:
    value: int
    source: str  # the config key that sets it, quoted in refusals


@dataclass(frozen=True)
class RatioLimit:
    value: Fraction
    source: str


def tightest(*candidates: tuple[int | None, str]) -> Limit | None:
    """The smallest of the limits that are set (``None`` means "not set"), with its source."""
    present = [Limit(value, source) for value, source in candidates if value is not None]
    return min(present, key=lambda limit: limit.value) if present else None


def _must(limit: Limit | None) -> Limit:
    assert limit is not None, "at least one candidate is always set"
    return limit


def exact_ratio(value: float) -> Fraction:
    """The decimal the operator wrote (``0.001``), exactly, rather than the binary float's value."""
    return Fraction(repr(float(value)))


def usd(micro: int) -> str:
    """Display only."""
    return f"{micro / USD_SCALE:,.2f} USD"


def eth(wei: int) -> str:
    """Display only: exact, ``0.0005 ETH``."""
    return f"{Decimal(wei).scaleb(-18).normalize():f} ETH"


def gwei(wei: int) -> str:
    """Display only."""
    return f"{wei / 10**9:,.9g} gwei"


@dataclass(frozen=True)
class StrategyView:
    name: str
    type: str
    chains: frozenset[str]
    max_position: Limit
    min_profit_ratio: RatioLimit
    min_profit_wei: Limit            # applies to ETH/WETH-denominated trades
    max_gas_price: Limit | None      # the strategy's own caps; the chain's apply too
    max_consecutive_failures: Limit
    refusal: str | None = None       # set when every trade of this strategy must be refused


@dataclass(frozen=True)
class ChainView:
    name: str
    max_gas_price: Limit
    max_priority_fee: Limit
    max_position: Limit
    max_pending: Limit


@dataclass(frozen=True)
class LossLimits:
    hourly: Limit | None
    daily: Limit


@dataclass(frozen=True)
class RiskLimitsView:
    strategies: Mapping[str, StrategyView]
    chains: Mapping[str, ChainView]
    loss: LossLimits                       # all strategies together
    type_loss: Mapping[str, LossLimits]    # per strategy type
    max_total_exposure: Limit
    max_gas_spend_daily: Limit             # per chain, in the chain's native wei
    breaker_cooldown: int                  # seconds
    max_concurrent_strategies: int
    emergency_stop_on_breach: bool

    @classmethod
    def from_config(cls, cfg: EffectiveConfig, strategies: Iterable[StrategyFile],
                    chains: Iterable[str] | None = None) -> RiskLimitsView:
        """``chains`` restricts the view to the chains this engine trades on (all configured ones otherwise)."""
        limits = cfg.risk_limits
        g = limits.global_limits
        wanted = set(limits.chain_limits) if chains is None else set(chains)
        return cls(
            strategies={spec.strategy.name: _strategy_view(cfg, spec) for spec in strategies},
            chains={name: _chain_view(cfg, name) for name in sorted(wanted) if name in limits.chain_limits},
            loss=LossLimits(
                hourly=Limit(g.max_hourly_loss, "risk_limits.global_limits.max_hourly_loss"),
                daily=_must(tightest((g.max_daily_loss, "risk_limits.global_limits.max_daily_loss"),
                                     (cfg.mev.risk_limits.max_daily_loss, "mev.risk_limits.max_daily_loss"))),
            ),
            type_loss={
                kind: LossLimits(
                    hourly=tightest((sl.max_hourly_loss, f"risk_limits.strategy_limits.{kind}.max_hourly_loss")),
                    daily=Limit(sl.max_daily_loss, f"risk_limits.strategy_limits.{kind}.max_daily_loss"),
                )
                for kind, sl in limits.strategy_limits.items()
            },
            max_total_exposure=Limit(g.max_total_exposure, "risk_limits.global_limits.max_total_exposure"),
            max_gas_spend_daily=Limit(g.max_gas_spend_daily, "risk_limits.global_limits.max_gas_spend_daily"),
            breaker_cooldown=g.circuit_breaker_cooldown,
            max_concurrent_strategies=cfg.mev.max_concurrent_strategies,
            emergency_stop_on_breach=cfg.mev.risk_limits.emergency_stop_on_breach,
        )


def _chain_view(cfg: EffectiveConfig, name: str) -> ChainView:
    cl = cfg.risk_limits.chain_limits[name]
    key = f"risk_limits.chain_limits.{name}"
    return ChainView(
        name=name,
        max_gas_price=_must(tightest((cl.max_gas_price, f"{key}.max_gas_price"), (cfg.mev.max_gas_price, "mev.max_gas_price"))),
        max_priority_fee=Limit(cl.max_priority_fee, f"{key}.max_priority_fee"),
        max_position=Limit(cl.max_position_size, f"{key}.max_position_size"),
        max_pending=Limit(cl.max_pending_transactions, f"{key}.max_pending_transactions"),
    )


def _strategy_view(cfg: EffectiveConfig, spec: StrategyFile) -> StrategyView:
    name, kind, p = spec.strategy.name, spec.strategy.type, spec.parameters
    own = f"strategy {name}: parameters"
    g = cfg.risk_limits.global_limits
    sl = cfg.risk_limits.strategy_limits.get(kind)
    tkey = f"risk_limits.strategy_limits.{kind}"
    refusal = None
    if kind == "sandwich":
        refusal = "sandwich attacks on other users' trades are refused (type: sandwich_protection only)"
    elif sl is None:
        refusal = f"no {tkey} in the risk limits: a strategy of type {kind!r} cannot trade"
    ratio = RatioLimit(exact_ratio(p.min_profit_threshold), f"{own}.min_profit_threshold")
    if sl is not None and exact_ratio(sl.min_profit_ratio) > ratio.value:
        ratio = RatioLimit(exact_ratio(sl.min_profit_ratio), f"{tkey}.min_profit_ratio")
    min_wei = Limit(cfg.mev.min_profit_threshold, "mev.min_profit_threshold")
    if p.min_profit > min_wei.value:
        min_wei = Limit(p.min_profit, f"{own}.min_profit")
    return StrategyView(
        name=name,
        type=kind,
        chains=frozenset(p.chains),
        max_position=_must(tightest(
            (p.max_position_size, f"{own}.max_position_size"),
            (sl.max_position_size if sl else None, f"{tkey}.max_position_size"),
            (g.max_position_size, "risk_limits.global_limits.max_position_size"),
            (cfg.mev.risk_limits.max_position_size, "mev.risk_limits.max_position_size"),
        )),
        min_profit_ratio=ratio,
        min_profit_wei=min_wei,
        max_gas_price=tightest((p.gas_price_limit, f"{own}.gas_price_limit"),
                               (sl.max_gas_price if sl else None, f"{tkey}.max_gas_price")),
        max_consecutive_failures=_must(tightest(
            (g.max_consecutive_failures, "risk_limits.global_limits.max_consecutive_failures"),
            (spec.monitoring.alerts.max_consecutive_failures, f"strategy {name}: monitoring.alerts.max_consecutive_failures"),
        )),
        refusal=refusal,
    )
