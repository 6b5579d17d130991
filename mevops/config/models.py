"""The effective configuration's schema: ``config/global.yml`` and the files mounted beside it.

Mounts (see ``layering.MOUNTS``): config/global.yml → ``global``, ``chains``, ``mev``;
mev/config/global.yml → ``mev_engine``; mev/config/strategies.yml → ``strategy_policy``;
mev/config/risk-limits.yml → ``risk_limits``. Environment overrides and MEVOPS_* variables may
set any of them.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator

from mevops.catalog.models import Backend, NetworkKey, Role
from mevops.config.snapshot import EffectiveConfigMethods
from mevops.config.types import (
    EthAmount,
    Fraction,
    GasPrice,
    Millis,
    Name,
    Port,
    PositiveGasPrice,
    PositiveInt,
    PositiveSeconds,
    PositiveUsd,
    RateT,
    Seconds,
    Strict,
)
from mevops.strategies import STAGES  # noqa: F401  (re-exported; defined where pydantic is not imported)

Environment = Name
StrategyType = Literal["arbitrage", "liquidation", "backrun", "flash_loan", "sandwich_protection", "sandwich"]
STRATEGY_TYPES: tuple[str, ...] = StrategyType.__args__  # type: ignore[attr-defined]


# -- config/global.yml: global ---------------------------------------------------------------
class Tls(Strict):
    cert_path: str
    key_path: str


class Security(Strict):
    encryption_key_path: str = Field(description="key that decrypts mev/config/api-keys.enc (never committed)")
    api_rate_limits: dict[Name, RateT] = Field(default_factory=dict, description="per API scope, e.g. default: 1000/hour")
    tls: Tls | None = None
    allowed_origins: list[str] = []


class Networking(Strict):
    rpc_timeout: PositiveSeconds = 30
    websocket_timeout: PositiveSeconds = 60
    retry_attempts: int = Field(3, ge=0, le=100)
    retry_backoff: Millis = 500
    max_connections_per_endpoint: PositiveInt = 32


class Logging(Strict):
    level: Literal["DEBUG", "INFO", "WARNING", "ERROR", "CRITICAL"] = "INFO"
    format: Literal["json", "text"] = "json"
    rotation: str = Field("daily", pattern=r"^(hourly|daily|weekly|[0-9]+\s*[KMG]i?B)$")
    retention: PositiveSeconds = 30 * 86400
    audit_retention: PositiveSeconds = 365 * 86400

    @field_validator("level", mode="before")
    @classmethod
    def _upper(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class GlobalSection(Strict):
    environment: Environment
    security: Security
    networking: Networking = Networking()
    logging: Logging = Logging()


# -- config/global.yml: chains ---------------------------------------------------------------
class ChainSettings(Strict):
    enabled: bool = False
    networks: list[NetworkKey] = ["mainnet"]
    clients: dict[Role, Name] = Field(default_factory=dict, description="role → client; catalog defaults otherwise")
    backend: dict[NetworkKey, Backend] = Field(default_factory=dict, description="per network; catalog default otherwise")
    rpc_endpoints: dict[NetworkKey, list[str]] = Field(default_factory=dict, description="external RPCs (failover order)")

    @field_validator("networks")
    @classmethod
    def _unique(cls, networks: list[str]) -> list[str]:
        if len(set(networks)) != len(networks):
            raise ValueError("lists a network twice")
        return networks


# -- config/global.yml: mev ------------------------------------------------------------------
class RiskEnvelope(Strict):
    """The engine-wide ceiling; mev/config/risk-limits.yml must stay inside it."""

    max_daily_loss: PositiveUsd
    max_position_size: PositiveUsd
    max_drawdown: Fraction = 0.2
    emergency_stop_on_breach: bool = True


class MevSection(Strict):
    enabled: bool = False
    max_gas_price: PositiveGasPrice
    min_profit_threshold: EthAmount
    max_concurrent_strategies: PositiveInt = 10
    risk_limits: RiskEnvelope


# -- mev/config/risk-limits.yml ----------------------------------------------------------------
class GlobalLimits(Strict):
    max_daily_loss: PositiveUsd
    max_hourly_loss: PositiveUsd
    max_position_size: PositiveUsd
    max_total_exposure: PositiveUsd
    max_gas_spend_daily: EthAmount
    max_consecutive_failures: PositiveInt = 5
    circuit_breaker_cooldown: PositiveSeconds = 300


class StrategyLimits(Strict):
    max_position_size: PositiveUsd
    max_daily_loss: PositiveUsd
    max_hourly_loss: PositiveUsd | None = None
    max_slippage: Fraction
    min_profit_ratio: Fraction = 0.0
    safety_margin: Fraction = 0.0
    max_gas_price: GasPrice | None = None


class ChainLimits(Strict):
    max_gas_price: PositiveGasPrice
    max_priority_fee: GasPrice
    max_position_size: PositiveUsd
    max_pending_transactions: PositiveInt = 4


class RiskLimits(Strict):
    global_limits: GlobalLimits
    strategy_limits: dict[StrategyType, StrategyLimits] = {}
    chain_limits: dict[Name, ChainLimits] = {}


# -- mev/config/global.yml ----------------------------------------------------------------------
class EngineDef(Strict):
    description: str = ""
    strategy_types: list[StrategyType]
    queue_size: PositiveInt = 1024
    max_actions_per_block: PositiveInt = 8


class Simulation(Strict):
    backend: Literal["revm", "eth_call", "anvil_fork"] = "revm"
    required: bool = Field(True, description="simulation failure means no send")
    timeout: Millis = 200


class Relay(Strict):
    url: str = Field(pattern=r"^https?://")
    chains: list[Name]


class Store(Strict):
    url: str = Field("sqlite:///mev/data/engine.db", description="SQLAlchemy URL; sqlite by default, postgresql in production")


class Api(Strict):
    host: str = "127.0.0.1"
    port: Port = 8080


class MevEngine(Strict):
    engines: dict[Name, EngineDef]
    simulation: Simulation = Simulation()
    relays: dict[Name, Relay] = {}
    store: Store = Store()
    api: Api = Api()


# -- mev/config/strategies.yml ------------------------------------------------------------------
class Promotion(Strict):
    min_paper_trades: int = Field(20, ge=0)
    require_positive_pnl: bool = True
    min_time_in_testing: Seconds = 86400


class StrategyDefaults(Strict):
    gas_limit: PositiveInt | None = None
    timeout: PositiveSeconds | None = None
    max_slippage: Fraction | None = None


class StrategyPolicy(Strict):
    promotion: Promotion = Promotion()
    defaults: dict[StrategyType, StrategyDefaults] = {}


# -- the effective configuration ------------------------------------------------------------
class EffectiveConfig(EffectiveConfigMethods, Strict):
    global_: GlobalSection = Field(alias="global")
    chains: dict[Name, ChainSettings] = {}
    mev: MevSection
    mev_engine: MevEngine
    strategy_policy: StrategyPolicy = StrategyPolicy()
    risk_limits: RiskLimits


from mevops.config.marker import WorkspaceMarker  # noqa: E402,F401  (re-exported)
