"""The engine's vocabulary: events in, actions out, and the three roles (after artemis).

Collectors produce events; strategies are I/O-free state machines turning events into actions;
executors perform actions. All amounts are integers in the token's smallest unit (wei).
"""

from __future__ import annotations

import time
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from typing import Protocol, Union


# -- events --------------------------------------------------------------------------------------
@dataclass(frozen=True)
class NewBlock:
    number: int
    hash: str
    timestamp: int
    base_fee: int
    received_at: float = field(default_factory=time.monotonic, compare=False)
    logs_bloom: str = field(default="", compare=False, repr=False)  # which addresses/topics may have logged


@dataclass(frozen=True)
class PoolSync:
    """A Uniswap-V2 ``Sync(reserve0, reserve1)`` log of a tracked pool."""

    pool: str
    reserve0: int
    reserve1: int
    block: int
    log_index: int
    tx_hash: str = ""
    received_at: float = field(default_factory=time.monotonic, compare=False)


@dataclass(frozen=True)
class PendingTx:
    hash: str
    to: str | None
    input: str
    sender: str
    gas_price: int
    received_at: float = field(default_factory=time.monotonic, compare=False)


Event = Union[NewBlock, PoolSync, PendingTx]


# -- actions -------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Hop:
    pool: str
    token_in: str
    token_out: str
    zero_for_one: bool
    fee_bps: int


@dataclass(frozen=True)
class ArbTrade:
    """Swap ``amount_in`` of ``token`` around ``hops`` and end with at least ``min_profit`` more."""

    strategy: str
    chain: str
    token: str
    hops: tuple[Hop, ...]
    amount_in: int
    expected_out: int
    expected_profit: int        # gross, in token units
    gas_cost: int               # estimated, in token units
    min_profit: int             # the contract reverts below this
    gas_limit: int
    max_fee_per_gas: int
    max_priority_fee_per_gas: int
    block: int
    id: str = field(default_factory=lambda: uuid.uuid4().hex)

    @property
    def net_profit(self) -> int:
        return self.expected_profit - self.gas_cost


Action = Union[ArbTrade]


@dataclass
class ExecutionResult:
    action_id: str
    status: str                 # sent | mined | reverted | simulated_fail | refused | paper | failed
    tx_hash: str | None = None
    block: int | None = None
    gas_used: int | None = None
    realized_profit: int | None = None
    reason: str = ""
    effective_gas_price: int | None = None


# -- roles ---------------------------------------------------------------------------------------
class Collector(Protocol):
    name: str

    def events(self) -> AsyncIterator[Event]: ...


class Strategy(Protocol):
    name: str

    def sync_state(self, snapshot: object) -> None: ...

    def process_event(self, event: Event) -> Sequence[Action]: ...


class Executor(Protocol):
    name: str

    async def execute(self, action: Action) -> ExecutionResult: ...
