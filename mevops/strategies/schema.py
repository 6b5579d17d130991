"""The strategy file schema (``mev/strategies/<stage>/<type>/<name>.yml``)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from mevops.config.models import StrategyType
from mevops.config.types import (
    EthAmount,
    Fraction,
    FractionInclusive,
    GasPrice,
    Name,
    PositiveGasPrice,
    PositiveInt,
    PositiveSeconds,
    PositiveUsd,
    Strict,
    Usd,
)

MAX_GAS_LIMIT = 30_000_000


class StrategyHeader(Strict):
    name: Name
    type: StrategyType
    subtype: Name | None = None
    enabled: bool = False
    risk_level: Literal["low", "medium", "high"]
    description: str = ""
    owner: str = ""
    version: str = "1"


class FlashLoan(Strict):
    enabled: bool = False
    provider: Literal["aave_v3", "balancer", "uniswap_v2"] = "aave_v3"
    max_fee: Fraction = 0.0009


class Parameters(Strict):
    chains: list[Name] = Field(min_length=1)
    assets: list[str] = []
    dexes: list[Name] = []
    protocols: list[Name] = []
    max_hops: int = Field(3, ge=2, le=4)
    min_profit_threshold: Fraction = Field(0.0, description="minimum net profit as a fraction of the input")
    min_profit: EthAmount = 0
    safety_margin: Fraction = Field(0.0, description="haircut on simulated profit before deciding to send")
    max_position_size: PositiveUsd
    max_slippage: Fraction = 0.005
    gas_price_limit: PositiveGasPrice | None = None
    timeout: PositiveSeconds = 30
    health_factor_threshold: float = Field(1.0, gt=0, le=2)
    inventory: dict[Name, Usd] = Field(default_factory=dict, description="cross-chain: inventory per chain")
    rebalance_threshold: FractionInclusive | None = None
    flash_loan: FlashLoan = FlashLoan()

    @field_validator("chains", "assets")
    @classmethod
    def _unique(cls, items: list[str]) -> list[str]:
        if len(set(items)) != len(items):
            raise ValueError("lists an item twice")
        return items


class Execution(Strict):
    engine: Name
    mode: Literal["paper", "live"] = "paper"
    gas_limit: PositiveInt = Field(500_000, le=MAX_GAS_LIMIT)
    priority_fee: GasPrice = 0
    private_mempool: bool = True
    max_retries: int = Field(0, ge=0, le=10)
    simulate: bool = True


class Alerts(Strict):
    min_success_rate: FractionInclusive | None = None
    max_consecutive_failures: PositiveInt | None = None
    max_drawdown: Fraction | None = None


class Monitoring(Strict):
    alerts: Alerts = Alerts()
    metrics: list[Name] = []
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = "INFO"


class StrategyFile(Strict):
    strategy: StrategyHeader
    parameters: Parameters
    execution: Execution
    monitoring: Monitoring = Monitoring()
