"""Rules a strategy must meet against the catalog, the engine config and the risk limits."""

from __future__ import annotations

from typing import TYPE_CHECKING

from mevops.config.units import USD_SCALE
from mevops.errors import Problem

if TYPE_CHECKING:
    from mevops.catalog.models import Chain
    from mevops.config.layering import Layered
    from mevops.config.models import EffectiveConfig
    from mevops.strategies.store import StrategyRecord

DEPLOYED = ("testing", "active")


def _gwei(wei: int) -> str:
    return f"{wei / 1e9:g} gwei"


def check_strategy(rec: "StrategyRecord", cfg: "EffectiveConfig", catalog: dict[str, "Chain"]) -> list[Problem]:
    spec, doc = rec.spec, rec.doc
    p = spec.parameters
    problems: list[Problem] = []

    def bad(path: tuple, reason: str) -> None:
        problems.append(doc.problem(path, reason))

    if spec.strategy.type == "sandwich":
        bad(("strategy", "type"), "sandwich attacks on other users' trades are refused; mevops supports "
            "detection and protection only (type: sandwich_protection)")
        return problems
    deployed = rec.stage in DEPLOYED
    enabled = cfg.enabled_chains()
    for i, chain in enumerate(p.chains):
        if chain not in catalog:
            bad(("parameters", "chains", i), f"unknown chain {chain!r}")
        elif deployed and chain not in enabled:
            bad(("parameters", "chains", i), f"chain {chain!r} is not enabled in the {cfg.global_.environment} config")
    for i, asset in enumerate(p.assets):
        missing = [c for c in p.chains if c in catalog and asset not in catalog[c].assets]
        if missing:
            bad(("parameters", "assets", i), f"asset {asset!r} is not known on {', '.join(missing)}")
    for chain in p.inventory:
        if chain not in p.chains:
            bad(("parameters", "inventory", chain), "inventory for a chain the strategy does not trade on")
    engine = cfg.mev_engine.engines.get(spec.execution.engine)
    if engine is None:
        bad(("execution", "engine"), f"unknown engine {spec.execution.engine!r} (have: {', '.join(cfg.mev_engine.engines)})")
    elif spec.strategy.type not in engine.strategy_types:
        bad(("execution", "engine"), f"engine {spec.execution.engine!r} does not run {spec.strategy.type} strategies")
    if deployed:
        problems += _risk(rec, cfg)
    return problems


def _risk(rec: "StrategyRecord", cfg: "EffectiveConfig") -> list[Problem]:
    spec, doc = rec.spec, rec.doc
    p = spec.parameters
    limits = cfg.risk_limits
    problems: list[Problem] = []
    env = cfg.global_.environment
    sl = limits.strategy_limits.get(spec.strategy.type)
    if sl is None:
        return [doc.problem(("strategy", "type"), f"no risk_limits.strategy_limits for {spec.strategy.type!r} in {env}")]
    size = p.max_position_size
    ceilings = [(sl.max_position_size, f"strategy_limits.{spec.strategy.type}.max_position_size"),
                (limits.global_limits.max_position_size, "global_limits.max_position_size")]
    ceilings += [(limits.chain_limits[c].max_position_size, f"chain_limits.{c}.max_position_size") for c in p.chains if c in limits.chain_limits]
    for ceiling, what in ceilings:
        if size > ceiling:
            problems.append(doc.problem(("parameters", "max_position_size"),
                                        f"{size / USD_SCALE:,.2f} USD exceeds {what} ({ceiling / USD_SCALE:,.2f} USD) in {env}"))
    if p.max_slippage > sl.max_slippage:
        problems.append(doc.problem(("parameters", "max_slippage"), f"{p.max_slippage:g} exceeds strategy_limits.{spec.strategy.type}.max_slippage ({sl.max_slippage:g})"))
    if p.min_profit_threshold < sl.min_profit_ratio:
        problems.append(doc.problem(("parameters", "min_profit_threshold"), f"{p.min_profit_threshold:g} is below strategy_limits.{spec.strategy.type}.min_profit_ratio ({sl.min_profit_ratio:g})"))
    if p.safety_margin < sl.safety_margin:
        problems.append(doc.problem(("parameters", "safety_margin"), f"{p.safety_margin:g} is below strategy_limits.{spec.strategy.type}.safety_margin ({sl.safety_margin:g})"))
    if p.gas_price_limit is not None:
        gas_ceilings = [(cfg.mev.max_gas_price, "mev.max_gas_price")]
        if sl.max_gas_price is not None:
            gas_ceilings.append((sl.max_gas_price, f"strategy_limits.{spec.strategy.type}.max_gas_price"))
        gas_ceilings += [(limits.chain_limits[c].max_gas_price, f"chain_limits.{c}.max_gas_price") for c in p.chains if c in limits.chain_limits]
        for ceiling, what in gas_ceilings:
            if p.gas_price_limit > ceiling:
                problems.append(doc.problem(("parameters", "gas_price_limit"), f"{_gwei(p.gas_price_limit)} exceeds {what} ({_gwei(ceiling)}) in {env}"))
    fee = rec.spec.execution.priority_fee
    for c in p.chains:
        if c in limits.chain_limits and fee > limits.chain_limits[c].max_priority_fee:
            problems.append(doc.problem(("execution", "priority_fee"), f"{_gwei(fee)} exceeds chain_limits.{c}."
                                        f"max_priority_fee ({_gwei(limits.chain_limits[c].max_priority_fee)}) in {env}"))
    return problems


def check_strategies(records: list["StrategyRecord"], cfg: "EffectiveConfig", layered: "Layered", catalog: dict[str, "Chain"]) -> list[Problem]:
    problems: list[Problem] = []
    for rec in records:
        problems += check_strategy(rec, cfg, catalog)
    active = [r for r in records if r.stage == "active" and r.spec.strategy.enabled]
    limit = cfg.mev.max_concurrent_strategies
    if len(active) > limit:
        problems.append(layered.problem(("mev", "max_concurrent_strategies"), f"{len(active)} active strategies are enabled, more than {limit}"))
    return problems
