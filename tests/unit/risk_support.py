"""Builders for the risk tests: a small effective config, strategy files and trades."""

from __future__ import annotations

import copy
from typing import Any

from mevops.config.models import EffectiveConfig
from mevops.config.units import USD_SCALE
from mevops.engine.risk import RiskManager
from mevops.engine.types import ArbTrade, Hop
from mevops.strategies.schema import StrategyFile

GWEI = 10**9
ETH = 10**18
USD = USD_SCALE

BASE_CONFIG: dict[str, Any] = {
    "global": {"environment": "test", "security": {"encryption_key_path": ".secrets/master.key"}},
    "mev": {
        "max_gas_price": "100 gwei",
        "min_profit_threshold": "0.001 ETH",
        "max_concurrent_strategies": 2,
        "risk_limits": {"max_daily_loss": "1000 USD", "max_position_size": "100000 USD"},
    },
    "mev_engine": {"engines": {"arb": {"strategy_types": ["arbitrage", "backrun", "liquidation"]}}},
    "risk_limits": {
        "global_limits": {
            "max_daily_loss": "500 USD", "max_hourly_loss": "200 USD", "max_position_size": "50000 USD",
            "max_total_exposure": "80000 USD", "max_gas_spend_daily": "1 ETH",
            "max_consecutive_failures": 3, "circuit_breaker_cooldown": "60s",
        },
        "strategy_limits": {
            "arbitrage": {"max_position_size": "40000 USD", "max_daily_loss": "300 USD", "max_hourly_loss": "150 USD",
                          "max_slippage": 0.01, "min_profit_ratio": 0.001},
            "backrun": {"max_position_size": "10000 USD", "max_daily_loss": "100 USD", "max_slippage": 0.01},
        },
        "chain_limits": {
            "ethereum": {"max_gas_price": "50 gwei", "max_priority_fee": "3 gwei", "max_position_size": "30000 USD",
                         "max_pending_transactions": 3},
            "arbitrum": {"max_gas_price": "200 gwei", "max_priority_fee": "1 gwei", "max_position_size": "25000 USD",
                         "max_pending_transactions": 3},
        },
    },
}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = copy.deepcopy(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


def make_config(**over: Any) -> EffectiveConfig:
    return EffectiveConfig.model_validate(merge(BASE_CONFIG, over))


def make_strategy(name: str = "arb1", kind: str = "arbitrage", chains: tuple[str, ...] = ("ethereum", "arbitrum"),
                  alerts: dict[str, Any] | None = None, **params: Any) -> StrategyFile:
    return StrategyFile.model_validate({
        "strategy": {"name": name, "type": kind, "risk_level": "low"},
        "parameters": {"chains": list(chains), "max_position_size": "20000 USD", **params},
        "execution": {"engine": "arb"},
        "monitoring": {"alerts": alerts or {}},
    })


DEFAULT_STRATEGIES = (make_strategy("arb1"), make_strategy("arb2", chains=("ethereum",)),
                      make_strategy("back1", "backrun", chains=("arbitrum",)))


def make_manager(strategies=DEFAULT_STRATEGIES, register: tuple[str, ...] = ("arb1",), **config: Any) -> RiskManager:
    risk = RiskManager.from_config(make_config(**config), strategies)
    for name in register:
        assert risk.register_strategy(name).allowed
    return risk


def make_trade(strategy: str = "arb1", chain: str = "ethereum", *, amount_in: int = 10 * ETH,
               expected_profit: int = 5 * ETH // 100, gas_cost: int = ETH // 1000, min_profit: int = 0,
               gas_limit: int = 300_000, max_fee: int = 20 * GWEI, priority: int = 1 * GWEI, **kw: Any) -> ArbTrade:
    hop = Hop("0xpool", "0xweth", "0xusdc", True, 30)
    return ArbTrade(strategy=strategy, chain=chain, token="0xweth", hops=(hop, hop), amount_in=amount_in,
                    expected_out=amount_in + expected_profit, expected_profit=expected_profit, gas_cost=gas_cost,
                    min_profit=min_profit, gas_limit=gas_limit, max_fee_per_gas=max_fee,
                    max_priority_fee_per_gas=priority, block=1, **kw)


def values(input_usd: float = 10_000, gas_usd: float = 10, now: float = 1_000_000.0, eth: bool = False) -> dict[str, Any]:
    """Keyword arguments of check/reserve, with dollars given as numbers for readability."""
    return {"usd_value_of_input": int(input_usd * USD), "usd_value_of_gas": int(gas_usd * USD), "now": now,
            "eth_denominated": eth}
