"""A circuit breaker per strategy: N consecutive failures open it for a cooldown.

closed     trades pass; each failure counts, a success resets the count.
open       ``threshold`` consecutive failures happened; nothing passes until ``cooldown`` seconds
           after the latest failure (a failure while open, e.g. of a trade that was already in
           flight, restarts the cooldown).
half-open  the cooldown is over: exactly one probe trade may be in flight. Its success closes
           the breaker; its failure (or any other failure) opens it again.

Results of trades that were in flight when the breaker opened do not close it: only a probe's
success does. The clock is injected (``now``), there is no I/O.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

State = Literal["closed", "open", "half_open"]


@dataclass
class CircuitBreaker:
    threshold: int
    cooldown: float
    failures: int = 0
    opened_at: float | None = None
    probe: str | None = None

    def state(self, now: float) -> State:
        if self.opened_at is None:
            return "closed"
        return "open" if now < self.opened_at + self.cooldown else "half_open"

    def admits(self, now: float) -> bool:
        state = self.state(now)
        return state == "closed" or (state == "half_open" and self.probe is None)

    def reopens_at(self) -> float | None:
        return None if self.opened_at is None else self.opened_at + self.cooldown

    def on_reserve(self, trade_id: str, now: float) -> None:
        if self.state(now) == "half_open":
            self.probe = trade_id

    def on_release(self, trade_id: str) -> None:
        """The trade was never sent: a probe slot it held is free again."""
        if self.probe == trade_id:
            self.probe = None

    def on_result(self, trade_id: str, success: bool, now: float) -> None:
        was_probe = self.probe == trade_id
        if was_probe:
            self.probe = None
        if success:
            if self.opened_at is None or was_probe:
                self.failures = 0
                self.opened_at = None
            return
        self.failures += 1
        if self.failures >= self.threshold:
            self.opened_at = now
            self.probe = None
