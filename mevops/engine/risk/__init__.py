"""Risk limits and circuit breakers, wrapped around every executor.

``RiskLimitsView.from_config(cfg, strategy_files)`` flattens the limits; ``RiskManager`` decides
(``check``/``reserve``) and keeps the books (``release``/``settle``), with no I/O and an injected
clock; ``RiskCheckedExecutor`` wraps an executor so that nothing is sent that the manager refused.
"""

from mevops.engine.risk.breaker import CircuitBreaker
from mevops.engine.risk.executor import Pricing, RiskCheckedExecutor
from mevops.engine.risk.ledger import OpenTrade
from mevops.engine.risk.limits import DAY, HOUR, ChainView, Limit, RiskLimitsView, StrategyView
from mevops.engine.risk.manager import RiskManager, Settlement
from mevops.engine.risk.rules import Decision

__all__ = [
    "DAY", "HOUR", "ChainView", "CircuitBreaker", "Decision", "Limit", "OpenTrade", "Pricing", "RiskCheckedExecutor",
    "RiskLimitsView", "RiskManager", "Settlement", "StrategyView",
]
